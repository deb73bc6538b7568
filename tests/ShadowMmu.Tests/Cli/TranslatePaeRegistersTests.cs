using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;
using static ShadowMmu.Tests.Cli.TestImage;

namespace ShadowMmu.Tests.Cli;

/// <summary>
/// PAE from an image (issue 15): a memory image carries no PDPTE registers, and QEMU's TCG sets bit 5 in the PDPTEs
/// it walks after the registers were loaded. By default the tool reads the image's PDPTEs as the registers held them
/// (reserved flag bits ignored, and says so); <c>--strict-pae</c> is the SDM's load; <c>--pdptes</c> gives the registers.
/// </summary>
public sealed class TranslatePaeRegistersTests : IDisposable
{
    private const ulong Va = 0x0804_8123;
    private const ulong Other = 0xC000_0000;
    private readonly TempDir _dir = new();
    private readonly TestImage _image;
    private readonly ulong _pdpte0;

    public TranslatePaeRegistersTests()
    {
        // A PAE guest as QEMU leaves it: the PDPTE of a walked quarter has the accessed flag (bit 5, reserved in a PDPTE).
        ulong pdpteAddress = 0;
        _image = Build(_dir.File("pae.bin"), "pae", (b, memory) =>
        {
            b.Map(Va & ~0xFFFUL, 0x10_0000, 0x1000, User | Writable);
            b.Map(Other, 0x11_0000, 0x1000, Writable);
            pdpteAddress = b.Root;
            memory.WriteEntry(pdpteAddress, memory.ReadEntry(pdpteAddress, 8) | 0x20, 8);
        });
        _pdpte0 = _image.Entry(pdpteAddress);
    }

    public void Dispose() => _dir.Dispose();

    private string[] Registers => new[] { "--cr3", $"0x{_image.Cr3:x}", "--cr4", "0x20", "--efer", "0x800" };

    [Fact]
    public void By_default_the_image_PDPTEs_are_read_as_the_registers_held_them_and_a_note_says_so()
    {
        CliResult result = CliHarness.Run(new[] { "translate", "--image", _image.Path }.Concat(Registers).Append($"0x{Va:x}").ToArray());

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("note: PAE's PDPTE registers are the image's PDPTEs read without reserved bits 0x20", result.Lines[0], StringComparison.Ordinal);
        Assert.StartsWith("0x8048123 -> 0x100123 (4 KiB page, pae, user rwx)", result.Lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Strict_pae_is_the_SDM_load_and_its_GP()
    {
        CliResult result = CliHarness.Run(new[] { "translate", "--image", _image.Path, "--strict-pae" }.Concat(Registers).Append($"0x{Va:x}").ToArray());

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(new[] { "0x8048123: #GP(0) (loading the PDPTE registers from CR3 faulted: a present PDPTE has a reserved bit set, pae)" }, result.Lines);
    }

    [Fact]
    public void Given_PDPTEs_are_the_registers()
    {
        // Quarter 0 given as not present: the user page is gone; quarter 3 as the image has it.
        ulong pdpte3 = _image.Entry(_image.Cr3 + 24);
        string given = $"0x0,0x0,0x0,0x{pdpte3:x}";

        CliResult result = CliHarness.Run(new[] { "translate", "--image", _image.Path, "--pdptes", given }.Concat(Registers).Append($"0x{Va:x}").Append($"0x{Other:x}").ToArray());

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("0x8048123: #PF error code 0x0 (none) at level 3 (pae)", result.Lines[0]);
        Assert.Contains(result.Lines, l => l.StartsWith("0xc0000000 -> 0x110000 (4 KiB page, pae, supervisor rw", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Lines, l => l.StartsWith("note:", StringComparison.Ordinal));
    }

    [Fact]
    public void The_batch_answer_names_the_registers_and_the_bits_ignored()
    {
        File.WriteAllText(_dir.File("cases.jsonl"), string.Join('\n',
            $"{{\"image\": \"pae.bin\", \"cr3\": \"0x{_image.Cr3:x}\", \"cr4\": \"0x20\", \"va\": \"0x{Va:x}\"}}",
            $"{{\"image\": \"pae.bin\", \"cr3\": \"0x{_image.Cr3:x}\", \"cr4\": \"0x20\", \"va\": \"0x{Va:x}\", \"strict_pae\": true}}",
            $"{{\"image\": \"pae.bin\", \"cr3\": \"0x{_image.Cr3:x}\", \"cr4\": \"0x20\", \"va\": \"0x{Va:x}\", \"pdptes\": [\"0x{_pdpte0 & ~0x20UL:x}\", 0, 0, 0]}}") + "\n");

        string[] lines = CliHarness.Run("translate", "--batch", _dir.File("cases.jsonl")).Lines;

        JsonElement lenient = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal("0x100123", lenient.GetProperty("pa").GetString());
        Assert.Equal("0x20", lenient.GetProperty("pdpte_ignored_bits").GetString());
        Assert.Equal($"0x{_pdpte0 & ~0x20UL:x}", lenient.GetProperty("pdptes")[0].GetString());
        JsonElement strict = JsonDocument.Parse(lines[1]).RootElement;
        Assert.Equal("GP", strict.GetProperty("exception").GetString());
        Assert.Equal(JsonValueKind.Null, strict.GetProperty("pdpte_ignored_bits").ValueKind);
        Assert.Equal($"0x{_pdpte0:x}", strict.GetProperty("pdptes")[0].GetString());
        JsonElement given = JsonDocument.Parse(lines[2]).RootElement;
        Assert.Equal("0x100123", given.GetProperty("pa").GetString());
        Assert.Equal("0x0", given.GetProperty("pdptes")[3].GetString());
    }

    [Theory]
    [InlineData("--pdptes 1,2,3", "--pdptes: '1,2,3' is not four PDPTEs (give A,B,C,D)")]
    [InlineData("--pdptes 1,2,3,0x1_0000_0000_0000_0000", "--pdptes: PDPTE 3: '0x1_0000_0000_0000_0000' is too big for 64 bits")]
    [InlineData("--pdptes 0,0,0,0 --strict-pae", "give either --pdptes or --strict-pae")]
    public void Bad_register_options_are_one_line_and_exit_code_2(string options, string message)
    {
        CliResult result = CliHarness.Run(new[] { "translate", "--image", _image.Path }.Concat(options.Split(' ')).Concat(Registers).Append("0x0").ToArray());

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, Assert.Single(result.Stderr.TrimEnd('\n').Split('\n')), StringComparison.Ordinal);
    }
}
