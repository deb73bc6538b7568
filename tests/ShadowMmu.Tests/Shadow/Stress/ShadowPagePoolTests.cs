using System;
using System.Linq;
using System.Threading;
using Xunit;

namespace ShadowMmu.Tests.Shadow.Stress;

/// <summary>
/// Regressions found by the stress workload in the core (src/ShadowMmu/Shadow), reproduced deterministically.
/// </summary>
[Collection(StressCollection.Name)]
public sealed class ShadowPagePoolTests
{
    /// <summary>
    /// Found by <c>simulate</c> with 256 shadow pages (4 vCPU + 2 writer threads on 2 cores): "The vCPU's shadow-page
    /// cache is empty under the mmu_lock". Interleaving: vCPU A enters the lock-free shadow walk (TryTranslate publishes
    /// its WalkEpoch) and is preempted there; meanwhile other vCPUs and trapped writes zap hundreds of pages, which
    /// wait in the zapped queue for A's walk to end (the grace period); the pool (max + 640 pages) runs dry;
    /// <c>Vm.TopUp</c> returned with a short cache; the next fault's <c>FindOrCreate</c> threw under the mmu_lock.
    /// Seen as: zapped=724 free=0 active=104 pages=896 oldest walk epoch 28659 while the epoch was at 29397. Now
    /// TopUp makes room, reclaims, and waits for the walkers when nothing is free.
    /// </summary>
    [Fact]
    public void A_fault_waits_out_a_preempted_walker_instead_of_failing()
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == "long4");
        using GuestMemory memory = GuestMemory.Allocate(0x80_0000);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x20_0000);
        const int tables = 16;
        for (int t = 0; t < tables; t++)
        {
            builder.Map(0x4000_0000UL + ((ulong)t << 21), 0x40_0000UL + ((ulong)t << 12), 0x1000, 0x7 | 0x60);
        }

        var cpu = new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, builder.Root, Cr4.PAE, Efer.LME | Efer.LMA | Efer.NXE);
        var vm = new Vm(memory, 40);
        Vcpu walker = vm.AddVcpu(cpu);
        Vcpu faulter = vm.AddVcpu(cpu);

        // vCPU "walker" is inside the lock-free shadow walk and preempted: nothing zapped from now on can be reused.
        Interlocked.Exchange(ref walker.WalkEpoch, vm.Epoch);
        using var release = new Timer(_ => Volatile.Write(ref walker.WalkEpoch, 0), null, 300, Timeout.Infinite);

        // Meanwhile the other vCPU keeps faulting in page tables that keep being zapped, well past the pool's spare pages.
        DateTime start = DateTime.UtcNow;
        for (int round = 0; round < 120; round++)
        {
            for (int t = 0; t < tables; t++)
            {
                Assert.Equal(AccessOutcome.Translated, faulter.Access(0x4000_0000UL + ((ulong)t << 21), AccessKind.Read, 0).Outcome);
            }

            vm.ZapAll();
        }

        Assert.True(vm.Stats.ShadowPagesZapped > 1000, $"only {vm.Stats.ShadowPagesZapped} pages zapped");
        Assert.True(DateTime.UtcNow - start >= TimeSpan.FromMilliseconds(250), "the pool never ran dry: the test proves nothing");
        Assert.True(vm.Audit().Clean);
    }
}
