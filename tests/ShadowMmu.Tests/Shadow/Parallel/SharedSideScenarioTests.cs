using System;
using System.Diagnostics;
using System.Threading;
using Xunit;

namespace ShadowMmu.Tests.Shadow.Parallel;

/// <summary>
/// The shared side's two arguments (docs/parallel-faults.md), each as a deterministic scenario with the window made
/// wide: at <see cref="SchedulingPoint.SharedBeforeInstall"/> a fault on the shared side has re-checked the guest PTE
/// and not yet installed its leaf, and another thread acts there. With the design, nothing is stale; with the one rule
/// the argument rests on broken on purpose (<see cref="SharedSideFlaw"/>), the audit finds the stale leaf.
/// </summary>
public class SharedSideScenarioTests
{
    private const ulong Va = ScenarioGuest.Va;
    private const ulong TableMap = 0x8000_0000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<string> AllModes => new() { "legacy32", "pae", "long4", "long5", "ept4", "ept5" };

    // INVLPG flushes linear translations; a nested guest's (EPT) are flushed by INVEPT, which runs on the exclusive side.
    public static TheoryData<string> X86Modes => new() { "legacy32", "pae", "long4", "long5" };

    /// <summary>
    /// A trapped write lands between the shared-side re-check and the install: its handler needs the exclusive side, so it
    /// waits for the install and zaps it. Without that exclusion (the flaw), the zap runs first, finds nothing (the
    /// leaf is a tombstone), and the install that follows maps the frame the guest no longer maps.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllModes))]
    public void A_trapped_write_never_falls_between_the_shared_recheck_and_the_install(string mode)
    {
        Assert.True(TrappedWriteAtInstall(mode, SharedSideFlaw.None).Clean);

        AuditResult flawed = TrappedWriteAtInstall(mode, SharedSideFlaw.TrapWithoutExclusion);
        StaleEntry stale = Assert.Single(flawed.Stale);
        Assert.Contains($"but the guest maps 0x{ScenarioGuest.NewFrame >> 12:x}", stale.Problem, StringComparison.Ordinal);
    }

    /// <summary>
    /// Two vCPUs race different values into one entry of an unsync table: vCPU 0 re-checked the old PTE; meanwhile the
    /// kernel (vCPU 1) rewrites it, which does not trap, and flushes it with INVLPG on the shared side. vCPU 0's
    /// compare-exchange from the value it read before its re-check fails, and its retry maps the new frame. A plain store
    /// (the flaw) installs the old frame after the flush: stale.
    /// </summary>
    [Theory]
    [MemberData(nameof(X86Modes))]
    public void A_flush_between_the_shared_recheck_and_the_install_makes_the_install_fail(string mode)
    {
        Assert.True(UnsyncRewriteAndFlushAtInstall(mode, SharedSideFlaw.None) is { Clean: true, Pending: 0 });

        AuditResult flawed = UnsyncRewriteAndFlushAtInstall(mode, SharedSideFlaw.PlainStoreInstall);
        Assert.Contains($"but the guest maps 0x{ScenarioGuest.NewFrame >> 12:x}", Assert.Single(flawed.Stale).Problem, StringComparison.Ordinal);
    }

    /// <summary>
    /// The ABA guard: the fault read a tombstone before its re-check, and the flush finds a tombstone too. Stamped, the
    /// flush writes a value no one wrote before and the fault's compare-exchange fails; unstamped (the flaw), the flush
    /// writes back the value the fault expects, the compare-exchange succeeds and installs the old frame after the flush.
    /// </summary>
    [Theory]
    [MemberData(nameof(X86Modes))]
    public void A_flush_over_a_tombstone_stamps_it_anew(string mode)
    {
        AuditResult flawed = UnsyncRewriteAndFlushAtInstall(mode, SharedSideFlaw.UnstampedTombstones);
        Assert.Contains($"but the guest maps 0x{ScenarioGuest.NewFrame >> 12:x}", Assert.Single(flawed.Stale).Problem, StringComparison.Ordinal);
    }

