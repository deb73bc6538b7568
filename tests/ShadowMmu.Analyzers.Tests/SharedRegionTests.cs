using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>
    /// A reader-writer mmu_lock's shared side (<c>using (vm.MmuLock.EnterShared(slot))</c>, an [MmuLock(Shared = true)]
    /// scope, and the body of a [RequiresMmuLock(Shared = true)] method) is a lock region: MMU0001 and MMU0007 count a
    /// re-validation made in it and report a use in it without one, exactly as under the exclusive side; releasing it
    /// ends the re-validation. MMU0002, MMU0003 and MMU0004 treat it as they treat any region.
    /// </summary>
    public class SharedRegionTests
    {
        private const string LockName = "'RwVm.MmuLock'";

        private static DiagnosticResult Unchecked(int location, string value, string lockName = LockName, string detail = "") =>
            Verify.Diagnostic(DiagnosticIds.UncheckedGuestPte).WithLocation(location).WithArguments(value, lockName, detail);

        [Fact]
        public Task ReValidationUnderTheSharedSide_Counts() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    bool Fault(RwVm vm, ref Walk walk, int slot)
    {
        using (vm.MmuLock.EnterShared(slot))
        {
            if (!Guest.Unchanged(walk.PteGpa[3], walk.Ptes[3])) return false;
            vm.InstallLeaf(walk.Ptes[3]);
        }

        using var shared = vm.MmuLock.EnterShared(slot);
        if (Guest.Changed(walk.PteGpa[2], walk.Ptes[2])) return false;
        vm.InstallLeaf(walk.Ptes[2]);
        return true;
    }
}"));

        [Fact]
        public Task UseUnderTheSharedSideWithoutReValidation_IsReported() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void Fault(RwVm vm, ref Walk walk, int slot)
    {
        using (vm.MmuLock.EnterShared(slot))
        {
            vm.InstallLeaf({|#0:walk.Ptes[3]|});
        }

        using var shared = vm.MmuLock.EnterShared(slot);
        if (!Guest.Unchanged(walk.PteGpa[1], walk.Ptes[1])) return;
        vm.InstallLeaf({|#1:walk.Ptes[2]|});
    }
}"), Unchecked(0, "'walk.Ptes[3]'"), Unchecked(1, "'walk.Ptes[2]'", detail: "; the re-validation on this path checks 'walk.Ptes[1]', a different entry"));

        [Fact]
        public Task ReValidationDoesNotOutliveTheSharedScope() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    bool Fault(RwVm vm, ref Walk walk, int slot)
    {
        using (vm.MmuLock.EnterShared(slot))
        {
            if (!Guest.Unchanged(walk.PteGpa[3], walk.Ptes[3])) return false;
        }

        using (vm.MmuLock.EnterShared(slot))
        {
            vm.InstallLeaf({|#0:walk.Ptes[3]|});
        }

        return true;
    }
}"), Unchecked(0, "'walk.Ptes[3]'"));

        [Fact]
        public Task ReValidatedUnderTheSharedSide_UsedUnderTheExclusiveSideAfterIt_IsReported() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    bool Fault(RwVm vm, ref Walk walk, int slot)
    {
        using (vm.MmuLock.EnterShared(slot))
        {
            if (!Guest.Unchanged(walk.PteGpa[3], walk.Ptes[3])) return false;
        }

        using (vm.MmuLock.Enter())
        {
            vm.Link({|#0:walk.Ptes[3]|});
        }

        return true;
    }
}"), Unchecked(0, "'walk.Ptes[3]'"));

        [Fact]
        public Task SharedRequiringMethodsBody_IsASharedRegion_ForReValidation() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    [RequiresMmuLock(Shared = true)]
    bool Install(RwVm vm, [UnlockedGuestPte] ulong pte, ulong gpa)
    {
        if (!Guest.Unchanged(gpa, pte)) return false;
        vm.InstallLeaf(pte);
        return true;
    }

    [RequiresMmuLock(Shared = true)]
    void InstallUnchecked(RwVm vm, [UnlockedGuestPte] ulong pte) => vm.InstallLeaf({|#0:pte|});
}"), Unchecked(0, "'pte'", "the mmu_lock's shared side held on entry to 'InstallUnchecked' ([RequiresMmuLock(Shared = true)])"));

        [Fact]
        public Task HostFrameReCheckedUnderTheSharedSide_Counts_AndUnCheckedIsReported() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    bool Fault(RwVm vm, ulong gfn, int slot)
    {
        long seq = vm.SnapshotSeq();
        ulong pfn = vm.Host.Resolve(gfn);
        using (vm.MmuLock.EnterShared(slot))
        {
            if (!vm.NoInvalidationSince(seq)) return false;
            vm.Install(gfn, pfn);
        }

        using (vm.MmuLock.EnterShared(slot))
        {
            vm.Install(gfn, {|#0:pfn|});
        }

        return true;
    }
}"), Verify.Diagnostic(DiagnosticIds.UncheckedHostFrame).WithLocation(0).WithArguments("'pfn' (= 'vm.Host.Resolve(gfn)')", LockName, string.Empty));

        [Fact]
        public Task EitherSideSatisfiesASharedRequiringMethod_NoLockIsMMU0002() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(RwVm vm, int slot)
    {
        using (vm.MmuLock.EnterShared(slot)) { vm.InstallLeaf(1); }
        using (vm.MmuLock.EnterRead()) { vm.InstallLeaf(1); }
        using (vm.MmuLock.Enter()) { vm.InstallLeaf(2); vm.Zap(); }
        using (new SharedScope(vm.MmuLock)) { vm.InstallLeaf(3); }
        {|#0:vm.InstallLeaf(4)|};
        {|#1:vm.Zap()|};
    }

    [RequiresMmuLock]
    void Exclusive(RwVm vm) => vm.InstallLeaf(5);

    [RequiresMmuLock(Shared = true)]
    void Shared(RwVm vm) => vm.InstallLeaf(6);
}"),
            Verify.Diagnostic(DiagnosticIds.LockNotHeld).WithLocation(0).WithArguments("InstallLeaf", "; take 'vm.MmuLock' first"),
            Verify.Diagnostic(DiagnosticIds.LockNotHeld).WithLocation(1).WithArguments("Zap", "; take 'vm.MmuLock' first"));

        [Fact]
        public Task SharedScopeNotDisposed_IsMMU0003() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(RwVm vm, int slot)
    {
        var scope = {|#0:vm.MmuLock.EnterShared(slot)|};
        vm.InstallLeaf(1);
        var released = vm.MmuLock.EnterShared(slot);
        try { vm.InstallLeaf(2); } finally { released.Dispose(); }
    }
}"), Verify.Diagnostic(DiagnosticIds.LockNotReleased).WithLocation(0).WithArguments(LockName));

        /// <summary>
        /// The lock's parameterless shared entry (EnterRead) is declared before its exclusive one: MMU0004 and its fix take
        /// the exclusive side, which is what 'lock' meant (before issue 18 the first scope entry found was named).
        /// </summary>
        [Fact]
        public Task LockStatementOnAReaderWriterLock_NamesItsExclusiveEntry() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(RwVm vm)
    {
        {|#0:lock (vm.MmuLock)|} { }
    }
}"), Verify.Diagnostic(DiagnosticIds.MonitorOnScopedLock).WithLocation(0).WithArguments("RwVm.MmuLock", "vm.MmuLock.Enter()"));
    }
}
