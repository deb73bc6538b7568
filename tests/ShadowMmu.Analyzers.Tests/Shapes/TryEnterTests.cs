using System.Threading.Tasks;
using Xunit;
using static ShadowMmu.Analyzers.Tests.Shapes.ShapeVerify;

namespace ShadowMmu.Analyzers.Tests.Shapes
{
    /// <summary>Monitor.TryEnter and Lock.TryEnter released in a finally take the lock on their success path (issue 16).</summary>
    public class TryEnterTests
    {
        [Fact]
        public Task TryEnter_WithItsTryFinally_IsALockRegion() => Clean(@"
class C
{
    void InTheIf(Vm vm)
    {
        if (Monitor.TryEnter(vm.MmuLock))
        {
            try { vm.Zap(); } finally { Monitor.Exit(vm.MmuLock); }
        }
    }

    void AfterAnEarlyExit(Vm vm)
    {
        if (!Monitor.TryEnter(vm.MmuLock, 10)) return;
        try { vm.Zap(); } finally { Monitor.Exit(vm.MmuLock); }
    }

    void WithTheTakenFlag(Vm vm)
    {
        bool taken = false;
        try
        {
            Monitor.TryEnter(vm.MmuLock, ref taken);
            if (!taken) return;
            vm.Zap();
        }
        finally
        {
            if (taken) Monitor.Exit(vm.MmuLock);
        }
    }

    void OnALock(Vm vm)
    {
        if (vm.FastLock.TryEnter())
        {
            try { vm.Zap(); } finally { vm.FastLock.Exit(); }
        }
    }
}");

        [Fact]
        public Task TryEnter_OutsideItsSuccessPath_TheLockIsNotHeld() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(Vm vm)
    {
        if (Monitor.TryEnter(vm.MmuLock))
        {
            try { } finally { Monitor.Exit(vm.MmuLock); }
        }

        {|#0:vm.Zap()|};
    }
}"), Verify.Diagnostic(DiagnosticIds.LockNotHeld).WithLocation(0).WithArguments("Zap", "; take 'vm.MmuLock' first"));

        [Fact]
        public Task TryEnter_NotReleased_IsReported() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(Vm vm)
    {
        if ({|#0:Monitor.TryEnter(vm.MmuLock)|})
        {
            vm.Zap();
        }
    }
}"), Verify.Diagnostic(DiagnosticIds.LockNotReleased).WithLocation(0).WithArguments("'Vm.MmuLock'"));

        [Fact]
        public Task TryEnter_ItsRegionChecksGuestPteUses() => Unchecked(@"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        if (Monitor.TryEnter(vm.MmuLock))
        {
            try { vm.Link({|#0:walk.Ptes[1]|}); } finally { Monitor.Exit(vm.MmuLock); }
        }
    }
}", "'walk.Ptes[1]'");
    }
}
