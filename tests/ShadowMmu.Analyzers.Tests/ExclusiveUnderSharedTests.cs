using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;
using ShadowMmu.Analyzers.CodeFixes;
using Xunit;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>
    /// MMU0008: a method that needs the exclusive side ([RequiresMmuLock], inherited by overrides and implementations)
    /// called where only the shared side is held; its near misses (either side for a [RequiresMmuLock(Shared = true)]
    /// method, the exclusive side taken after the shared one, no lock at all is MMU0002's) and its fix.
    /// </summary>
    public class ExclusiveUnderSharedTests
    {
        private const string LockName = "'RwVm.MmuLock'";

        private static DiagnosticResult UnderShared(int location, string method, string region = LockName, string hint = "") =>
            Verify.Diagnostic(DiagnosticIds.ExclusiveUnderShared).WithLocation(location).WithArguments(method, region, hint);

        /// <summary>MMU0008 with its fix: the additional location is the call that took the shared side.</summary>
        private static DiagnosticResult Upgradable(int location, string method, int entry, string shared = "vm.MmuLock.EnterShared(slot)") =>
            UnderShared(location, method, hint: "; take 'vm.MmuLock.Enter()' in place of '" + shared + "'").WithLocation(entry);

        [Fact]
        public Task ExclusiveCallUnderASharedScope_IsReported() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(RwVm vm, int slot)
    {
        using ({|#10:vm.MmuLock.EnterShared(slot)|})
        {
            {|#0:vm.Zap()|};
        }

        using var shared = {|#11:vm.MmuLock.EnterShared(slot + 1)|};
        {|#1:vm.Link(1)|};
    }
}"), Upgradable(0, "Zap", 10), Upgradable(1, "Link", 11, "vm.MmuLock.EnterShared(slot + 1)"));

        [Fact]
        public Task ExclusiveCallInASharedRequiringBody_IsReported_WithoutAFix() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    [RequiresMmuLock(Shared = true)]
    void Probe(RwVm vm)
    {
        vm.InstallLeaf(1);
        {|#0:vm.Zap()|};
        using (vm.MmuLock.EnterShared(0))
        {
            vm.InstallLeaf(2);
            {|#1:vm.Zap()|};
        }
    }
}"),
            UnderShared(0, "Zap", "the mmu_lock's shared side held on entry to 'Probe' ([RequiresMmuLock(Shared = true)])"),
            UnderShared(1, "Zap"));

        [Fact]
        public Task ScopeMadeDirectly_IsReported_WithoutAFix() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(RwVm vm)
    {
        using (new SharedScope(vm.MmuLock))
        {
            {|#0:vm.Zap()|};
        }
    }
}"), UnderShared(0, "Zap", "'SharedScope'"));

        [Fact]
        public Task InheritedRequirement_IsItsSide() => Verify.Analyzer(Prelude.Wrap(@"
interface IZapper
{
    [RequiresMmuLock] void Zap(RwVm vm);
    [RequiresMmuLock(Shared = true)] void Peek(RwVm vm);
}

class Zapper : IZapper
{
    public void Zap(RwVm vm) { }
    public void Peek(RwVm vm) { }
}

class Base
{
    [RequiresMmuLock] public virtual void Flush() { }
    [RequiresMmuLock(Shared = true)] public virtual void Prefetch() { }
}

class Derived : Base
{
    public override void Flush() { }
    public override void Prefetch() { }
}

class C
{
    void M(RwVm vm, Zapper zapper, IZapper viaInterface, Derived derived, int slot)
    {
        using ({|#10:vm.MmuLock.EnterShared(slot)|})
        {
            {|#0:zapper.Zap(vm)|};
            {|#1:viaInterface.Zap(vm)|};
            {|#2:derived.Flush()|};
            zapper.Peek(vm);
            viaInterface.Peek(vm);
            derived.Prefetch();
        }
    }
}"),
            Upgradable(0, "Zap", 10),
            Upgradable(1, "Zap", 10),
            Upgradable(2, "Flush", 10));

        [Fact]
        public Task NearMisses_AreQuiet() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(RwVm vm, Vm plain, int slot)
    {
        // Either side does for a shared-requiring method.
        using (vm.MmuLock.EnterShared(slot)) { vm.InstallLeaf(1); }

        // The shared side left, the exclusive side taken.
        using (vm.MmuLock.EnterShared(slot)) { vm.InstallLeaf(2); }
        using (vm.MmuLock.Enter()) { vm.Zap(); }

        // The exclusive side held around the shared scope.
        using (vm.MmuLock.Enter())
        {
            using (vm.MmuLock.EnterShared(slot)) { vm.Zap(); }
        }

        // A plain lock has only the exclusive side.
        lock (plain.MmuLock) { plain.Zap(); }
    }

    [RequiresMmuLock]
    void Exclusive(RwVm vm, int slot)
    {
        using (vm.MmuLock.EnterShared(slot)) { vm.Zap(); }
    }
}"));

        [Fact]
        public Task OutsideEveryRegion_ItIsMMU0002_InALambdaToo() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    Action M(RwVm vm, int slot)
    {
        {|#0:vm.Zap()|};
        using (vm.MmuLock.EnterShared(slot))
        {
            return () => {|#1:vm.Zap()|};
        }
    }
}"),
            Verify.Diagnostic(DiagnosticIds.LockNotHeld).WithLocation(0).WithArguments("Zap", "; take 'vm.MmuLock' first"),
            Verify.Diagnostic(DiagnosticIds.LockNotHeld).WithLocation(1).WithArguments("Zap", "; take 'vm.MmuLock' first"));

        [Fact]
        public Task Fix_TakesTheExclusiveSideInPlaceOfTheShared_FixAllOnce() => Verify.Fix<TakeExclusiveSideCodeFix>(Prelude.Wrap(@"
class C
{
    void M(RwVm vm, int slot)
    {
        using ({|#10:vm.MmuLock.EnterShared(slot)|})
        {
            {|#0:vm.Zap()|};
            vm.InstallLeaf(1);
            {|#1:vm.Link(1)|};
        }

        using (SharedScope held = {|#11:vm.MmuLock.EnterShared(slot)|})
        {
            {|#2:vm.Zap()|};
        }

        using var shared = /* the reader's */ {|#12:vm.MmuLock.EnterShared(slot)|};
        {|#3:vm.Zap()|};
    }
}"), Prelude.Wrap(@"
class C
{
    void M(RwVm vm, int slot)
    {
        using (vm.MmuLock.Enter())
        {
            vm.Zap();
            vm.InstallLeaf(1);
            vm.Link(1);
        }

        using (var held = vm.MmuLock.Enter())
        {
            vm.Zap();
        }

        using var shared = /* the reader's */ vm.MmuLock.Enter();
        vm.Zap();
    }
}"),
            Upgradable(0, "Zap", 10),
            Upgradable(1, "Link", 10),
            Upgradable(2, "Zap", 11),
            Upgradable(3, "Zap", 12));
    }
}
