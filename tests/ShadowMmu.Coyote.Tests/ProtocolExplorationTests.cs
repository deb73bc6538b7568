using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Coyote;
using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Coyote.Tests;

/// <summary>
/// Coyote explores the interleavings of a vCPU, the guest's kernel (rewriting its page tables, through its own mapping
/// of them and as trapped writes, and flushing) and the host (moving frames) over the MMU's hook points
/// (<see cref="SchedulingPoint"/>), and the audit judges each run. With KVM's protocols nothing is stale in any
/// schedule explored; with a check taken away Coyote finds the race, and its schedule replays it.
/// </summary>
public class ProtocolExplorationTests
{
    private const ulong Va = ScenarioGuest.Va;
    private const ulong TableMap = 0x8000_0000;

    private readonly ITestOutputHelper _output;

    public ProtocolExplorationTests(ITestOutputHelper output) => _output = output;

    /// <summary>What the kernel thread does in one run.</summary>
    public enum Kernel
    {
        /// <summary>Nothing: the vCPU and the host only.</summary>
        Idle,

        /// <summary>Rewrites the PTE of <see cref="Va"/> through its mapping of the page table (unsync), then INVLPG (EPT: INVEPT).</summary>
        UnsyncRewrite,

        /// <summary>Rewrites the PTE with a write that traps (the table in sync), as the seed's race.</summary>
        TrappedRewrite,

        /// <summary>
        /// Rewrites the PTE through its mapping of the unsync table, without a flush, while the vCPU reloads CR3 (a
        /// sync of every unsync table its root reaches, after which the table is in sync and must be exact): the store
        /// lands before the sync write-protects the table, or traps after it.
        /// </summary>
        UnsyncRewriteDuringSync,
    }

    private static Configuration Config(uint iterations, uint seed) => Configuration.Create()
        .WithTestingIterations(iterations)
        .WithRandomGeneratorSeed(seed)
        .WithMaxSchedulingSteps(5_000)
        .WithPartiallyControlledConcurrencyAllowed(false);

