using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;
using ShadowMmu.Analyzers.CodeFixes;
using Xunit;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>
    /// An mmu_lock taken through a scope (<c>using (vm.MmuLock.Enter())</c>, the runtime's spin lock): its regions, their
    /// names in messages, MMU0004 for <c>lock</c> on it, and both fixes writing the scope.
    /// </summary>
    public class ScopedLockTests
    {
        private const string LockName = "SpinVm.MmuLock";

        private static DiagnosticResult MonitorOnScopedLock(int location) =>
            Verify.Diagnostic("MMU0004").WithLocation(location).WithArguments(LockName, "vm.MmuLock.Enter()");

        private static DiagnosticResult NotHeld(int location) =>
            Verify.Diagnostic("MMU0002").WithLocation(location).WithArguments("Zap", "; take 'vm.MmuLock' first");

        [Fact]
        public Task CallsUnderTheScope_AreClean() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(SpinVm vm)
    {
        using (vm.MmuLock.Enter()) { vm.Zap(); }
        using (var held = vm.MmuLock.Enter()) { vm.Zap(); }
        using var scope = vm.MmuLock.Enter();
        vm.Zap();
    }
}"));

        [Fact]
        public Task LockStatementOnIt_IsReported_AndIsNoRegion() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(SpinVm vm)
    {
        {|#0:lock (vm.MmuLock)|}
        {
            {|#1:vm.Zap()|};
        }
    }
}"), MonitorOnScopedLock(0), NotHeld(1));

        [Fact]
        public Task LockStatementOnAMonitorLock_IsNotReported() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(Vm vm)
    {
        lock (vm.MmuLock) { vm.Zap(); }
    }
}"));

        [Fact]
        public Task ScopeNotDisposed_IsReported_UnderTheLocksName() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(SpinVm vm)
    {
        var scope = {|#0:vm.MmuLock.Enter()|};
        vm.Zap();
    }
}"), Verify.Diagnostic("MMU0003").WithLocation(0).WithArguments("'" + LockName + "'"));

        [Fact]
        public Task UncheckedPteUnderTheScope_NamesTheLock() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(SpinVm vm, ref Walk walk)
    {
        using (vm.MmuLock.Enter())
        {
            vm.Link({|#0:walk.Ptes[3]|});
        }
    }
}"), Verify.Diagnostic("MMU0001").WithLocation(0).WithArguments("'walk.Ptes[3]'", "'" + LockName + "'", string.Empty));

        [Fact]
        public Task TakeTheLockFix_WritesTheScope() => Verify.Fix<TakeMmuLockCodeFix>(Prelude.Wrap(@"
class C
{
    void M(SpinVm vm)
    {
        {|#0:vm.Zap()|};
    }
}"), Prelude.Wrap(@"
class C
{
    void M(SpinVm vm)
    {
        using (vm.MmuLock.Enter())
        {
            vm.Zap();
        }
    }
}"), NotHeld(0));

        [Fact]
        public Task UseTheScopeFix_ReplacesTheLockStatement_KeepingTheBody() => Verify.Fix<UseLockScopeCodeFix>(Prelude.Wrap(@"
class C
{
    void M(SpinVm vm)
    {
        // the region
        {|#0:lock (vm.MmuLock)|}
        {
            Guest.Consume(1);
        }
    }
}"), Prelude.Wrap(@"
class C
{
    void M(SpinVm vm)
    {
        // the region
        using (vm.MmuLock.Enter())
        {
            Guest.Consume(1);
        }
    }
}"), MonitorOnScopedLock(0));
    }
}
