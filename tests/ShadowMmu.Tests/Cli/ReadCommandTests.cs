using System;
using System.IO;
using System.Linq;
using ShadowMmu.Dumps;
using ShadowMmu.Tests.Dumps;
using Xunit;

namespace ShadowMmu.Tests.Cli;

/// <summary>
/// <c>read</c>: bytes through the translation, across pages and page sizes; what is not mapped is said so, never read
/// as zeros. The multiboot guest maps its data pages (0x300000: 4 random pages, then pages of one repeated byte) at
/// 0x800000 through a page table, and the first 16 MiB with 2 MiB pages.
/// </summary>
public class ReadCommandTests
{
    private static byte[] Physical(string guest, ulong pa, int length)
    {
        using MemoryDump dump = MemoryDump.Open(DumpFixtures.Path(guest, "raw"));
        byte[] bytes = new byte[length];
        dump.Memory.Read(pa, bytes);
        return bytes;
    }

    [Theory]
    [InlineData("long4", "elf")]
    [InlineData("pae", "kdump-zlib")]
    [InlineData("legacy32", "kdump-lzo-flat")]
    public void A_range_across_pages_reads_the_frames_they_map(string guest, string format)
    {
        string file = DumpFixtures.NewFile("out.bin");

        // 0x801f00..0x803100: three 4 KiB pages of the page table, mapped to 0x301f00..0x303100.
        CliResult result = CliHarness.Run("read", "--image", DumpFixtures.Path(guest, format), "0x801f00", "0x1200", "-o", file);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Stderr);
        Assert.Equal(Physical(guest, 0x30_1f00, 0x1200), File.ReadAllBytes(file));
    }

    [Fact]
    public void A_large_page_and_the_next_one_read_through()
    {
        string file = DumpFixtures.NewFile("large.bin");

        // 0x3ff000..0x401000 crosses from one 2 MiB page to the next (identity-mapped).
        Assert.Equal(0, CliHarness.Run("read", "--image", DumpFixtures.Path("long4", "elf"), "0x3ff000", "0x2000", "-o", file).ExitCode);
        Assert.Equal(Physical("long4", 0x3f_f000, 0x2000), File.ReadAllBytes(file));
    }

    [Fact]
    public void The_hexdump_is_hexdump_C_with_linear_addresses_and_says_where_nothing_is_mapped()
    {
        CliResult result = CliHarness.Run("read", "--image", DumpFixtures.Path("long4", "elf"), "0x82eff8", "0x1010");

        // A short first line up to the 16-byte boundary, then whole lines; the repeated ones as '*'.
        byte[] page = Physical("long4", 0x32_eff8, 8);
        string first = "000000000082eff8  " + string.Join(' ', page.Select(b => b.ToString("x2"))) + "  ";
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith(first, result.Lines[0], StringComparison.Ordinal);
        Assert.Equal("000000000082f000  0f 0f 0f 0f 0f 0f 0f 0f  0f 0f 0f 0f 0f 0f 0f 0f  |................|", result.Lines[1]);
        Assert.Equal("*", result.Lines[2]);
        Assert.Equal("0000000000830000  -- 0x830000-0x830008 (8 bytes): not mapped: #PF at level 1 (the PTE at 0x203180 holds 0x0) --", result.Lines[3]);
        Assert.Equal("0000000000830008", result.Lines[4]);
    }

    [Fact]
    public void A_raw_copy_gets_zeros_where_nothing_is_mapped_and_stderr_lists_them()
    {
        string file = DumpFixtures.NewFile("gap.bin");

        CliResult result = CliHarness.Run("read", "--image", DumpFixtures.Path("long4", "elf"), "0x82f000", "0x2000", "-o", file);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("shadowmmu: 0x830000-0x831000 (4 KiB) written as zeros: not mapped: #PF at level 1 (the PTE at 0x203180 holds 0x0)\n", result.Stderr);
        byte[] bytes = File.ReadAllBytes(file);
        Assert.Equal(Physical("long4", 0x32_f000, 0x1000), bytes[..0x1000]);
        Assert.All(bytes[0x1000..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_frame_the_dump_does_not_hold_is_said_so()
    {
        // A LiME dump of the first MiB, whose tables map one page to a frame at 2 MiB (not in the dump) and the next
        // to one inside it.
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == "long4");
        using GuestMemory memory = GuestMemory.Allocate(0x10_0000);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x8000);
        builder.Map(0x40_0000, 0x20_0000, 0x1000, 0x7);
        builder.Map(0x40_1000, 0x9000, 0x1000, 0x7);
        memory.WriteEntry(0x9000, 0x1122334455667788, 8);
        byte[] bytes = new byte[0x10_0000];
        memory.Read(0, bytes);
        string lime = DumpFixtures.NewFile("partial.lime");
        File.WriteAllBytes(lime, DumpWriters.Lime(new[] { new DumpWriters.Range(0, bytes) }));

        CliResult result = CliHarness.Run("read", "--image", lime, "--cr3", $"0x{builder.Root:x}", "--cr4", "0x20", "--efer", "0xd00", "0x400ff8", "0x10");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            new[]
            {
                "0000000000400ff8  -- 0x400ff8-0x401000 (8 bytes): physical 0x200000 is not in the dump --",
                "0000000000401000  88 77 66 55 44 33 22 11                           |.wfUD3\".|",
                "0000000000401008",
            },
            result.Lines);
    }

    [Fact]
    public void Bad_input_is_one_line_and_exit_code_2()
    {
        string elf = DumpFixtures.Path("long4", "elf");
        CliHarness.Run("read", "--image", elf, "0x800000").AssertUsageError("Required argument missing");
        CliHarness.Run("read", "--image", elf, "0x800000", "lots").AssertUsageError("LENGTH: 'lots' is not a number");
        CliHarness.Run("read", "--image", elf, "0x800000", "0x10000000").AssertUsageError("use -o FILE");
        CliHarness.Run("read", "--image", elf, "0xffffffffffffff00", "0x1000").AssertUsageError("runs past the end");
        CliHarness.Run("read", "0x800000", "16").AssertUsageError("--image is required");
        CliHarness.Run("read", "--image", elf, "--cpl", "3", "0x800000", "16").AssertUsageError("'--cpl'");
        CliHarness.Run("read", "--image", elf, "0x800000", "--bogus", "16").AssertUsageError("'--bogus'");
    }
}
