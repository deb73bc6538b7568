using System.Linq;
using ShadowMmu.Tests.Paging;
using Xunit;

namespace ShadowMmu.Tests.Shadow;

/// <summary>The shadow MMU's basic contract, per mode: faults fill the shadow, hits need no fault, trapped writes zap.</summary>
public class ShadowMmuBasicsTests
{
    public static TheoryData<string> Modes => new() { "legacy32", "pae", "long4", "long5" };

    [Theory]
    [MemberData(nameof(Modes))]
    public void Fault_then_hit_then_trapped_write_then_refault(string modeName)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        using GuestMemory memory = GuestMemory.Allocate(0x80_0000);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x20_0000);
        ulong leafGpa = builder.Map(0x40_0000, 0x30_0000, 0x1000, 0x7 | 0x20);
        builder.Map(0x40_1000, 0x30_1000, 0x1000, 0x7 | 0x20);
        ulong largePage = mode.Name == "legacy32" ? 0x40_0000UL : 0x20_0000UL;
        builder.Map(0x80_0000, 0x40_0000, largePage, 0x7 | 0x60);
        var vm = new Vm(memory);
        Vcpu vcpu = vm.AddVcpu(WalkAllocationTests.StateFor(modeName, builder.Root));

        AccessResult first = vcpu.Access(0x40_0123, AccessKind.Read, 3);
        Assert.Equal(AccessOutcome.Translated, first.Outcome);
        Assert.Equal(0x30_0123UL, first.Gpa);
        Assert.Equal(1, vm.Stats.Faults);

        // The neighbour was prefetched from the same group read: no fault for it.
        Assert.Equal(0x30_1000UL, vcpu.Access(0x40_1000, AccessKind.Read, 3).Gpa);
        Assert.Equal(1, vm.Stats.Faults);
        Assert.Equal(1, vm.Stats.Prefetched);
        Assert.Equal(1, vm.Stats.PrefetchedUsed);

        // A large guest page is split with direct shadow pages.
        Assert.Equal(0x40_5678UL, vcpu.Access(0x80_5678, AccessKind.Write, 0).Gpa);
        Assert.True(vm.Audit().Clean, string.Join("\n", vm.Audit().Stale));

        // The guest rewrites the PTE: its table is shadowed, so the write traps and the stale shadow leaf is zapped.
        Assert.True(vm.IsWriteProtected(leafGpa >> 12));
        vm.GuestWrite(leafGpa, 0x50_0000 | 0x27, mode.EntryBytes);
        Assert.Equal(1, vm.Stats.TrappedWrites);
        Assert.True(vm.Audit().Clean, string.Join("\n", vm.Audit().Stale));
        Assert.Equal(0x50_0123UL, vcpu.Access(0x40_0123, AccessKind.Read, 3).Gpa);

        // A write by the guest to its own page table: with unsync off it is emulated, not mapped writable.
        ulong tableVa = 0xC0_0000;
        builder.Map(tableVa, leafGpa & ~0xFFFUL, 0x1000, 0x7 | 0x60);
        vm.UnsyncEnabled = false;
        AccessResult emulated = vcpu.Write(tableVa + (leafGpa & 0xFFF), 0x30_0000 | 0x27, mode.EntryBytes, 0);
        Assert.Equal(AccessOutcome.Emulated, emulated.Outcome);
        Assert.Equal(0x30_0123UL, vcpu.Access(0x40_0123, AccessKind.Read, 3).Gpa);
        Assert.True(vm.Audit().Clean, string.Join("\n", vm.Audit().Stale));

        // With unsync on (KVM's way) the table goes unsync and the write lands through a writable mapping; the vCPU
        // sees it once the guest flushes the address.
        vm.UnsyncEnabled = true;
        AccessResult unsynced = vcpu.Write(tableVa + (leafGpa & 0xFFF), 0x50_0000 | 0x27, mode.EntryBytes, 0);
        Assert.Equal(AccessOutcome.Translated, unsynced.Outcome);
        Assert.False(vm.IsWriteProtected(leafGpa >> 12));
        vcpu.Invlpg(0x40_0000);
        Assert.Equal(0x50_0123UL, vcpu.Access(0x40_0123, AccessKind.Read, 3).Gpa);
        Assert.True(vm.Audit().Clean, string.Join("\n", vm.Audit().Stale));

        // The guest's own fault comes back as a guest fault with the walk's error code.
        AccessResult denied = vcpu.Access(0x40_0123, AccessKind.Read, 3) with { };
        Assert.Equal(AccessOutcome.Translated, denied.Outcome);
        AccessResult missing = vcpu.Access(0x1234_5000, AccessKind.Write, 3);
        Assert.Equal(AccessOutcome.GuestFault, missing.Outcome);
        Assert.Equal(PageFaultErrorCode.Write | PageFaultErrorCode.User, missing.ErrorCode & 0x7);
    }

    [Fact]
    public void Audit_names_rights_as_translate_prints_them()
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == "long4");
        using GuestMemory memory = GuestMemory.Allocate(0x80_0000);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x20_0000);
        ulong leafGpa = builder.Map(0x40_0000, 0x30_0000, 0x1000, 0x7 | 0x60);
        var vm = new Vm(memory);
        Vcpu vcpu = vm.AddVcpu(WalkAllocationTests.StateFor("long4", builder.Root));
        Assert.Equal(AccessOutcome.Translated, vcpu.Access(0x40_0123, AccessKind.Write, 3).Outcome);

        // The guest makes the page read-only behind the MMU's back (no trap): the shadow leaf now grants too much.
        memory.WriteEntry(leafGpa, 0x30_0000 | 0x5 | 0x60, mode.EntryBytes);

        StaleEntry stale = Assert.Single(vm.Audit().Stale);
        Assert.Equal("grants rights user rwx, more than the guest's user r-x", stale.Problem);
    }
}