    /// <summary>Two vCPUs whose shadow pages exist fault on the shared side at once; a fault that needs a page does not.</summary>
    [Fact]
    public void Steady_faults_run_on_the_shared_side_and_new_pages_on_the_exclusive_side()
    {
        using ScenarioGuest guest = ScenarioGuest.Build("long4");
        var vm = new Vm(guest.Memory);
        Vcpu vcpu = vm.AddVcpu(guest.Cpu);
        Assert.Equal(ScenarioGuest.OldFrame, vcpu.Access(Va, AccessKind.Read, 3).Gpa);
        Assert.Equal(0, vm.Stats.SharedFaults);
        Assert.Equal(1, vm.Stats.ExclusiveRetries);   // the first fault: every page to create

        vcpu.Invlpg(Va);
        ShadowPage table = ScenarioGuest.LeafPage(vcpu, Va, out int index)!;
        Assert.True(Spte.IsTombstone(table[index]));
        Assert.Equal(ScenarioGuest.OldFrame, vcpu.Access(Va, AccessKind.Read, 3).Gpa);
        Assert.Equal(1, vm.Stats.SharedFaults);
        Assert.Equal(1, vm.Stats.ExclusiveRetries);

        // A trapped write drops the leaf on the exclusive side (off the reverse map): its refault adds to the map again.
        ulong pte = guest.Memory.ReadEntry(guest.PteGpa, guest.Info.EntryBytes);
        vm.GuestWrite(guest.PteGpa, pte, guest.Info.EntryBytes);
        Assert.Equal(0UL, table[index]);
        Assert.Equal(ScenarioGuest.OldFrame, vcpu.Access(Va, AccessKind.Read, 3).Gpa);
        Assert.Equal(2, vm.Stats.ExclusiveRetries);
        Assert.True(vm.Audit().Clean);
    }

    /// <summary>
    /// A vCPU installs with a plain store into a page only its roots reach; another vCPU comes to reach the page only on
    /// the exclusive side (here: added, it loads the same CR3), which waits for the hold in progress, so an install
    /// begun with the page its own also ends so.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllModes))]
    public void A_second_vcpu_reaches_a_page_only_between_the_first_ones_holds(string mode)
    {
        using ScenarioGuest guest = ScenarioGuest.Build(mode);
        var vm = new Vm(guest.Memory);
        Vcpu vcpu = vm.AddVcpu(guest.Cpu);
        vcpu.Access(Va, AccessKind.Read, 3);
        vcpu.Invlpg(Va);
        ShadowPage table = ScenarioGuest.LeafPage(vcpu, Va, out _)!;
        long shared = vm.Stats.SharedFaults;

        Vcpu? second = null;
        var adder = new Thread(() => Volatile.Write(ref second, vm.AddVcpu(guest.Cpu))) { IsBackground = true };
        vm.Scheduling = new AtInstall(() =>
        {
            adder.Start();
            SpinUntil(() => vm.MmuLock.IsWriterPresent);
            Assert.Null(Volatile.Read(ref second));
            Assert.Equal(vcpu.Id, table.ReachedBy);
        });
        Assert.Equal(ScenarioGuest.OldFrame, vcpu.Access(Va, AccessKind.Read, 3).Gpa);
        Assert.True(adder.Join(Timeout), "the second vCPU was not added");
        vm.Scheduling = null;

        Assert.Equal(shared + 1, vm.Stats.SharedFaults);
        Assert.Equal(ShadowPage.ManyVcpus, table.ReachedBy);
        Assert.Equal(ScenarioGuest.OldFrame, Volatile.Read(ref second)!.Access(Va, AccessKind.Read, 3).Gpa);
        Assert.True(vm.Audit().Clean);
    }

    private static AuditResult TrappedWriteAtInstall(string mode, SharedSideFlaw flaw)
    {
        using ScenarioGuest guest = ScenarioGuest.Build(mode);
        int entryBytes = guest.Info.EntryBytes;
        ulong newPte = (guest.Memory.ReadEntry(guest.PteGpa, entryBytes) & ~guest.FrameMask) | ScenarioGuest.NewFrame;
        var vm = new Vm(guest.Memory) { Flaw = flaw };
        Vcpu vcpu = vm.AddVcpu(guest.Cpu);
        vcpu.Access(Va, AccessKind.Read, 3);
        vcpu.Invlpg(Va);
        long shared = vm.Stats.SharedFaults, trapped = vm.Stats.TrappedWrites;

        using var landed = new ManualResetEventSlim();
        var writer = new Thread(() => vm.GuestWrite(guest.PteGpa, newPte, entryBytes, landed.Set)) { IsBackground = true };
        vm.Scheduling = new AtInstall(() =>
        {
            writer.Start();
            Assert.True(landed.Wait(Timeout), "the guest store did not land");
            if (flaw == SharedSideFlaw.TrapWithoutExclusion)
            {
                Assert.True(writer.Join(Timeout), "the trap handler did not finish");
            }
            else
            {
                // The handler announced itself on the exclusive side: it waits for this hold to end.
                SpinUntil(() => vm.MmuLock.IsWriterPresent);
            }
        });
        vcpu.Access(Va, AccessKind.Read, 3);
        Assert.True(writer.Join(Timeout), "the trap handler did not finish");
        vm.Scheduling = null;

        Assert.Equal(shared + 1, vm.Stats.SharedFaults);
        Assert.Equal(trapped + 1, vm.Stats.TrappedWrites);
        AuditResult audit = vm.Audit();
        if (audit.Clean)
        {
            Assert.Equal(ScenarioGuest.NewFrame, vcpu.Access(Va, AccessKind.Read, 3).Gpa);
        }

        return audit;
    }

