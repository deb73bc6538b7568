using Xunit;

namespace ShadowMmu.Tests.Shadow.Parallel;

/// <summary>
/// The audit's reverse-map check (<c>Vm.AuditReverseMaps</c>): a leaf written past its frame's reverse map, or a
/// reverse-map link left behind by a leaf that went, is reported; a tombstone that INVLPG left on the map is not.
/// </summary>
public class ReverseMapAuditTests
{
    private const ulong Va = ScenarioGuest.Va;

    [Fact]
    public void A_tombstone_on_its_reverse_map_is_clean()
    {
        using ScenarioGuest guest = ScenarioGuest.Build("long4");
        var vm = new Vm(guest.Memory);
        Vcpu vcpu = vm.AddVcpu(guest.Cpu);
        vcpu.Access(Va, AccessKind.Read, 3);
        vcpu.Invlpg(Va);

        ShadowPage table = ScenarioGuest.LeafPage(vcpu, Va, out int index)!;
        Assert.True(Spte.IsTombstone(table[index]));
        Assert.True(vm.Audit().Clean);
    }

    [Fact]
    public void A_leaf_written_past_its_reverse_map_is_reported()
    {
        using ScenarioGuest guest = ScenarioGuest.Build("long4");
        var vm = new Vm(guest.Memory);
        Vcpu vcpu = vm.AddVcpu(guest.Cpu);
        vcpu.Access(Va, AccessKind.Read, 3);
        ShadowPage table = ScenarioGuest.LeafPage(vcpu, Va, out int index)!;
        ulong leaf = table[index];

        // An empty entry (past the prefetch group) gets a copy of the leaf by a plain store: no reverse map knows it.
        int empty = (index | 7) + 1;
        Assert.Equal(0UL, table[empty]);
        using (vm.MmuLock.Enter())
        {
            table.SetGfn(empty, table.GfnAt(index));
            table.Set(empty, leaf);
        }

        AuditResult audit = vm.Audit();
        Assert.Contains(audit.Stale, s => s.Problem == "reverse map: the leaf is not on its frame's reverse map" && s.ShadowPath.StartsWith($"{table}[{empty}]", System.StringComparison.Ordinal));
    }

    [Fact]
    public void A_link_whose_leaf_went_is_reported()
    {
        using ScenarioGuest guest = ScenarioGuest.Build("long4");
        var vm = new Vm(guest.Memory);
        Vcpu vcpu = vm.AddVcpu(guest.Cpu);
        vcpu.Access(Va, AccessKind.Read, 3);
        ShadowPage table = ScenarioGuest.LeafPage(vcpu, Va, out int index)!;

        // The leaf cleared by a plain store, its reverse-map link left in place.
        using (vm.MmuLock.Enter())
        {
            table.Set(index, 0);
        }

        AuditResult audit = vm.Audit();
        Assert.Contains(audit.Stale, s => s.Problem.StartsWith("reverse map: the entry is on the reverse map of frame", System.StringComparison.Ordinal)
            && s.Problem.EndsWith("but holds no leaf", System.StringComparison.Ordinal));
    }
}
