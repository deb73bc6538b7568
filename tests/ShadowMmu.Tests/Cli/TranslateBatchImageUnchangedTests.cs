using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using ShadowMmu.Cli;
using Xunit;

namespace ShadowMmu.Tests.Cli;

/// <summary>
/// Every case of a batch starts from the image as it is on disk, whatever the cases before it did: here a PAE guest
/// walked through EPT with A/D flags, whose PDPTE registers are loaded through EPT when its walker is built (found by
/// the batch's differential test, where answers depended on the order cases were walked in).
/// </summary>
public sealed class TranslateBatchImageUnchangedTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_PAE_guest_under_EPT_leaves_no_accessed_flag_for_the_next_case()
    {
        using (GuestMemory memory = GuestMemory.Allocate(ExampleImage.Size))
        {
            ExampleLayout layout = ExampleImage.Build(memory, "ept4");
            Assert.NotEqual(0UL, layout.Cpu.Eptp & EptPointer.AccessedDirty);
            byte[] bytes = new byte[memory.Size];
            memory.Read(0, bytes);
            File.WriteAllBytes(_dir.File("ept.bin"), bytes);
        }

        // The example's 4-level guest read as PAE (EFER.LME clear): its first PML4 entries are the PDPT.
        const string Probe = "{\"image\": \"ept.bin\", \"cr3\": \"0x80000\", \"cr4\": \"0x20\", \"efer\": \"0xd00\", \"eptp\": \"0x105e\", \"va\": \"0x7fff0000\"}";
        const string Pae = "{\"image\": \"ept.bin\", \"cr3\": \"0x80000\", \"cr4\": \"0x20\", \"efer\": \"0x800\", \"eptp\": \"0x105e\", \"va\": \"0x8048000\"}";
        File.WriteAllLines(_dir.File("cases.jsonl"), new[] { Probe, Pae, Probe });

        string[] answers = CliHarness.Run("translate", "--batch", _dir.File("cases.jsonl")).Lines;

        Assert.Equal("pae", JsonDocument.Parse(answers[1]).RootElement.GetProperty("guest_mode").GetString());
        Assert.Contains(JsonDocument.Parse(answers[0]).RootElement.GetProperty("pte_updates").EnumerateArray(), u => u.GetProperty("table").GetString() == "ept");
        Assert.Equal(answers[0], answers[2]);
    }
}
