using System;
using System.IO;
using System.Linq;
using Xunit;
using static ShadowMmu.Tests.Cli.TestImage;

namespace ShadowMmu.Tests.Cli;

/// <summary><c>shadowmmu translate --image FILE --cr3 X ... VA...</c>: one result per address, for people.</summary>
public sealed class TranslateSingleTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly TestImage _image;

    public TranslateSingleTests()
    {
        _image = BuildLong4(_dir.File("mem.bin"));
    }

    public void Dispose() => _dir.Dispose();

    private CliResult Translate(params string[] tail) =>
        CliHarness.Run(new[] { "translate", "--image", _image.Path, "--cr3", "0x1000", "--cr4", Long4.Cr4, "--efer", Long4.Efer }.Concat(tail).ToArray());

    [Fact]
    public void TranslatedAddressPrintsThePhysicalAddressAndTheAccessedFlagsItSets()
    {
        CliResult result = Translate("0x7fff0123");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Stderr);
        string[] lines = result.Lines;
        Assert.Equal("0x7fff0123 -> 0x123123 (4 KiB page, long4, user rwx)", lines[0]);
        Assert.Equal(
            new[]
            {
                $"    sets A in the PML4E at 0x{_image.EntryGpa(Long4.UserRw, 4):x}: 0x{_image.Entry(_image.EntryGpa(Long4.UserRw, 4)):x} -> 0x{_image.Entry(_image.EntryGpa(Long4.UserRw, 4)) | 0x20:x}",
                $"    sets A in the PDPTE at 0x{_image.EntryGpa(Long4.UserRw, 3):x}: 0x{_image.Entry(_image.EntryGpa(Long4.UserRw, 3)):x} -> 0x{_image.Entry(_image.EntryGpa(Long4.UserRw, 3)) | 0x20:x}",
                $"    sets A in the PDE at 0x{_image.EntryGpa(Long4.UserRw, 2):x}: 0x{_image.Entry(_image.EntryGpa(Long4.UserRw, 2)):x} -> 0x{_image.Entry(_image.EntryGpa(Long4.UserRw, 2)) | 0x20:x}",
                $"    sets A in the PTE at 0x{_image.EntryGpa(Long4.UserRw, 1):x}: 0x123007 -> 0x123027",
            },
            lines[1..]);
    }

    [Fact]
    public void WriteSetsDirtyAndLargePagesSayTheirSize()
    {
        CliResult result = Translate("--access", "write", "--cpl", "3", "0x7fff0123", "0x40012345");

        Assert.Equal(0, result.ExitCode);
        string[] results = result.Lines.Where(l => !l.StartsWith(' ')).ToArray();
        Assert.Equal(new[] { "0x7fff0123 -> 0x123123 (4 KiB page, long4, user rwx)", "0x40012345 -> 0x212345 (2 MiB page, long4, user rwx)" }, results);
        Assert.Contains("    sets A D in the PTE at 0x" + _image.EntryGpa(Long4.UserRw, 1).ToString("x") + ": 0x123007 -> 0x123067", result.Lines);
        Assert.Contains("    sets A D in the PDE at 0x" + _image.EntryGpa(Long4.Large, 2).ToString("x") + ": 0x200087 -> 0x2000e7", result.Lines);
    }

    [Fact]
    public void PageFaultIsAResultWithItsErrorCode()
    {
        CliResult result = Translate("--cpl", "3", "--access", "write", "0x7fff1000");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Stderr);
        Assert.Equal(
            new[] { "0x7fff1000: #PF error code 0x7 (P W U) at level 1 (long4)", $"    the PTE at 0x{_image.EntryGpa(Long4.UserRo, 1):x} holds 0x124005" },
            result.Lines);
    }

    [Fact]
    public void NotPresentAndNoExecuteFaults()
    {
        CliResult result = Translate("--cpl", "3", "--access", "fetch", "0x7fff3000", "0x7fff2000");

        Assert.Equal(0, result.ExitCode);
        string[] results = result.Lines.Where(l => !l.StartsWith(' ')).ToArray();
        Assert.Equal(
            new[] { "0x7fff3000: #PF error code 0x14 (U I) at level 1 (long4)", "0x7fff2000: #PF error code 0x15 (P U I) at level 1 (long4)" },
            results);
    }

    [Fact]
    public void NonCanonicalAddressIsAGeneralProtectionFault()
    {
        CliResult result = Translate("0x800000000000");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(new[] { "0x800000000000: #GP(0) (non-canonical address, long4)" }, result.Lines);
    }

    [Fact]
    public void PaeWithAFaultingPdpteLoadIsAGeneralProtectionFault()
    {
        // The long4 tables read as PDPTEs: 0x...007 has R/W and U/S set, which are reserved in a PAE PDPTE; --strict-pae
        // loads them as the SDM's MOV to CR3 does (by default those flag bits are ignored: see TranslatePaeRegistersTests).
        CliResult result = CliHarness.Run("translate", "--image", _image.Path, "--strict-pae", "--cr3", "0x1000", "--cr4", "0x20", "0x7fff0000", "0x1000");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(2, result.Lines.Length);
        Assert.All(result.Lines, line => Assert.Contains(": #GP(0) (loading the PDPTE registers from CR3 faulted", line, StringComparison.Ordinal));
    }

    [Fact]
    public void DecimalAddressesAndOneResultPerAddressInOrder()
    {
        CliResult result = Translate(Convert.ToString((long)Long4.UserRw, 10), "0xFFFFFFFF80000000", "0x7fff3000");

        Assert.Equal(0, result.ExitCode);
        string[] results = result.Lines.Where(l => !l.StartsWith(' ')).ToArray();
        Assert.Equal(3, results.Length);
        Assert.StartsWith("0x7fff0000 -> 0x123000 ", results[0], StringComparison.Ordinal);
        Assert.Equal("0xffffffff80000000 -> 0x126000 (4 KiB page, long4, supervisor rwx)", results[1]);
        Assert.StartsWith("0x7fff3000: #PF error code 0x0 ", results[2], StringComparison.Ordinal);
    }

    [Fact]
    public void EachAddressStartsFromTheImageAsOnDisk()
    {
        // The same address twice: the second walk sees the entries without the first walk's A flags.
        CliResult result = Translate("0x7fff0000", "0x7fff0000");

        string[] lines = result.Lines;
        Assert.Equal(10, lines.Length);
        Assert.Equal(lines[..5], lines[5..]);
    }

    [Fact]
    public void ImageFileIsNotWritten()
    {
        string before = Sha256(_image.Path);
        DateTime written = File.GetLastWriteTimeUtc(_image.Path);

        Assert.Equal(0, Translate("--access", "write", "0x7fff0000", "0x40000000").ExitCode);

        Assert.Equal(before, Sha256(_image.Path));
        Assert.Equal(written, File.GetLastWriteTimeUtc(_image.Path));
    }

    [Fact]
    public void SupervisorWithSmapFaultsOnUserPagesUnlessAcIsSet()
    {
        string[] smap = { "translate", "--image", _image.Path, "--cr3", "0x1000", "--cr4", "0x200020", "--efer", "0xd00" };

        Assert.StartsWith("0x7fff0000: #PF error code 0x1 (P) ", CliHarness.Run(smap.Append("0x7fff0000").ToArray()).Lines[0], StringComparison.Ordinal);
        Assert.StartsWith("0x7fff0000 -> 0x123000 ", CliHarness.Run(smap.Append("--ac").Append("0x7fff0000").ToArray()).Lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void TranslationsOfALegacy32Image()
    {
        TestImage image = Build(_dir.File("legacy32.bin"), "legacy32", (b, _) =>
        {
            b.Map(0x0804_8000, 0x10_0000, 0x1000, User | Writable);
            b.Map(0xC040_0000, 0, 0x40_0000, Writable);
        });

        CliResult result = CliHarness.Run("translate", "--image", image.Path, "--cr3", "0x1000", "--cr4", "0x10", "0x8048010", "0xc0412345");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
            new[] { "0x8048010 -> 0x100010 (4 KiB page, legacy32, user rwx)", "0xc0412345 -> 0x12345 (4 MiB page, legacy32, supervisor rwx)" },
            result.Lines.Where(l => !l.StartsWith(' ')).ToArray());
    }
}
