using System.Linq;
using Xunit;

namespace ShadowMmu.Tests.Shadow.Parallel;

/// <summary>
/// Which vCPUs' roots reach each shadow page (<see cref="ShadowPage.ReachedBy"/>): a vCPU installs with a plain store
/// only in pages no other vCPU reaches, so a mark must never be lower than what really reaches the page. Marks are set
/// where a root is made and where a page is linked, and passed down when they change; the audit checks them.
/// </summary>
public class ReachTests
{
    private const ulong Va = ScenarioGuest.Va;
    private const ulong OwnTables = 0x60_0000;
    private const ulong OwnFrame = 0x31_0000;

    public static TheoryData<string> AllModes => new() { "legacy32", "pae", "long4", "long5", "ept4", "ept5" };

    /// <summary>Two vCPUs in address spaces of their own each reach their pages alone; one that loads the other's CR3 shares them.</summary>
    [Theory]
    [MemberData(nameof(AllModes))]
    public void Own_address_spaces_are_reached_by_one_vcpu_and_a_shared_cr3_by_many(string mode)
    {
        using ScenarioGuest guest = ScenarioGuest.Build(mode);
        var vm = new Vm(guest.Memory);
        Vcpu first = vm.AddVcpu(guest.Cpu);
        Vcpu second = vm.AddVcpu(OwnAddressSpace(guest));
        Assert.Equal(ScenarioGuest.OldFrame, first.Access(Va, AccessKind.Read, 3).Gpa);
        Assert.Equal(OwnFrame, second.Access(Va, AccessKind.Read, 3).Gpa);

        ShadowPage firstLeaves = ScenarioGuest.LeafPage(first, Va, out _)!, secondLeaves = ScenarioGuest.LeafPage(second, Va, out _)!;
        Assert.NotSame(firstLeaves, secondLeaves);
        Assert.All(PathOf(first, Va), page => Assert.Equal(first.Id, page.ReachedBy));
        Assert.All(PathOf(second, Va), page => Assert.Equal(second.Id, page.ReachedBy));
        Assert.True(vm.Audit().Clean);

        // The second vCPU switches to the first's CR3: the first's root and everything below it are now reached by both;
        // the second's own pages stay its own (its old roots are cached for a switch back).
        second.SetState(guest.Cpu);
        Assert.Equal(ScenarioGuest.OldFrame, second.Access(Va, AccessKind.Read, 3).Gpa);
        Assert.All(PathOf(first, Va), page => Assert.Equal(ShadowPage.ManyVcpus, page.ReachedBy));
        Assert.Equal(second.Id, secondLeaves.ReachedBy);
        Assert.True(vm.Audit().Clean);
    }

    /// <summary>
    /// Two address spaces whose top-level tables differ but name the same table below: the second vCPU's fault links its
    /// root to the first's page, which with every page below it is marked as reached by many; the roots stay their own.
    /// </summary>
    [Theory]
    [InlineData("long4")]
    [InlineData("long5")]
    [InlineData("ept4")]
    [InlineData("ept5")]
    public void A_table_two_address_spaces_share_is_reached_by_many_below_their_own_roots(string mode)
    {
        using ScenarioGuest guest = ScenarioGuest.Build(mode);
        var vm = new Vm(guest.Memory);
        Vcpu first = vm.AddVcpu(guest.Cpu);
        Assert.Equal(ScenarioGuest.OldFrame, first.Access(Va, AccessKind.Read, 3).Gpa);
        Vcpu second = vm.AddVcpu(CopyOfTopTable(guest));
        Assert.All(PathOf(first, Va), page => Assert.Equal(first.Id, page.ReachedBy));

        Assert.Equal(ScenarioGuest.OldFrame, second.Access(Va, AccessKind.Read, 3).Gpa);
        ShadowPage[] firstPath = PathOf(first, Va), secondPath = PathOf(second, Va);
        Assert.NotSame(firstPath[0], secondPath[0]);
        Assert.Equal(first.Id, firstPath[0].ReachedBy);
        Assert.Equal(second.Id, secondPath[0].ReachedBy);
        Assert.Equal(firstPath.Skip(1), secondPath.Skip(1));
        Assert.All(firstPath.Skip(1), page => Assert.Equal(ShadowPage.ManyVcpus, page.ReachedBy));
        Assert.True(vm.Audit().Clean);
    }

    /// <summary>The audit reports a page marked lower than its parent, and a root not marked with its vCPU.</summary>
    [Fact]
    public void The_audit_finds_a_mark_lower_than_what_reaches_the_page()
    {
        using ScenarioGuest guest = ScenarioGuest.Build("long4");
        var vm = new Vm(guest.Memory);
        Vcpu first = vm.AddVcpu(guest.Cpu);
        Vcpu second = vm.AddVcpu(guest.Cpu);
        first.Access(Va, AccessKind.Read, 3);
        second.Access(Va, AccessKind.Read, 3);
        ShadowPage[] path = PathOf(first, Va);
        Assert.True(vm.Audit().Clean);

        path[^1].ReachedBy = first.Id;
        StaleEntry child = Assert.Single(vm.Audit().Stale);
        Assert.Contains("reach: the child is marked lower than its parent", child.Problem, System.StringComparison.Ordinal);

        path[^1].ReachedBy = ShadowPage.ManyVcpus;
        path[0].ReachedBy = first.Id;
        StaleEntry root = Assert.Single(vm.Audit().Stale);
        Assert.Contains($"reach: the root of vCPU {second.Id} is not marked as reached by it", root.Problem, System.StringComparison.Ordinal);
    }

    // The shadow pages on va's path, root first.
    private static ShadowPage[] PathOf(Vcpu vcpu, ulong va)
    {
        var path = new System.Collections.Generic.List<ShadowPage>();
        for (ShadowPage? page = vcpu.RootFor(va); page != null;)
        {
            path.Add(page);
            ulong link = page.Role.Level > 1 ? page[Vcpu.ShadowIndex(va, page.Role.Level)] : 0;
            page = Spte.IsPresent(link) ? vcpu.Vm.Page(Spte.ChildId(link)) : null;
        }

        return path.ToArray();
    }

    // An address space of its own: its tables from OwnTables, Va mapped to OwnFrame.
    private static CpuState OwnAddressSpace(ScenarioGuest guest)
    {
        var builder = new PageTableBuilder(guest.Memory, guest.Info, OwnTables, OwnTables + 0x10_0000);
        GuestEntryFlags f = guest.Flags;
        builder.Map(Va, OwnFrame, 0x1000, f.Present | f.Leaf(writable: true, user: true, execute: true), f.Present | f.Writable | f.User | f.Executable | f.Accessed);
        return PagingModeFacts.Of(guest.Info).SelectingState(builder.Root);
    }

    // Another top-level table, a copy of the guest's: the same tables below it.
    private static CpuState CopyOfTopTable(ScenarioGuest guest)
    {
        ulong root = guest.Builder.Root & ~0xFFFUL;
        for (ulong offset = 0; offset < 0x1000; offset += 8)
        {
            guest.Memory.WriteUInt64(OwnTables + offset, guest.Memory.ReadEntry(root + offset, 8));
        }

        return PagingModeFacts.Of(guest.Info).SelectingState(OwnTables);
    }
}
