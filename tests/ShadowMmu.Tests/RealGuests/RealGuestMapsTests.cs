using System;
using System.Linq;
using ShadowMmu.Tests.Cli;
using Xunit;

namespace ShadowMmu.Tests.RealGuests;

/// <summary>
/// <c>maps</c> against QEMU's own <c>info tlb</c> and <c>info mem</c> of the real guests, every stop and vCPU, with the
/// registers from the ELF dump's CPU note (<c>--cpu N</c>). The lines must be the same, but where QEMU prints wrong:
/// a PAE leaf's address keeps its NX bit in <c>info tlb</c> (QEMU masks the entry, not the address), and QEMU 7.2's
/// <c>info mem</c> prints nothing for a 5-level guest.
/// </summary>
public sealed class RealGuestMapsTests
{
    public static TheoryData<string, int, int> Vcpus() => RealGuestTranslateTests.Vcpus();

    [Theory]
    [MemberData(nameof(Vcpus))]
    public void Maps_in_tlb_format_is_info_tlb(string mode, int stop, int cpu)
    {
        GuestStop guestStop = RealGuestFixtures.Stop(mode, stop);
        VcpuRecord record = guestStop.Cpus[cpu];

        CliResult maps = CliHarness.Run("maps", "--image", guestStop.ElfPath, "--cpu", cpu.ToString(System.Globalization.CultureInfo.InvariantCulture), "--format", "tlb");

        Assert.Equal(0, maps.ExitCode);
        string[] qemu = record.TlbText.Split(new[] { '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries).Select(l => mode == "pae" ? WithoutNx(l) : l).ToArray();
        AssertSameLines(qemu, maps.Lines, $"{guestStop} cpu {cpu}: info tlb");
    }

    [Theory]
    [MemberData(nameof(Vcpus))]
    public void Maps_in_mem_format_is_info_mem(string mode, int stop, int cpu)
    {
        GuestStop guestStop = RealGuestFixtures.Stop(mode, stop);
        VcpuRecord record = guestStop.Cpus[cpu];

        CliResult maps = CliHarness.Run("maps", "--image", guestStop.ElfPath, "--cpu", cpu.ToString(System.Globalization.CultureInfo.InvariantCulture), "--format", "mem");

        Assert.Equal(0, maps.ExitCode);
        string[] qemu = record.MemText.Split(new[] { '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries);
        if (mode == "long5")
        {
            // QEMU 7.2's mem_info_la57 tests PRESENT the wrong way round and prints nothing.
            Assert.Empty(qemu);
            Assert.NotEmpty(maps.Lines);
            return;
        }

        AssertSameLines(qemu, maps.Lines, $"{guestStop} cpu {cpu}: info mem");
    }

    [Theory]
    [InlineData("long4")]
    [InlineData("long5")]
    [InlineData("pae")]
    [InlineData("legacy32")]
    public void Every_format_reads_the_same_guest_the_same_way(string mode)
    {
        GuestStop stop = RealGuestFixtures.Stop(mode, 2);
        QemuRegisters registers = stop.Cpus[1].Registers;
        string[] fromRaw = CliHarness.Run(
            "maps", "--image", stop.RawPath, "--format", "json", "--cr0", Hex(registers.Cr0), "--cr3", Hex(registers.PagingCr3),
            "--cr4", Hex(registers.Cr4), "--efer", Hex(registers.Efer)).Lines;

        // The dumps' CPU notes give the registers (EFER inferred), as QEMU recorded them.
        string[] fromElf = CliHarness.Run("maps", "--image", stop.ElfPath, "--cpu", "1", "--format", "json").Lines;
        string[] fromKdump = CliHarness.Run("maps", "--image", stop.KdumpZlibPath, "--cpu", "1", "--format", "json").Lines;

        Assert.NotEmpty(fromRaw);
        Assert.Equal(fromRaw, fromElf);
        Assert.Equal(fromRaw, fromKdump);
    }

    private static string Hex(ulong value) => "0x" + value.ToString("x", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void The_table_sums_up_espfix_in_one_run_and_counts_every_page()
    {
        GuestStop stop = RealGuestFixtures.Stop("long4", 1);

        CliResult table = CliHarness.Run("maps", "--image", stop.ElfPath);

        // Linux's espfix maps one read-only page at 65,536 addresses 64 KiB apart.
        string espfix = Assert.Single(table.Lines, l => l.Contains("every 64 KiB, all one frame", StringComparison.Ordinal));
        Assert.Contains("65536 x 4 KiB", espfix, StringComparison.Ordinal);
        Assert.Contains("supervisor r--", espfix, StringComparison.Ordinal);
        int pages = stop.Cpus[0].Tlb.Count;
        Assert.StartsWith($"{pages:N0} pages (", table.Lines[^1], StringComparison.Ordinal);
        Assert.True(table.Lines.Length < 200, $"{table.Lines.Length} lines");
    }

    // QEMU prints a PAE leaf as "VA: pte & ~0xfff" (or ~0xfffff for 2 MiB), keeping bit 63 (XD) in the address.
    private static string WithoutNx(string line)
    {
        ulong printed = Convert.ToUInt64(line[18..34], 16) & ~(1UL << 63);
        return line[..18] + printed.ToString("x16", System.Globalization.CultureInfo.InvariantCulture) + line[34..];
    }

    private static void AssertSameLines(string[] expected, string[] actual, string what)
    {
        if (expected.SequenceEqual(actual))
        {
            return;
        }

        string[] missing = expected.Except(actual).Take(5).ToArray();
        string[] extra = actual.Except(expected).Take(5).ToArray();
        Assert.Fail($"{what}: {expected.Length} lines from QEMU, {actual.Length} from maps; QEMU only: {string.Join(" | ", missing)}; maps only: {string.Join(" | ", extra)}");
    }
}
