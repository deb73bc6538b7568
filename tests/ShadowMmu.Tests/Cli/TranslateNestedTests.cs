using System;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace ShadowMmu.Tests.Cli;

/// <summary>
/// <c>shadowmmu translate --image FILE --eptp X --cr3 X ... VA</c>: the two-dimensional walk, on an image where the
/// guest's tables sit at guest-physical X = host-physical X + 2 MiB (ept4 with 4 KiB pages).
/// </summary>
public sealed class TranslateNestedTests : IDisposable
{
    private const ulong Offset = 0x20_0000;
    private const ulong Va = 0x7FFF_0123;
    private const ulong DataGpa = 0x10_0000;
    private readonly TempDir _dir = new();
    private readonly string _image;
    private readonly ulong _eptRoot;
    private readonly ulong _guestRoot;
    private readonly ulong _guestPte;

    public TranslateNestedTests()
    {
        using GuestMemory host = GuestMemory.Allocate(0x40_0000);
        using (GuestMemory guest = GuestMemory.Allocate(Offset))
        {
            var builder = new PageTableBuilder(guest, PagingModes.All.Single(m => m.Name == "long4"), 0x1000, 0x10_0000);
            _guestPte = builder.Map(Va & ~0xFFFUL, DataGpa, 0x1000, 0x7);
            builder.Map(0x7FFF_1000, DataGpa + 0x1000, 0x1000, 0x7);
            _guestRoot = builder.Root;
            var bytes = new byte[Offset];
            guest.Read(0, bytes);
            host.Write(Offset, bytes);
        }

        // EPT: guest-physical [0, 2 MiB) at host-physical [2 MiB, 4 MiB), RWX write-back, except the data page of
        // 0x7fff1000 (GPA 0x101000), left out.
        var ept = new PageTableBuilder(host, PagingModes.All.Single(m => m.Name == "ept4"), 0x1000, 0x10_0000);
        for (ulong gpa = 0; gpa < Offset; gpa += 0x1000)
        {
            if (gpa != DataGpa + 0x1000)
            {
                ept.Map(gpa, gpa + Offset, 0x1000, 0x37);
            }
        }

        _eptRoot = ept.Root;
        _image = _dir.File("nested.bin");
        var image = new byte[0x40_0000];
        host.Read(0, image);
        System.IO.File.WriteAllBytes(_image, image);
    }

    public void Dispose() => _dir.Dispose();

    private string Eptp => "0x" + EptPointer.Make(_eptRoot, 4).ToString("x");

    private CliResult Translate(params string[] tail) => CliHarness.Run(new[]
    {
        "translate", "--image", _image, "--eptp", Eptp, "--cr3", "0x" + _guestRoot.ToString("x"), "--cr4", "0x20", "--efer", "0xd00",
    }.Concat(tail).ToArray());

    [Fact]
    public void A_linear_address_translates_through_both_dimensions()
    {
        CliResult result = Translate("--cpl", "3", "0x7fff0123");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal($"0x7fff0123 -> 0x100123 -> 0x300123 (4 KiB page, long4 through ept4, user rwx; EPT rwx, WB)", result.Lines[0]);
        Assert.Contains($"    sets A in the guest's PTE at 0x{_guestPte:x}: 0x{DataGpa | 0x7:x} -> 0x{DataGpa | 0x27:x}", result.Lines);
    }

    [Fact]
    public void A_data_page_EPT_leaves_out_is_an_EPT_violation_on_the_final_address()
    {
        CliResult result = Translate("--cpl", "3", "--access", "write", "0x7fff1000");

        Assert.Equal(0, result.ExitCode);
        // Write (bit 1), not present (rights 0), linear valid (7), final (8), guest user (9) and writable (10).
        Assert.StartsWith("0x7fff1000: EPT violation, exit qualification 0x782 (write; allowed nothing (not present); linear address valid, final translation) translating the final address 0x101000 at EPT level 1 (long4 through ept4)", result.Lines[0]);
    }

    [Fact]
    public void Batch_reports_which_dimension_faulted()
    {
        // EPT A/D flags on, so that EPT entries are updated too.
        string eptp = "0x" + EptPointer.Make(_eptRoot, 4, accessedDirty: true).ToString("x");
        string common = $"\"image\": \"nested.bin\", \"eptp\": \"{eptp}\", \"cr3\": \"0x{_guestRoot:x}\", \"cr4\": \"0x20\", \"efer\": \"0xd00\", \"cpl\": 3";
        System.IO.File.WriteAllText(_dir.File("cases.jsonl"), string.Join('\n',
            "{" + common + ", \"va\": \"0x7fff0123\"}",
            "{" + common + ", \"va\": \"0x7fff1000\"}",
            "{" + common + ", \"va\": \"0x7fff2000\"}") + "\n");

        JsonElement[] answers = CliHarness.Run("translate", "--batch", _dir.File("cases.jsonl")).Lines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();

        Assert.Equal("0x300123", answers[0].GetProperty("hpa").GetString());
        Assert.Equal("0x100123", answers[0].GetProperty("gpa").GetString());
        Assert.Equal("ept4", answers[0].GetProperty("mode").GetString());
        Assert.Equal("long4", answers[0].GetProperty("guest_mode").GetString());
        Assert.Contains(answers[0].GetProperty("pte_updates").EnumerateArray(), u => u.GetProperty("table").GetString() == "guest");
        Assert.Contains(answers[0].GetProperty("pte_updates").EnumerateArray(), u => u.GetProperty("table").GetString() == "ept");

        Assert.Equal("ept", answers[1].GetProperty("dimension").GetString());
        Assert.Equal("ept_violation", answers[1].GetProperty("exit").GetString());
        Assert.Equal("0x101000", answers[1].GetProperty("fault_gpa").GetString());
        Assert.False(answers[1].GetProperty("ept_on_guest_table").GetBoolean());

        Assert.Equal("guest", answers[2].GetProperty("dimension").GetString());
        Assert.Equal("PF", answers[2].GetProperty("exception").GetString());
        Assert.Equal(JsonValueKind.Null, answers[2].GetProperty("exit").ValueKind);
    }

    [Fact]
    public void The_image_is_never_written()
    {
        string before = TestImage.Sha256(_image);
        Translate("--access", "write", "0x7fff0123", "0x7fff1000");
        Assert.Equal(before, TestImage.Sha256(_image));
    }
}
