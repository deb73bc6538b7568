using System;
using System.Linq;
using System.Text.Json;
using ShadowMmu.Tests.Dumps;
using Xunit;

namespace ShadowMmu.Tests.Cli;

/// <summary>
/// <c>maps</c> on QEMU's dumps of the multiboot guest (tests/fixtures/dumps/guest.S builds its tables): the address
/// space as guest.S writes it, the same from every dump format, in QEMU's own <c>info tlb</c> and <c>info mem</c> formats.
/// </summary>
public class MapsCommandTests
{
    // guest.S, 4-level: PML4[0] -> PDPT -> PD: 2 MiB pages for 0..16 MiB except PD[4] (8 MiB), which is a page table
    // mapping 48 pages from 0x300000 (user); PML4[511] (supervisor) -> PDPT[510] -> the same PD at 0xffffffff80000000.
    private static readonly string[] Long4Table =
    {
        "long4 (4-level paging), CR3 0x200000:",
        "linear start       end                       size     physical        rights         pages",
        "0x0000000000000000-0x0000000000800000      8 MiB  -> 0x0             supervisor rwx 4 x 2 MiB",
        "0x0000000000800000-0x0000000000830000    192 KiB  -> 0x300000        user rwx       48 x 4 KiB",
        "0x0000000000a00000-0x0000000001000000      6 MiB  -> 0xa00000        supervisor rwx 3 x 2 MiB",
        "0xffffffff80000000-0xffffffff80800000      8 MiB  -> 0x0             supervisor rwx 4 x 2 MiB",
        "0xffffffff80800000-0xffffffff80830000    192 KiB  -> 0x300000        supervisor rwx 48 x 4 KiB",
        "0xffffffff80a00000-0xffffffff81000000      6 MiB  -> 0xa00000        supervisor rwx 3 x 2 MiB",
        "110 pages (28.4 MiB) in 6 runs",
    };

    // What QEMU's mem_info_la48 prints for those tables: U/S and R/W ANDed over the levels, runs of the same.
    private static readonly string[] Long4Mem =
    {
        "0000000000000000-0000000000800000 0000000000800000 -rw",
        "0000000000800000-0000000000830000 0000000000030000 urw",
        "0000000000a00000-0000000001000000 0000000000600000 -rw",
        "ffffffff80000000-ffffffff80830000 0000000000830000 -rw",
        "ffffffff80a00000-ffffffff81000000 0000000000600000 -rw",
    };

    public static TheoryData<string> Formats => new(DumpFixtures.KdumpFormats.Append("elf"));

    [Theory]
    [MemberData(nameof(Formats))]
    public void The_address_space_is_the_one_guest_S_builds_in_every_format(string format)
    {
        CliResult table = CliHarness.Run("maps", "--image", DumpFixtures.Path("long4", format));
        CliResult mem = CliHarness.Run("maps", "--image", DumpFixtures.Path("long4", format), "--format", "mem");

        Assert.Equal(0, table.ExitCode);
        Assert.Equal(Long4Table, table.Lines);
        Assert.Equal(Long4Mem, mem.Lines);
    }

    [Fact]
    public void Tlb_lines_are_QEMUs_format_one_per_page_with_the_leaf_flags()
    {
        string[] raw = CliHarness.Run("maps", "--image", DumpFixtures.Path("long4", "raw"), "--cr3", "0x200000", "--cr4", "0xa0", "--efer", "0xd00", "--format", "tlb").Lines;
        string[] elf = CliHarness.Run("maps", "--image", DumpFixtures.Path("long4", "elf"), "--format", "tlb").Lines;

        Assert.Equal(raw, elf);
        Assert.Equal(110, elf.Length);
        Assert.All(elf, l => Assert.Matches("^[0-9a-f]{16}: [0-9a-f]{16} [X-][G-][P-][D-][A-][C-][T-][U-][W-]$", l));
        Assert.Contains("0000000000800000: 0000000000300000 -------UW", elf);
        Assert.Contains("ffffffff80801000: 0000000000301000 -------UW", elf);
        Assert.Contains("0000000000200000: 0000000000200000 --P-----W", elf);
        Assert.Equal(elf.OrderBy(l => l.Replace("ffff", "zzzz", StringComparison.Ordinal), StringComparer.Ordinal), elf);
    }

    [Fact]
    public void Pae_and_32_bit_guests_list_their_large_pages_and_kernel_half()
    {
        string[] pae = CliHarness.Run("maps", "--image", DumpFixtures.Path("pae", "elf"), "--format", "mem").Lines;
        string[] legacy = CliHarness.Run("maps", "--image", DumpFixtures.Path("legacy32", "elf"), "--format", "tlb").Lines;

        Assert.Equal(
            new[]
            {
                "0000000000000000-0000000000800000 0000000000800000 -rw",
                "0000000000800000-0000000000830000 0000000000030000 urw",
                "0000000000a00000-0000000001000000 0000000000600000 -rw",
                "00000000c0000000-00000000c0800000 0000000000800000 -rw",
                "00000000c0800000-00000000c0830000 0000000000030000 urw",
                "00000000c0a00000-00000000c1000000 0000000000600000 -rw",
            },
            pae);
        Assert.Contains("0000000000000000: 0000000000000000 --P-A---W", legacy);
        Assert.Contains("00000000c0000000: 0000000000000000 --P-----W", legacy);
        Assert.Contains("0000000000800000: 0000000000300000 -------UW", legacy);
    }

    [Fact]
    public void Json_names_each_run_in_the_batch_outputs_words()
    {
        JsonElement root = JsonDocument.Parse(CliHarness.Run("maps", "--image", DumpFixtures.Path("legacy32", "kdump-snappy"), "--format", "json").Stdout).RootElement;

        Assert.Equal("legacy32", root.GetProperty("mode").GetString());
        Assert.Equal("0x200000", root.GetProperty("cr3").GetString());
        JsonElement user = root.GetProperty("runs").EnumerateArray().Single(r => r.GetProperty("user").GetBoolean());
        Assert.Equal("0x800000", user.GetProperty("va").GetString());
        Assert.Equal("0x830000", user.GetProperty("end").GetString());
        Assert.Equal("0x300000", user.GetProperty("pa").GetString());
        Assert.Equal(4096, user.GetProperty("page_size").GetInt64());
        Assert.Equal(48, user.GetProperty("pages").GetInt64());
        Assert.Equal("user rwx", user.GetProperty("rights").GetString());
        Assert.Equal(root.GetProperty("runs").EnumerateArray().Sum(r => r.GetProperty("pages").GetInt64()), root.GetProperty("pages").GetInt64());
        Assert.Equal(0, root.GetProperty("reserved_entries").GetInt64());
    }

    [Fact]
    public void Bad_input_is_one_line_and_exit_code_2()
    {
        CliHarness.Run("maps").AssertUsageError("--image is required");
        CliHarness.Run("maps", "--image", DumpFixtures.Path("long4", "raw")).AssertUsageError("give --cr3");
        CliHarness.Run("maps", "--image", DumpFixtures.Path("long4", "elf"), "--format", "pretty").AssertUsageError("pretty");
        CliHarness.Run("maps", "--image", DumpFixtures.Path("long4", "elf"), "--cpu", "1").AssertUsageError("CR0.PG is clear");
    }
}
