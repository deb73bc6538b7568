using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using Xunit;

namespace ShadowMmu.Tests.RealGuests;

/// <summary>
/// The parsed monitor records say what the fixtures claim: each guest runs the paging mode it is named after, the
/// vCPUs were stopped where the capture wanted them, mmtest's mappings are in the page tables, and the real-world
/// facts the tool must face (PTI's CR3 pair, PAE's 32-byte-aligned CR3 and accessed PDPTEs) are there.
/// </summary>
public sealed class RealGuestRecordTests
{
    private const ulong Cr0Pg = 1UL << 31, Cr4Pae = 1UL << 5, Cr4La57 = 1UL << 12, EferLma = 1UL << 10;

    public static TheoryData<string, int, int> Vcpus() => RealGuestTranslateTests.Vcpus();

    [Theory]
    [MemberData(nameof(Vcpus))]
    public void RegistersSelectTheGuestsPagingMode(string mode, int stop, int cpu)
    {
        QemuRegisters r = RealGuestFixtures.Stop(mode, stop).Cpus[cpu].Registers;
        Assert.NotEqual(0UL, r.Cr0 & Cr0Pg);

        // The SDM's table "Paging Modes and Control Bits".
        string fromRegisters = (r.Cr4 & Cr4Pae) == 0 ? "legacy32"
            : (r.Efer & EferLma) == 0 ? "pae"
            : (r.Cr4 & Cr4La57) == 0 ? "long4" : "long5";
        Assert.Equal(mode, fromRegisters);
    }

    [Theory]
    [MemberData(nameof(Vcpus))]
    public void VcpusWereStoppedWhereTheStopSays(string mode, int stop, int cpu)
    {
        QemuRegisters r = RealGuestFixtures.Stop(mode, stop).Cpus[cpu].Registers;
        bool idleInKernel = stop == 2 && cpu == 1;
        Assert.Equal(idleInKernel ? 0 : 3, r.Cpl);
        Assert.Equal(idleInKernel, r.Halted);
        Assert.Equal(r.Cpl, r.CsSelector & 3);
    }

    [Theory]
    [InlineData("long4")]
    [InlineData("long5")]
    [InlineData("pae")]
    [InlineData("legacy32")]
    public void TheHugePageIsOneLargeLeafAtStop1AndSplitAtStop2(string mode)
    {
        RealGuest guest = RealGuestFixtures.Guest(mode);
        MmtestRegion huge = guest.Mmtest.Region("huge");
        Assert.Equal(0UL, huge.Start % guest.Mmtest.HugePageSize);

        QemuTlbEntry before = guest.Stops[0].Cpus[0].Tlb.Single(e => e.Va == huge.Start);
        Assert.True(before.LargePage && before.User && before.Writable, $"stop 1: {before}");
        Assert.DoesNotContain(guest.Stops[0].Cpus[0].Tlb, e => e.Va > huge.Start && e.Va < huge.Start + guest.Mmtest.HugePageSize);

        // mprotect(PROT_READ) of its first 4 KiB split it into 4 KiB leaves (all read-only now: the fork that
        // followed made mmtest's private pages copy-on-write).
        QemuTlbEntry after = guest.Stops[1].Cpus[0].Tlb.Single(e => e.Va == huge.Start);
        Assert.True(!after.LargePage && after.User && !after.Writable, $"stop 2: {after}");
        QemuTlbEntry neighbour = guest.Stops[1].Cpus[0].Tlb.Single(e => e.Va == huge.Start + 0x1000);
        Assert.True(!neighbour.LargePage && neighbour.PhysicalAddress == after.PhysicalAddress + 0x1000, $"stop 2: {neighbour}");
    }

    [Theory]
    [MemberData(nameof(Vcpus))]
    public void InfoMemRunsAreOrderedAndMatchInfoTlb(string mode, int stop, int cpu)
    {
        VcpuRecord vcpu = RealGuestFixtures.Stop(mode, stop).Cpus[cpu];
        if (mode == "long5")
        {
            Assert.Empty(vcpu.Mem); // QEMU 7.2 prints nothing for a 5-level guest (see the fixtures' README)
            return;
        }

        Assert.NotEmpty(vcpu.Mem);
        for (int i = 0; i < vcpu.Mem.Count; i++)
        {
            QemuMemRange run = vcpu.Mem[i];
            Assert.Equal(run.End - run.Start, run.Size);
            Assert.True(i == 0 || vcpu.Mem[i - 1].End <= run.Start, $"{vcpu}: runs out of order at {run}");
        }

        // Every info tlb leaf starts inside an info mem run with the same user right.
        foreach (QemuTlbEntry leaf in vcpu.Tlb.Where((_, i) => i % 97 == 0))
        {
            QemuMemRange run = vcpu.Mem.Single(m => m.Start <= leaf.Va && leaf.Va < m.End);
            Assert.True(run.User == leaf.User || !run.User, $"{vcpu}: {leaf} in {run}");
        }
    }

    [Fact]
    public void PtiGivesTheIdleVcpuTheKernelHalfOfTheProcesssCr3Pair()
    {
        // long4 runs with pti=on: the user CR3 is the kernel's pgd + 4096. At stop 2 vCPU 0 is in mmtest (user CR3)
        // and vCPU 1 idles in the kernel, lazily on mmtest's mm (its kernel CR3).
        GuestStop stop = RealGuestFixtures.Stop("long4", 2);
        Assert.Equal(stop.Cpus[0].Registers.Cr3 - 0x1000, stop.Cpus[1].Registers.Cr3);
        Assert.Equal(0UL, stop.Cpus[0].Registers.Cr4 & QemuRegisters.Cr4Pcide);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void PaeCr3Is32ByteAlignedAndTcgSetTheAccessedFlagInPdptes(int stop)
    {
        GuestStop guestStop = RealGuestFixtures.Stop("pae", stop);
        ulong cr3 = guestStop.Cpus[0].Registers.Cr3;
        Assert.Equal(0UL, cr3 & 0x1F);
        Assert.NotEqual(0UL, cr3 & 0xFE0);

        byte[] pdpt = new byte[32];
        using (FileStream raw = File.OpenRead(guestStop.RawPath))
        {
            raw.Position = (long)(cr3 & 0xFFFF_FFE0);
            raw.ReadExactly(pdpt);
        }

        ulong[] pdptes = Enumerable.Range(0, 4).Select(i => BinaryPrimitives.ReadUInt64LittleEndian(pdpt.AsSpan(8 * i))).ToArray();
        Assert.All(pdptes, e => Assert.Equal(1UL, e & 1));
        Assert.Contains(pdptes, e => (e & (1UL << 5)) != 0); // reserved by the SDM, set by QEMU's TCG walk
    }
}
