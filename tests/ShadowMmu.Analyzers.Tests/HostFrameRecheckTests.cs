using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>
    /// MMU0007, KVM's second "read outside the lock, validate inside" protocol: a host frame resolved without the lock is
    /// trusted under it only after a re-check of an invalidation-sequence snapshot taken before the frame was resolved
    /// (mmu_invalidate_retry_gfn), in that lock region, on every path. The runtime's shape (its re-check guarded by a
    /// [RecheckSwitch]) and its near misses.
    /// </summary>
    public class HostFrameRecheckTests
    {
        private const string Resolved = "'pfn' (= 'vm.Host.Resolve(gfn)')";

        private static Task Clean(string code) => Verify.Analyzer(Prelude.Wrap(code));

        private static Task Reported(string code, string value, string detail = "") =>
            Verify.Analyzer(Prelude.Wrap(code), Verify.Diagnostic(DiagnosticIds.UncheckedHostFrame).WithLocation(0).WithArguments(value, "'Vm.MmuLock'", detail));

        [Fact]
        public Task TheRuntimesShape_ReCheckGuardedByItsSwitch_IsClean() => Clean(@"
class C
{
    bool Fault(Vm vm, ulong gfn)
    {
        long mmuSeq = vm.SnapshotSeq();
        ulong pfn = vm.Host.Resolve(gfn);
        lock (vm.MmuLock)
        {
            bool checkSequence = vm.SequenceCheck;
            bool stale = checkSequence && vm.RetryGfn(mmuSeq, gfn);
            Guest.Consume((ulong)mmuSeq);
            if (stale)
            {
                return false;
            }

            vm.Install(gfn, pfn);
            return true;
        }
    }
}");

        [Fact]
        public Task ReCheckOnEveryPath_IsClean() => Clean(@"
class C
{
    void Fault(Vm vm, ulong gfn, bool write)
    {
        while (true)
        {
            long seq = vm.SnapshotSeq();
            ulong pfn = vm.Host.Resolve(gfn);
            ulong frame = pfn << 12;
            lock (vm.MmuLock)
            {
                if (write)
                {
                    if (vm.RetryGfn(seq, gfn)) continue;
                }
                else if (!vm.NoInvalidationSince(seq))
                {
                    continue;
                }

                vm.Install(gfn, pfn);
                vm.Install(gfn, frame >> 12);
                return;
            }
        }
    }
}");

        [Fact]
        public Task ResolvedUnderTheLock_OrWithTheAtomicLookup_IsClean() => Clean(@"
class C
{
    void Prefetch(Vm vm, ulong gfn)
    {
        lock (vm.MmuLock)
        {
            vm.Install(gfn, vm.Host.Resolve(gfn));
            if (vm.Host.TryResolveAtomic(gfn + 1, out ulong next))
            {
                vm.Install(gfn + 1, next);
            }
        }
    }
}");

        [Fact]
        public Task NoReCheck_IsReported() => Reported(@"
class C
{
    void Fault(Vm vm, ulong gfn)
    {
        long seq = vm.SnapshotSeq();
        ulong pfn = vm.Host.Resolve(gfn);
        lock (vm.MmuLock)
        {
            vm.Install(gfn, {|#0:pfn|});
        }
    }
}", Resolved);

        [Fact]
        public Task SnapshotTakenAfterTheFrameWasResolved_IsReported() => Reported(@"
class C
{
    void Fault(Vm vm, ulong gfn)
    {
        ulong pfn = vm.Host.Resolve(gfn);
        long seq = vm.SnapshotSeq();
        lock (vm.MmuLock)
        {
            if (vm.RetryGfn(seq, gfn)) return;
            vm.Install(gfn, {|#0:pfn|});
        }
    }
}", Resolved, "; the sequence re-checked here ('vm.SnapshotSeq()') was snapshotted after the frame was resolved, so an invalidation between the two goes unseen");

        [Fact]
        public Task ReCheckGuardedByAPlainFlag_IsReported() => Reported(@"
class C
{
    void Fault(Vm vm, ulong gfn, bool check)
    {
        long seq = vm.SnapshotSeq();
        ulong pfn = vm.Host.Resolve(gfn);
        lock (vm.MmuLock)
        {
            bool stale = check && vm.RetryGfn(seq, gfn);
            if (stale) return;
            vm.Install(gfn, {|#0:pfn|});
        }
    }
}", Resolved, "; it is re-checked only on some paths, or after this use");

        [Fact]
        public Task ThroughLocalFunctions_TheOrderStillCounts() => Reported(@"
class C
{
    void Fault(Vm vm, ulong gfn)
    {
        long Snapshot() => vm.SnapshotSeq();
        ulong Frame() => vm.Host.Resolve(gfn);
        ulong pfn = Frame();
        long late = Snapshot();
        ulong covered = Frame();
        lock (vm.MmuLock)
        {
            if (vm.RetryGfn(late, gfn)) return;
            vm.Install(gfn, covered);
            vm.Install(gfn, {|#0:pfn|});
        }
    }
}", "'pfn' (= 'Frame()')", "; the sequence re-checked here ('Snapshot()') was snapshotted after the frame was resolved, so an invalidation between the two goes unseen");

        [Fact]
        public Task ReCheckInAnEarlierLockRegion_IsReported() => Reported(@"
class C
{
    void Fault(Vm vm, ulong gfn)
    {
        long seq = vm.SnapshotSeq();
        ulong pfn = vm.Host.Resolve(gfn);
        lock (vm.MmuLock)
        {
            if (vm.RetryGfn(seq, gfn)) return;
        }

        lock (vm.MmuLock)
        {
            vm.Install(gfn, {|#0:pfn|});
        }
    }
}", Resolved);

        [Fact]
        public Task ReCheckOfAnotherSnapshotTakenLater_DoesNotCoverTheFrame() => Reported(@"
class C
{
    void Fault(Vm vm, ulong gfn)
    {
        long first = vm.SnapshotSeq();
        ulong pfn = vm.Host.Resolve(gfn);
        long second = vm.SnapshotSeq();
        ulong other = vm.Host.Resolve(gfn + 1);
        lock (vm.MmuLock)
        {
            if (vm.RetryGfn(second, gfn)) return;
            vm.Install(gfn + 1, other);
            vm.Install(gfn, {|#0:pfn|});
        }
    }
}", Resolved, "; the sequence re-checked here ('vm.SnapshotSeq()') was snapshotted after the frame was resolved, so an invalidation between the two goes unseen");

        [Fact]
        public Task SnapshotTakenBeforeTheResolutionOnOnePathOnly_DoesNotCoverTheFrame() => Reported(@"
class C
{
    void Fault(Vm vm, ulong gfn, bool early)
    {
        long seq = 0;
        if (early) seq = vm.SnapshotSeq();
        ulong pfn = vm.Host.Resolve(gfn);
        if (!early) seq = vm.SnapshotSeq();
        lock (vm.MmuLock)
        {
            if (vm.RetryGfn(seq, gfn)) return;
            vm.Install(gfn, {|#0:pfn|});
        }
    }
}", Resolved, "; the sequence re-checked here ('vm.SnapshotSeq()') was snapshotted after the frame was resolved, so an invalidation between the two goes unseen");

        [Fact]
        public Task ReCheckOfASnapshotRetakenAfterTheResolutionOnOnePath_DoesNotCoverTheFrame() => Reported(@"
class C
{
    void Fault(Vm vm, ulong gfn, bool again)
    {
        long seq = vm.SnapshotSeq();
        ulong pfn = vm.Host.Resolve(gfn);
        if (again) seq = vm.SnapshotSeq();
        lock (vm.MmuLock)
        {
            if (vm.RetryGfn(seq, gfn)) return;
            vm.Install(gfn, {|#0:pfn|});
        }
    }
}", Resolved, "; the sequence re-checked here ('vm.SnapshotSeq()') was snapshotted after the frame was resolved, so an invalidation between the two goes unseen");

        [Fact]
        public Task SnapshotOnBothPathsBeforeTheResolution_CoversTheFrame() => Clean(@"
class C
{
    void Fault(Vm vm, ulong gfn, bool early)
    {
        long seq;
        if (early) { seq = vm.SnapshotSeq(); } else { seq = vm.SnapshotSeq(); }
        ulong pfn = vm.Host.Resolve(gfn);
        lock (vm.MmuLock)
        {
            if (vm.RetryGfn(seq, gfn)) return;
            vm.Install(gfn, pfn);
        }
    }
}");
    }
}
