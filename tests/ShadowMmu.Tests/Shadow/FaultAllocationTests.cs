using System;
using System.Linq;
using ShadowMmu.Tests.Paging;
using Xunit;

namespace ShadowMmu.Tests.Shadow;

/// <summary>The fault path (walk, fetch, prefetch) and the trapped-write path allocate nothing in steady state.</summary>
public class FaultAllocationTests
{
    [Theory]
    [InlineData("legacy32")]
    [InlineData("pae")]
    [InlineData("long4")]
    [InlineData("long5")]
    [InlineData("ept4")]
    [InlineData("ept5")]
    public void Faults_and_trapped_writes_allocate_zero_bytes_in_steady_state(string modeName)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        using GuestMemory memory = GuestMemory.Allocate(0x80_0000);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x20_0000);
        for (ulong page = 0; page < 16; page++)
        {
            builder.Map(0x40_0000 + (page << 12), 0x30_0000 + (page << 12), 0x1000, 0x7 | 0x60);
        }

        ulong large = mode.Name == "legacy32" ? 0x40_0000UL : 0x20_0000UL;
        builder.Map(0x100_0000, 0x40_0000, large, 0x7 | 0x60);
        ulong leaf = builder.EntryAddress(0x40_1000, 1)!.Value;
        ulong leafValue = memory.ReadEntry(leaf, mode.EntryBytes);
        var vm = new Vm(memory);
        Vcpu vcpu = vm.AddVcpu(WalkAllocationTests.StateFor(modeName, builder.Root));

        void Round()
        {
            for (int i = 0; i < 200; i++)
            {
                // A fault with prefetch of the neighbours, then invlpg so that the next access faults again.
                vcpu.Access(0x40_0123, AccessKind.Write, 0);
                vcpu.Invlpg(0x40_0000);
                // A fault through direct pages for the large page.
                vcpu.Access(0x100_5000, AccessKind.Read, 3);
                vcpu.Invlpg(0x100_5000);
                // A trapped write to a shadowed table (same value: the guest rewrites its PTE), and the refault.
                vm.GuestWrite(leaf, leafValue, mode.EntryBytes);
                vcpu.Access(0x40_1000, AccessKind.Read, 0);
            }
        }

        Round();
        long faultsBefore = vm.Stats.Faults;

        long allocated = SteadyStateAllocation.BytesPerRound(Round);

        Assert.True(vm.Stats.Faults - faultsBefore >= 400, $"the round must fault: {vm.Stats.Faults - faultsBefore} faults, {vm.Stats.TrappedWrites} trapped, {vm.Stats.ZappedEntries} zapped, {vm.Stats.Invlpgs} invlpg, {vm.Stats.Prefetched} prefetched");
        // Both sides of the mmu_lock ran: the refault after INVLPG on the shared side, the one after the trapped write's zap
        // (its leaf left the reverse map) on the exclusive side.
        Assert.True(vm.Stats.SharedFaults > 0 && vm.Stats.ExclusiveRetries > 0, $"shared {vm.Stats.SharedFaults}, exclusive retries {vm.Stats.ExclusiveRetries}");
        Assert.Equal(0, allocated);
        Assert.True(vm.Audit().Clean);
    }
}

/// <summary>The unsync paths allocate nothing in steady state: a store into an unsync table, INVLPG's sync, a CR3 load's sync.</summary>
public class UnsyncAllocationTests
{
    [Theory]
    [InlineData("legacy32", true)]
    [InlineData("legacy32", false)]
    [InlineData("pae", true)]
    [InlineData("pae", false)]
    [InlineData("long4", true)]
    [InlineData("long4", false)]
    [InlineData("long5", true)]
    [InlineData("long5", false)]
    [InlineData("ept4", true)]
    [InlineData("ept4", false)]
    [InlineData("ept5", true)]
    [InlineData("ept5", false)]
    public void Stores_into_unsync_tables_and_their_syncs_allocate_zero_bytes(string modeName, bool sharedFaults)
    {
        using ScenarioGuest guest = ScenarioGuest.Build(modeName);
        GuestEntryFlags f = guest.Flags;
        const ulong tableMap = 0x8000_0000;
        ulong pteGpa = guest.PteGpa;
        guest.Builder.Map(tableMap, pteGpa & ~0xFFFUL, 0x1000, f.Present | f.Leaf(writable: true, user: true, execute: false),
            f.Present | f.Writable | f.User | f.Executable | f.Accessed);
        int entryBytes = guest.Info.EntryBytes;
        ulong old = guest.Memory.ReadEntry(pteGpa, entryBytes);
        ulong other = old ^ f.Writable;
        // On the shared side INVLPG drops the unsync leaf (the next access faults it in); on the exclusive side it re-reads it.
        var vm = new Vm(guest.Memory) { SharedFaults = sharedFaults };
        Vcpu vcpu = vm.AddVcpu(guest.Cpu);

        void Round()
        {
            for (int i = 0; i < 100; i++)
            {
                vcpu.Write(tableMap + (pteGpa & 0xFFF), (i & 1) == 0 ? other : old, entryBytes, 3);
                vcpu.Invlpg(ScenarioGuest.Va);
                vcpu.Access(ScenarioGuest.Va, AccessKind.Read, 3);
                using (vm.MmuLock.Enter())
                {
                    vm.SyncRoots(vcpu);
                }
            }
        }

        Round();
        long unsync = vm.Stats.UnsyncPages, syncs = vm.Stats.Syncs;
        long allocated = SteadyStateAllocation.BytesPerRound(Round);

        Assert.True(vm.Stats.UnsyncPages - unsync >= 100 && vm.Stats.Syncs - syncs >= (sharedFaults ? 100 : 200), $"unsync {vm.Stats.UnsyncPages - unsync}, syncs {vm.Stats.Syncs - syncs}");
        Assert.Equal(0, allocated);
        Assert.True(vm.Audit().Clean);
    }
}