    /// <summary>One run: the guest, the VM under Coyote's scheduling, three threads, the audit as the specification.</summary>
    /// <param name="kernelJoinsLate">
    /// The kernel's vCPU is added by the kernel thread itself, while the vCPU faults: until it loads the same CR3, the
    /// vCPU's pages are reached by it alone and its installs are plain stores (<c>ShadowPage.ReachedBy</c>).
    /// </param>
    private static Func<Task> Run(string mode, Kernel kernel, bool sequenceCheck, RecheckOrder recheck, bool unsync = true, SharedSideFlaw flaw = SharedSideFlaw.None, bool kernelJoinsLate = false) => async () =>
    {
        using ScenarioGuest guest = ScenarioGuest.Build(mode);
        GuestEntryFlags f = guest.Flags;
        ulong pteGpa = guest.PteGpa;
        guest.Builder.Map(TableMap, pteGpa & ~0xFFFUL, 0x1000, f.Present | f.Leaf(writable: true, user: true, execute: false),
            f.Present | f.Writable | f.User | f.Executable | f.Accessed);
        int entryBytes = guest.Info.EntryBytes;
        ulong oldPte = guest.Memory.ReadEntry(pteGpa, entryBytes);
        ulong newPte = (oldPte & ~guest.FrameMask) | ScenarioGuest.NewFrame;
        var vm = new Vm(guest.Memory) { SequenceCheck = sequenceCheck, RecheckOrder = recheck, UnsyncEnabled = unsync, Flaw = flaw };
        Vcpu cpu = vm.AddVcpu(guest.Cpu);
        Vcpu? kernelCpu = kernelJoinsLate ? null : vm.AddVcpu(guest.Cpu);

        // The starting state: the path shadowed, the leaf dropped (the vCPU's access will fault); with unsync, the
        // table unsync already (the kernel stored into it once).
        cpu.Access(Va, AccessKind.Read, 3);
        bool unsyncRewrite = kernel is Kernel.UnsyncRewrite or Kernel.UnsyncRewriteDuringSync;
        if (unsyncRewrite)
        {
            (kernelCpu ?? cpu).Write(TableMap + ((pteGpa + (ulong)entryBytes) & 0xFFF), guest.Memory.ReadEntry(pteGpa + (ulong)entryBytes, entryBytes), entryBytes, 3);
        }

        cpu.Invlpg(Va);
        vm.Scheduling = new CoyoteScheduling();

        Task access = Task.Run(() =>
        {
            if (kernel == Kernel.UnsyncRewriteDuringSync)
            {
                cpu.SetState(cpu.State);
            }

            cpu.Access(Va, AccessKind.Read, 3);
            cpu.Access(Va + 0x1000, AccessKind.Read, 3);
        });
        Task guestKernel = Task.Run(() =>
        {
            kernelCpu ??= vm.AddVcpu(guest.Cpu);
            switch (kernel)
            {
                case Kernel.UnsyncRewrite:
                    kernelCpu.Write(TableMap + (pteGpa & 0xFFF), newPte, entryBytes, 3);
                    if (guest.Flags.IsEpt)
                    {
                        // L1 flushes its EPT with INVEPT; INVLPG does not touch guest-physical translations.
                        kernelCpu.Invept(allContexts: false);
                    }
                    else
                    {
                        kernelCpu.Invlpg(Va);
                    }

                    break;
                case Kernel.UnsyncRewriteDuringSync:
                    kernelCpu.Write(TableMap + (pteGpa & 0xFFF), newPte, entryBytes, 3);
                    break;
                case Kernel.TrappedRewrite:
                    vm.GuestWrite(pteGpa, newPte, entryBytes);
                    break;
            }
        });
        // The host moves the frames the PTE names; while a sync runs, or with a flaw of the shared side, the frame the
        // kernel's write names (a move of the old frame would zap the leaf a lost write or a stale install leaves behind,
        // and hide it).
        ulong moved = kernel == Kernel.UnsyncRewriteDuringSync || flaw != SharedSideFlaw.None ? ScenarioGuest.NewFrame : ScenarioGuest.OldFrame;
        Task host = Task.Run(() => vm.MoveGuestFrames(moved >> 12, 2));
        await access;
        await guestKernel;
        await host;

        vm.Scheduling = null;
        AuditResult audit = vm.Audit();
        Specification.Assert(audit.Clean, "stale: {0}", string.Join(" | ", audit.Stale));
    };

    private TestReport Explore(Func<Task> test, uint iterations, uint seed, out string trace)
    {
        using var engine = TestingEngine.Create(Config(iterations, seed), test);
        engine.Run();
        trace = engine.ReproducibleTrace;
        TestReport report = engine.TestReport;
        _output.WriteLine($"{report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths} schedules explored, {report.NumOfFoundBugs} bug(s)");
        foreach (string bug in report.BugReports)
        {
            _output.WriteLine("  " + bug);
        }

        return report;
    }

    public static TheoryData<string, Kernel> Clean => new()
    {
        { "long4", Kernel.Idle },
        { "long4", Kernel.UnsyncRewrite },
        { "long4", Kernel.TrappedRewrite },
        { "legacy32", Kernel.UnsyncRewrite },
        { "pae", Kernel.TrappedRewrite },
        { "ept4", Kernel.UnsyncRewrite },
        { "long4", Kernel.UnsyncRewriteDuringSync },
        { "pae", Kernel.UnsyncRewriteDuringSync },
    };

    /// <summary>KVM's protocols (guest PTE re-check, sequence re-check, unsync and sync): no stale entry in any schedule explored.</summary>
    [Theory]
    [MemberData(nameof(Clean))]
    public void No_schedule_leaves_a_stale_entry_with_kvms_protocols(string mode, Kernel kernel)
    {
        TestReport report = Explore(Run(mode, kernel, sequenceCheck: true, RecheckOrder.Fixed), iterations: 200, seed: 17, out _);

        Assert.Equal(0, report.NumOfFoundBugs);
        Assert.True(report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths > 0);
    }

