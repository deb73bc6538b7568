using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace ShadowMmu;

/// <summary>When the host's invalidation runs relative to the fault (<c>simulate --scenario host-invalidate --order</c>).</summary>
public enum HostInvalidateOrder
{
    /// <summary>Between the frame's resolution and the install: the whole invalidation (start, move, end) runs there.</summary>
    WriteFirst,

    /// <summary>After the install: the invalidation starts from the host's thread while the fault holds the mmu_lock, and runs once it is released.</summary>
    FetchFirst,
}

/// <summary>
/// The second read-outside-validate-inside protocol of KVM's fault path, deterministic: the fault snapshots
/// <c>mmu_invalidate_seq</c>, resolves the guest frame to a host frame without the mmu_lock, and only under the lock,
/// before it installs anything, re-checks the sequence and the in-progress range (<c>is_page_fault_stale</c>,
/// <c>mmu_invalidate_retry_gfn</c>). The host moves the faulting frame to another host frame at the order's point.
/// </summary>
/// <remarks>
/// Stale exactly in one combination: write-first with the sequence check off. The invalidation ran after the fault
/// resolved the old host frame and before it took the lock; its start zapped nothing (the old frame was not mapped
/// yet), its end bumped the sequence; without the check the fault installs the old host frame, which the host has
/// freed, and nothing will ever zap it. With the check the fault sees the sequence moved and retries, resolving the
/// new frame. Fetch-first, the invalidation's start waits for the mmu_lock, then zaps what the fault installed: clean
/// with or without the check (the retried access resolves the new frame after the end).
/// </remarks>
public static class HostInvalidateScenario
{
    /// <summary>The scenario's name on the command line.</summary>
    public const string Name = "host-invalidate";

    /// <summary>The orders' names: <c>write-first</c>, <c>fetch-first</c>.</summary>
    public static IReadOnlyList<string> OrderNames { get; } = new[] { "write-first", "fetch-first" };