    private static AuditResult UnsyncRewriteAndFlushAtInstall(string mode, SharedSideFlaw flaw)
    {
        using ScenarioGuest guest = ScenarioGuest.Build(mode);
        GuestEntryFlags f = guest.Flags;
        int entryBytes = guest.Info.EntryBytes;
        ulong pteGpa = guest.PteGpa;
        guest.Builder.Map(TableMap, pteGpa & ~0xFFFUL, 0x1000, f.Present | f.Leaf(writable: true, user: true, execute: false),
            f.Present | f.Writable | f.User | f.Executable | f.Accessed);
        ulong newPte = (guest.Memory.ReadEntry(pteGpa, entryBytes) & ~guest.FrameMask) | ScenarioGuest.NewFrame;
        var vm = new Vm(guest.Memory) { Flaw = flaw };
        Vcpu vcpu = vm.AddVcpu(guest.Cpu);
        vcpu.Access(Va, AccessKind.Read, 3);

        // The kernel's vCPU joins after vCPU 0 has faulted alone, its installs plain stores into pages only it reached; the
        // kernel's root is vCPU 0's, and every page below it is now marked as reached by both.
        Assert.Equal(vcpu.Id, ScenarioGuest.LeafPage(vcpu, Va, out _)!.ReachedBy);
        Vcpu kernel = vm.AddVcpu(guest.Cpu);
        Assert.Equal(ShadowPage.ManyVcpus, ScenarioGuest.LeafPage(vcpu, Va, out _)!.ReachedBy);

        // The kernel stores into its page table once (a neighbour, unchanged): the table goes unsync, and the kernel's
        // mapping of it is installed writable, so its stores below neither fault nor trap.
        ulong neighbour = pteGpa + (ulong)entryBytes;
        Assert.Equal(AccessOutcome.Translated, kernel.Write(TableMap + (neighbour & 0xFFF), guest.Memory.ReadEntry(neighbour, entryBytes), entryBytes, 0).Outcome);
        Assert.True(ScenarioGuest.LeafPage(vcpu, Va, out _)!.Unsync);
        vcpu.Invlpg(Va);
        long shared = vm.Stats.SharedFaults;

        vm.Scheduling = new AtInstall(() =>
        {
            // vCPU 1, while vCPU 0 sits between its re-check and its install (both on the shared side at once).
            var other = new Thread(() =>
            {
                kernel.Write(TableMap + (pteGpa & 0xFFF), newPte, entryBytes, 0);
                kernel.Invlpg(Va);
            }) { IsBackground = true };
            other.Start();
            Assert.True(other.Join(Timeout), "the kernel's rewrite and flush did not finish");
        });
        vcpu.Access(Va, AccessKind.Read, 3);
        vm.Scheduling = null;

        Assert.True(vm.Stats.SharedFaults > shared);
        return vm.Audit();
    }

    private static void SpinUntil(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Timeout, "timed out");
            Thread.Yield();
        }
    }

    /// <summary>Runs an action once, the first time a fault on the shared side reaches its install.</summary>
    private sealed class AtInstall(Action action) : ISchedulingPoints
    {
        private int _done;

        public void At(SchedulingPoint point)
        {
            if (point == SchedulingPoint.SharedBeforeInstall && Interlocked.Exchange(ref _done, 1) == 0)
            {
                action();
            }
        }

        public void Spin() => Thread.Yield();
    }
}
