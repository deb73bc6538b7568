using System.Linq;
using Xunit;

namespace ShadowMmu.Tests.Shadow.Stress;

/// <summary>
/// A defect in the generated <c>Fetch</c> (generators/ShadowMmu.Generators/Emitting/ShadowMmuGenerator.Emitter.Shadow.cs), found
/// while writing the workload; skipped until the core is fixed.
/// </summary>
/// <remarks>
/// A guest large page is shadowed with direct shadow pages whose role access is <c>walk.PteAccess</c>. KVM uses
/// <c>gw->pte_access</c> after <c>FNAME(protect_clean_gpte)</c> (W removed for a clean gpte on a non-write fault) and
/// after the CR0.WP=0 quirk, i.e. the model's <c>leafAccess</c>. With W in the role whether or not the PDE is dirty,
/// a direct page filled while the PDE was dirty is found again and relinked after the guest cleared D, with its old
/// writable leaves: the guest then writes the page without a fault and its D bit is never set. The audit does not see
/// it (AuditDirect passes dirty: true; the link check ignores the guest entry's D bit).
/// Fix: in the emitter's direct-page line use <c>leafAccess</c> instead of <c>walk.PteAccess</c>, and let the audit
/// require a direct child without W under a clean large guest entry (allowing the CR0.WP=0 quirk, as AuditLeaf does).
/// </remarks>
public sealed class LargePageDirtyBitTests
{
    [Theory]
    [InlineData("legacy32")]
    [InlineData("pae")]
    [InlineData("long4")]
    [InlineData("long5")]
    public void Clearing_D_in_a_large_PDE_makes_the_next_write_fault_and_set_it_again(string modeName)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        using GuestMemory memory = GuestMemory.Allocate(0x80_0000);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x20_0000);
        ulong largeSize = modeName == "legacy32" ? 0x40_0000UL : 0x20_0000UL;
        const ulong va = 0x80_0000;
        ulong pdeGpa = builder.Map(va, 0x40_0000, largeSize, 0x7 | 0x20 | 0x40);
        var vm = new Vm(memory);
        Vcpu vcpu = vm.AddVcpu(Paging.WalkAllocationTests.StateFor(modeName, builder.Root));
        int entryBytes = mode.EntryBytes;

        // 1. A write through the large page: a writable 4 KiB leaf in a direct shadow page.
        Assert.Equal(AccessOutcome.Translated, vcpu.Write(va + 0x1000, 1, 8, 3).Outcome);

        // 2. The guest clears D in the PDE. Its directory is shadowed: the write traps and zaps the link to the direct page.
        vm.GuestWrite(pdeGpa, memory.ReadEntry(pdeGpa, entryBytes) & ~0x40UL, entryBytes);

        // 3. A read elsewhere in the large page: the walk sees D = 0; the direct page is found by the same role and relinked.
        Assert.Equal(AccessOutcome.Translated, vcpu.Access(va + 0x2000, AccessKind.Read, 3).Outcome);

        // 4. A write to the first page again must fault, so that the guest walk sets D, as on hardware.
        long faults = vm.Stats.Faults;
        Assert.Equal(AccessOutcome.Translated, vcpu.Write(va + 0x1000, 2, 8, 3).Outcome);
        Assert.True((memory.ReadEntry(pdeGpa, entryBytes) & 0x40) != 0, $"{modeName}: the guest wrote its clean large page and D stayed 0 ({vm.Stats.Faults - faults} faults)");
    }
}