    /// <summary>Runs the scenario in <paramref name="mode"/>; <paramref name="log"/> receives each step as it happens.</summary>
    /// <exception cref="ArgumentException">No built-in mode is named <paramref name="mode"/>.</exception>
    public static ProtocolScenarioResult Run(string mode, HostInvalidateOrder order, bool sequenceCheck, RecheckOrder recheck = RecheckOrder.Fixed, TextWriter? log = null)
    {
        if (!Enum.IsDefined(order))
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, null);
        }

        using ScenarioGuest guest = ScenarioGuest.Build(mode);
        var steps = new RaceScenario.StepLog(log);
        string orderName = OrderNames[(int)order];
        string settings = $"seq-check {(sequenceCheck ? "on" : "off")}";
        steps.Add($"scenario: {Name} {orderName} with {settings}, re-check order {RaceScenario.Name(recheck)}, {guest.Info.Name} guest");
        // The scenario narrates the seed's protocol, one exclusive hold per fault (the shared side's own scenarios: SharedSideScenario).
        var vm = new Vm(guest.Memory) { RecheckOrder = recheck, SequenceCheck = sequenceCheck, SharedFaults = false };
        Vcpu vcpu = vm.AddVcpu(guest.Cpu);
        ulong gfn = ScenarioGuest.OldFrame >> 12;
        steps.Add($"setup: the guest maps 0x{ScenarioGuest.Va:x} -> guest frame 0x{ScenarioGuest.OldFrame:x}, which host frame 0x{vm.Host.PfnOf(gfn) << 12:x} backs");

        var hooks = new Hooks(vm, steps, order, gfn);
        vm.FetchHooks = hooks;
        AccessResult access;
        long seqRetries = vm.Stats.SeqRetries;
        steps.Add($"vCPU 0 reads 0x{ScenarioGuest.Va:x}");
        try
        {
            access = vcpu.Access(ScenarioGuest.Va, AccessKind.Read, 3);
        }
        finally
        {
            vm.FetchHooks = null;
            hooks.Finish();
        }

        if (!hooks.Moved)
        {
            throw new InvalidOperationException("Host-invalidate scenario: the host never moved the frame.");
        }

        string landed = access.Gpa == HostFrames.NoGuestFrame ? "a host frame that backs no guest frame any more" : $"0x{access.Gpa:x}";
        steps.Add($"access: 0x{ScenarioGuest.Va:x} -> {landed} after {vm.Stats.Faults} fault(s), {vm.Stats.SeqRetries - seqRetries} sequence retr{(vm.Stats.SeqRetries - seqRetries == 1 ? "y" : "ies")}; "
            + $"shadow leaf now {ScenarioGuest.DescribeLeaf(vcpu, ScenarioGuest.Va)}; the host backs guest frame 0x{ScenarioGuest.OldFrame:x} with host frame 0x{vm.Host.PfnOf(gfn) << 12:x}");
        AuditResult audit = vm.Audit();
        ScenarioGuest.NarrateAudit(steps, audit);
        return new ProtocolScenarioResult(Name, guest.Info.Name, orderName, settings, steps.Lines, audit) { Stats = vm.Stats, SequenceCheck = sequenceCheck };
    }

    /// <summary>Narrates the fault and moves the frame at the order's point.</summary>
    private sealed class Hooks : IFetchHooks
    {
        private readonly Vm _vm;
        private readonly RaceScenario.StepLog _steps;
        private readonly HostInvalidateOrder _order;
        private readonly ulong _gfn;
        private Thread? _host;
        private Exception? _hostError;
        private Vcpu? _vcpu;
        private int _fault;

        public Hooks(Vm vm, RaceScenario.StepLog steps, HostInvalidateOrder order, ulong gfn)
        {
            _vm = vm;
            _steps = steps;
            _order = order;
            _gfn = gfn;
        }

        public bool Moved { get; private set; }

        public void AfterChildPage(int level, ShadowPage child)
        {
        }

        public void AfterWalk(Vcpu vcpu, in GuestWalk walk)
        {
            _vcpu = vcpu;
            _fault++;
            _steps.Add($"fault {_fault}: the shadow tables miss 0x{walk.Va:x}; the guest walk (no mmu_lock) reads the PTE at 0x{walk.PteGpa[0]:x}: guest frame 0x{walk.Gfn << 12:x}");
        }

        public void AfterResolve(Vcpu vcpu, in GuestWalk walk, long mmuSeq, ulong pfn)
        {
            _steps.Add($"fault {_fault}: snapshots mmu_invalidate_seq = {mmuSeq}, then resolves guest frame 0x{walk.Gfn << 12:x} to host frame 0x{pfn << 12:x} (no mmu_lock)");
            if (_order == HostInvalidateOrder.WriteFirst && !Moved)
            {
                Moved = true;
                _vm.MoveGuestFrames(_gfn, 1);
                _steps.Add($"host: invalidate_range_start over guest frame 0x{_gfn << 12:x} (in progress; zaps {Zapped()} under the mmu_lock), moves it to host frame 0x{_vm.Host.PfnOf(_gfn) << 12:x}, "
                    + $"invalidate_range_end (mmu_invalidate_seq = {_vm.MmuInvalidateSeq})");
            }
        }

        public void AfterSequenceCheck(Vcpu vcpu, bool checkedSequence, bool stale)
        {
            _steps.Add(!checkedSequence
                ? $"fault {_fault}: mmu_lock taken; the sequence is not re-checked (seq-check off)"
                : stale
                    ? $"fault {_fault}: mmu_lock taken; mmu_invalidate_seq is {_vm.MmuInvalidateSeq} now, not the snapshot's: the host frame may be stale, retry the fault"
                    : $"fault {_fault}: mmu_lock taken; mmu_invalidate_seq unchanged and no invalidation in progress over the frame");
        }

        public void AfterFetch(Vcpu vcpu, FetchOutcome outcome)
        {
            _steps.Add(outcome == FetchOutcome.Mapped
                ? $"fetch: installs {ScenarioGuest.DescribeLeaf(vcpu, ScenarioGuest.Va)}"
                : "fetch: retry");
            if (_order == HostInvalidateOrder.FetchFirst && !Moved)
            {
                Moved = true;
                _host = new Thread(() =>
                {
                    try
                    {
                        _vm.MoveGuestFrames(_gfn, 1);
                    }
                    catch (Exception e)
                    {
                        _hostError = e;
                    }
                })
                {
                    IsBackground = true,
                    Name = "host-invalidate scenario: host",
                };
                _host.Start();
                _steps.Add($"host (another thread): invalidate_range_start over guest frame 0x{_gfn << 12:x} waits for the mmu_lock");
            }
        }

        public void AfterUnlock(Vcpu vcpu)
        {
            _steps.Add($"fault {_fault}: mmu_lock released");
            if (_host != null)
            {
                Join();
                _steps.Add($"host: the start zapped the leaf the fault installed; moved the frame to host frame 0x{_vm.Host.PfnOf(_gfn) << 12:x}; "
                    + $"invalidate_range_end (mmu_invalidate_seq = {_vm.MmuInvalidateSeq}); shadow leaf now {ScenarioGuest.DescribeLeaf(vcpu, ScenarioGuest.Va)}");
            }
        }

        public void Finish() => Join();

        private void Join()
        {
            if (_host == null)
            {
                return;
            }

            if (!_host.Join(TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException("Host-invalidate scenario: the host thread did not finish.");
            }

            _host = null;
            if (_hostError != null)
            {
                throw new InvalidOperationException("Host-invalidate scenario: the host thread failed.", _hostError);
            }
        }

        private string Zapped() => _vcpu == null ? "nothing" : Spte.IsPresent(ScenarioGuest.LeafPage(_vcpu, ScenarioGuest.Va, out int i)?[i] ?? 0) ? "the leaf" : "nothing: no shadow entry maps it yet";
    }
}
