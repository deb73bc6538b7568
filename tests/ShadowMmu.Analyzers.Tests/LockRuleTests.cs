using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>MMU0002 (lock-requiring call without the lock) and MMU0003 (lock not released on every path).</summary>
    public class LockRuleTests
    {
        private static DiagnosticResult NotHeld(int location, string method, string hint) =>
            Verify.Diagnostic("MMU0002").WithLocation(location).WithArguments(method, hint);

        private static DiagnosticResult NotReleased(int location, string lockName) =>
            Verify.Diagnostic("MMU0003").WithLocation(location).WithArguments(lockName);

        [Fact]
        public Task CallWithoutTheLock_IsReported_WithTheLockToTake() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(Vm vm)
    {
        {|#0:vm.Zap()|};
    }
}"), NotHeld(0, "Zap", "; take 'vm.MmuLock' first"));

        [Fact]
        public Task CallsUnderEveryKindOfLock_AreClean() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(Vm vm)
    {
        lock (vm.MmuLock) { vm.Zap(); }
        using (vm.FastLock.EnterScope()) { vm.Zap(); }
        using (vm.Enter()) { vm.Zap(); }
        Monitor.Enter(vm.MmuLock);
        try { vm.Zap(); } finally { Monitor.Exit(vm.MmuLock); }
        vm.FastLock.Enter();
        try { vm.Zap(); } finally { vm.FastLock.Exit(); }
        using var scope = vm.Enter();
        vm.Zap();
    }

    [RequiresMmuLock]
    void Locked(Vm vm) => vm.Zap();
}"));

        [Fact]
        public Task ImplementationOfARequiringInterfaceMethod_InheritsTheRequirement() => Verify.Analyzer(Prelude.Wrap(@"
interface IFetcher
{
    [RequiresMmuLock] void Fetch(Vm vm);
}

class Fetcher : IFetcher
{
    public void Fetch(Vm vm) => vm.Zap();
}

class Caller
{
    void M(Vm vm, Fetcher fetcher, IFetcher viaInterface)
    {
        {|#0:fetcher.Fetch(vm)|};
        {|#1:viaInterface.Fetch(vm)|};
        lock (vm.MmuLock)
        {
            fetcher.Fetch(vm);
        }
    }
}"), NotHeld(0, "Fetch", "; take 'vm.MmuLock' first"), NotHeld(1, "Fetch", "; take 'vm.MmuLock' first"));

        [Fact]
        public Task LambdaInsideTheLock_DoesNotHoldIt() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    Action M(Vm vm)
    {
        lock (vm.MmuLock)
        {
            return () => {|#0:vm.Zap()|};
        }
    }
}"), NotHeld(0, "Zap", "; take 'vm.MmuLock' first"));

        [Fact]
        public Task LockOfTheContainingType_IsSuggested() => Verify.Analyzer(Prelude.Wrap(@"
class Mmu
{
    [MmuLock] private readonly object _lock = new object();

    [RequiresMmuLock] void Zap() { }

    void M()
    {
        {|#0:Zap()|};
    }
}"), NotHeld(0, "Zap", "; take '_lock' first"));

        [Fact]
        public Task MonitorEnterWithoutFinally_IsReported() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(Vm vm)
    {
        {|#0:Monitor.Enter(vm.MmuLock)|};
        vm.Zap();
        Monitor.Exit(vm.MmuLock);
    }
}"), NotReleased(0, "'Vm.MmuLock'"));

        [Fact]
        public Task LockEnterWithoutFinally_IsReported() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(Vm vm)
    {
        {|#0:vm.FastLock.Enter()|};
        vm.Zap();
        vm.FastLock.Exit();
    }
}"), NotReleased(0, "'Vm.FastLock'"));

        [Fact]
        public Task ScopeOutsideUsing_IsReported_UnlessDisposedInFinally() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(Vm vm)
    {
        var leaked = {|#0:vm.Enter()|};
        vm.Zap();
        var scope = vm.FastLock.EnterScope();
        try
        {
            vm.Zap();
        }
        finally
        {
            scope.Dispose();
        }

        {|#1:vm.FastLock.EnterScope()|};
    }
}"), NotReleased(0, "'MmuScope'"), NotReleased(1, "'Vm.FastLock'"));

        [Fact]
        public Task LockTakenFlag_IsReleasedOnEveryPath() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(Vm vm)
    {
        bool taken = false;
        try
        {
            Monitor.Enter(vm.MmuLock, ref taken);
            vm.Zap();
        }
        finally
        {
            if (taken) Monitor.Exit(vm.MmuLock);
        }
    }
}"));

        [Fact]
        public Task ScopeTypeImplementation_IsNotReported() => Verify.Analyzer(Prelude.Wrap(@"
[MmuLock]
sealed class OwnScope : IDisposable
{
    private readonly Vm _vm;
    public OwnScope(Vm vm) { _vm = vm; Monitor.Enter(vm.MmuLock); }
    public void Dispose() => Monitor.Exit(_vm.MmuLock);
    public static OwnScope Take(Vm vm) => new OwnScope(vm);
}"));
    }
}
