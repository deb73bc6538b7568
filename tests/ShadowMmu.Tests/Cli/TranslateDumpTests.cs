using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using ShadowMmu.Tests.Dumps;
using Xunit;

namespace ShadowMmu.Tests.Cli;

/// <summary>
/// <c>translate</c> on QEMU's own dumps of one guest (tests/fixtures/dumps): every format reads the same guest the same
/// way, and ELF and kdump dumps give their registers from the CPU notes (<c>--cpu N</c>, CPU 0 by default).
/// </summary>
public class TranslateDumpTests
{
    public static TheoryData<string, string> GuestsAndFormats()
    {
        var data = new TheoryData<string, string>();
        foreach (string guest in DumpFixtures.Guests)
        {
            foreach (string format in DumpFixtures.KdumpFormats.Append("elf"))
            {
                data.Add(guest, format);
            }
        }

        return data;
    }

    // Addresses each multiboot guest maps (see guest.S): its data pages through the 4 KiB page table, a large page,
    // the kernel half, and addresses it does not map.
    private static string[] Addresses(string guest) => guest switch
    {
        "long4" => new[] { "0x800000", "0x801234", "0x82f008", "0x830000", "0x400123", "0xffffffff80300010", "0x40000000", "0xffff800000000000" },
        "pae" => new[] { "0x800000", "0x801234", "0x82f008", "0x830000", "0x400123", "0xc0300010", "0x40000000" },
        _ => new[] { "0x800000", "0x801234", "0x82f008", "0x830000", "0x400123", "0xc0300010", "0x40000000" },
    };

    private static string[] RawRegisters(string guest)
    {
        InfoRegisters cpu0 = InfoRegisters.ParseAll(DumpFixtures.Registers(guest))[0];
        return new[] { "--cr0", $"0x{cpu0.Cr0:x}", "--cr3", $"0x{cpu0.Cr3:x}", "--cr4", $"0x{cpu0.Cr4:x}", "--efer", $"0x{cpu0.Efer:x}" };
    }

    [Theory]
    [MemberData(nameof(GuestsAndFormats))]
    public void Every_format_translates_as_the_raw_image_with_the_registers_of_info_registers(string guest, string format)
    {
        CliResult raw = CliHarness.Run(new[] { "translate", "--image", DumpFixtures.Path(guest, "raw") }.Concat(RawRegisters(guest)).Concat(Addresses(guest)).ToArray());
        InfoRegisters cpu0 = InfoRegisters.ParseAll(DumpFixtures.Registers(guest))[0];

        // No register given: CPU 0's note. EFER is not in the note; --efer gives the one info registers showed.
        CliResult fromNote = CliHarness.Run(new[] { "translate", "--image", DumpFixtures.Path(guest, format), "--efer", $"0x{cpu0.Efer:x}" }.Concat(Addresses(guest)).ToArray());

        Assert.Equal(0, raw.ExitCode);
        Assert.Equal(string.Empty, fromNote.Stderr);
        Assert.Equal(raw.Lines, fromNote.Lines);
        Assert.Contains(raw.Lines, l => l.Contains(" -> ", StringComparison.Ordinal));
        Assert.Contains(raw.Lines, l => l.Contains("#PF", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_efer_long_mode_follows_the_dump_and_the_answer_is_the_same()
    {
        CliResult raw = CliHarness.Run(new[] { "translate", "--image", DumpFixtures.Path("long4", "raw") }.Concat(RawRegisters("long4")).Concat(Addresses("long4")).ToArray());
        CliResult elf = CliHarness.Run(new[] { "translate", "--image", DumpFixtures.Path("long4", "elf") }.Concat(Addresses("long4")).ToArray());

        Assert.Equal(raw.Lines, elf.Lines);
    }

    [Fact]
    public void Cpu_picks_a_note_and_a_cpu_the_dump_lacks_is_a_usage_error()
    {
        string elf = DumpFixtures.Path("long4", "elf");

        // The second vCPU of the long4 capture never left real mode: its note says paging is off.
        CliHarness.Run("translate", "--image", elf, "--cpu", "1", "0x800000").AssertUsageError("CR0.PG is clear");
        CliHarness.Run("translate", "--image", elf, "--cpu", "2", "0x800000").AssertUsageError("has CPUs 0 to 1, not 2");
        CliHarness.Run("translate", "--image", elf, "--cpu", "x", "0x800000").AssertUsageError("--cpu: 'x' is not a CPU number");
        CliHarness.Run("translate", "--image", DumpFixtures.Path("long4", "raw"), "0x800000").AssertUsageError("give --cr3");
        Assert.Equal(0, CliHarness.Run("translate", "--image", elf, "--cpu", "0", "0x800000").ExitCode);
    }

    [Fact]
    public void A_given_register_replaces_the_notes_own()
    {
        // The note's CR3 replaced by an empty page next to the guest's tables: nothing is mapped.
        CliResult result = CliHarness.Run("translate", "--image", DumpFixtures.Path("long4", "elf"), "--cpu", "0", "--cr3", "0x205000", "0x800000");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("0x800000: #PF error code 0x0 (none) at level 4 (long4)", result.Lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_case_without_registers_takes_a_cpu_note()
    {
        string batch = DumpFixtures.NewFile("cases.jsonl");
        File.WriteAllText(batch, string.Join('\n',
            $"{{\"image\": \"{DumpFixtures.Path("pae", "kdump-snappy")}\", \"va\": \"0x801234\"}}",
            $"{{\"image\": \"{DumpFixtures.Path("pae", "elf")}\", \"cpu\": 0, \"va\": \"0x801234\"}}",
            $"{{\"image\": \"{DumpFixtures.Path("pae", "elf")}\", \"cpu\": 3, \"va\": \"0x801234\"}}",
            $"{{\"image\": \"{DumpFixtures.Path("pae", "raw")}\", \"va\": \"0x801234\"}}") + "\n");

        JsonElement[] answers = CliHarness.Run("translate", "--batch", batch).Lines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();

        Assert.Equal("0x301234", answers[0].GetProperty("pa").GetString());
        Assert.Equal("pae", answers[0].GetProperty("mode").GetString());
        Assert.Equal(answers[0].GetRawText(), answers[1].GetRawText());
        Assert.Contains("has CPUs 0 to 0, not 3", answers[2].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("line 4: cr3 is missing (the image holds no CPU notes to take the registers from)", answers[3].GetProperty("error").GetString());
    }

    [Fact]
    public void A_table_in_a_page_the_dump_does_not_hold_is_an_error_not_a_fault()
    {
        // The PCI-hole guest: a CR3 inside the hole (3 GiB to 4 GiB less 64 KiB) names a table the dump does not have.
        string elf = DumpFixtures.Path("hole4200", "elf");

        CliResult hole = CliHarness.Run("translate", "--image", elf, "--cr3", "0xd0000000", "--cr4", "0x20", "--efer", "0xd00", "0x800000");
        CliResult fine = CliHarness.Run("translate", "--image", elf, "0x800000");

        hole.AssertUsageError("0x800000: the PML4E at 0xd0000000 lies in a page the dump does not hold");
        Assert.Equal(0, fine.ExitCode);
        Assert.StartsWith("0x800000 -> 0x300000 ", fine.Lines[0], StringComparison.Ordinal);
    }
}