    /// <summary>
    /// The kernel's vCPU joins while the VM's first vCPU faults alone (its installs plain stores): its root load takes the
    /// exclusive side, so no install begun alone ends beside the kernel's rewrite and flush; nothing stale in any schedule.
    /// </summary>
    [Theory]
    [InlineData("long4", Kernel.UnsyncRewrite)]
    [InlineData("pae", Kernel.TrappedRewrite)]
    public void No_schedule_leaves_a_stale_entry_when_a_second_vcpu_joins_a_fault(string mode, Kernel kernel)
    {
        TestReport report = Explore(Run(mode, kernel, sequenceCheck: true, RecheckOrder.Fixed, kernelJoinsLate: true), iterations: 200, seed: 17, out _);

        Assert.Equal(0, report.NumOfFoundBugs);
        Assert.True(report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths > 0);
    }

    /// <summary>
    /// Without the sequence re-check Coyote finds the host race (an invalidation between the frame's resolution and
    /// the install: <c>simulate --scenario host-invalidate --order write-first --seq-check off</c>), and the schedule it
    /// records replays the same stale entry.
    /// </summary>
    [Fact]
    public void Without_the_sequence_check_a_schedule_goes_stale_and_replays()
    {
        TestReport report = Explore(Run("long4", Kernel.Idle, sequenceCheck: false, RecheckOrder.Fixed), iterations: 400, seed: 17, out string trace);

        Assert.True(report.NumOfFoundBugs > 0, "Coyote found no stale schedule without the sequence check");
        string bug = report.BugReports.First();
        Assert.Contains("is backed by host frame", bug, StringComparison.Ordinal);

        Configuration replay = Configuration.Create().WithReproducibleTrace(trace).WithPartiallyControlledConcurrencyAllowed(false);
        using var engine = TestingEngine.Create(replay, Run("long4", Kernel.Idle, sequenceCheck: false, RecheckOrder.Fixed));
        engine.Run();
        Assert.Equal(1, engine.TestReport.NumOfFoundBugs);
        Assert.Equal(bug, engine.TestReport.BugReports.First());
    }

    /// <summary>With the 2010 re-check order Coyote finds the seed's race (a trapped PTE rewrite against the fault).</summary>
    [Fact]
    public void With_the_pre_fix_order_a_schedule_goes_stale()
    {
        TestReport report = Explore(Run("long4", Kernel.TrappedRewrite, sequenceCheck: true, RecheckOrder.PreFix), iterations: 400, seed: 17, out _);

        Assert.True(report.NumOfFoundBugs > 0, "Coyote found no stale schedule with the pre-fix order");
    }

    /// <summary>
    /// The shared side's flaws, each found by Coyote over the hook points (the vCPU's fault and the kernel's flush both on
    /// the shared side, the kernel's trapped write on the exclusive one), and each schedule replays the same stale entry:
    /// an install by plain store, or over a tombstone a flush wrote back unstamped, lands after the kernel's rewrite and
    /// flush of an unsync table; a trapped write whose handler does not wait for the shared side zaps before the install.
    /// </summary>
    [Theory]
    [InlineData(nameof(SharedSideFlaw.PlainStoreInstall), Kernel.UnsyncRewrite)]
    [InlineData(nameof(SharedSideFlaw.UnstampedTombstones), Kernel.UnsyncRewrite)]
    [InlineData(nameof(SharedSideFlaw.TrapWithoutExclusion), Kernel.TrappedRewrite)]
    public void With_a_shared_side_flaw_a_schedule_goes_stale_and_replays(string flawName, Kernel kernel)
    {
        SharedSideFlaw flaw = Enum.Parse<SharedSideFlaw>(flawName);
        TestReport report = Explore(Run("long4", kernel, sequenceCheck: true, RecheckOrder.Fixed, flaw: flaw), iterations: 3000, seed: 17, out string trace);

        Assert.True(report.NumOfFoundBugs > 0, $"Coyote found no stale schedule with {flaw}");
        string bug = report.BugReports.First();
        Assert.Contains($"but the guest maps 0x{ScenarioGuest.NewFrame >> 12:x}", bug, StringComparison.Ordinal);

        Configuration replay = Configuration.Create().WithReproducibleTrace(trace).WithPartiallyControlledConcurrencyAllowed(false);
        using var engine = TestingEngine.Create(replay, Run("long4", kernel, sequenceCheck: true, RecheckOrder.Fixed, flaw: flaw));
        engine.Run();
        Assert.Equal(1, engine.TestReport.NumOfFoundBugs);
        Assert.Equal(bug, engine.TestReport.BugReports.First());
    }
}
