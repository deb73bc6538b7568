using System.Linq;
using System.Threading;
using ShadowMmu.Tests.Paging;
using Xunit;

namespace ShadowMmu.Tests.Shadow;

/// <summary>
/// Each vCPU counts in a block of its own with plain increments, and the VM counts under the mmu_lock: the totals must
/// still be exact when vCPUs and other threads run at once.
/// </summary>
public class ShadowStatsTests
{
    [Fact]
    public void Counts_from_concurrent_vcpus_and_writers_add_up_exactly()
    {
        const int Accesses = 20_000, Writes = 2_000;
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == "long4");
        using GuestMemory memory = GuestMemory.Allocate(0x80_0000);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x20_0000);
        for (ulong page = 0; page < 16; page++)
        {
            builder.Map(0x40_0000 + (page << 12), 0x30_0000 + (page << 12), 0x1000, 0x7 | 0x60);
        }

        var vm = new Vm(memory);
        CpuState cpu = WalkAllocationTests.StateFor("long4", builder.Root);
        Vcpu[] vcpus = { vm.AddVcpu(cpu), vm.AddVcpu(cpu) };
        ulong table = builder.EntryAddress(0x40_0000, 1)!.Value & ~0xFFFUL;   // a shadowed page table: writes to it trap
        vcpus[0].Access(0x40_0000, AccessKind.Read, 3);
        long trappedBefore = vm.Stats.TrappedWrites;

        using var start = new Barrier(4);
        var threads = vcpus.Select((vcpu, n) => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < Accesses; i++)
            {
                if (i % 64 == 0)
                {
                    vcpu.Invlpg(0x40_0000 + ((ulong)(i / 64 % 16) << 12));
                }

                vcpu.Access(0x40_0000 + ((ulong)(i % 16) << 12), AccessKind.Read, 3);
            }
        })).Concat(Enumerable.Range(0, 2).Select(n => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < Writes; i++)
            {
                // An ignored bit of an unused entry: the write traps but changes no mapping.
                vm.GuestWrite(table + 0x800 + ((ulong)n * 8), (ulong)i << 52, 8);
            }
        }))).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        ShadowStats stats = vm.Stats;
        Assert.Equal((2 * Accesses) + 1, stats.Accesses);
        Assert.Equal(2 * ((Accesses + 63) / 64), stats.Invlpgs);
        // Every access translates: on its first try (a hit), or after faults, each retried access counting one retry less
        // than its faults.
        Assert.Equal(stats.Accesses, stats.ShadowHits + stats.Faults - stats.Retries);
        Assert.Equal(2 * Writes, stats.TrappedWrites - trappedBefore);
        Assert.Equal(stats.Faults, stats.Walks);
        Assert.True(vm.Audit().Clean);
    }
}
