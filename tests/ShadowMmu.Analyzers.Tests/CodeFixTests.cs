using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;
using ShadowMmu.Analyzers.CodeFixes;
using Xunit;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>Each code fix's output, each retry shape, and fix-all.</summary>
    public class CodeFixTests
    {
        private static DiagnosticResult Unchecked(int location, string value, string lockName = "'Vm.MmuLock'", string detail = "") =>
            Verify.Diagnostic("MMU0001").WithLocation(location).WithArguments(value, lockName, detail);

        private static Task Revalidate(string before, string after, params DiagnosticResult[] expected) =>
            Verify.Fix<RevalidateGuestPteCodeFix>(Prelude.Wrap(before), Prelude.Wrap(after), expected);

        [Fact]
        public Task SeedBug_BoolMethod_InsertsTheRootCheckWithReturnFalse() => Revalidate(@"
class C
{
    bool Fetch(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            vm.Link({|#0:walk.Ptes[3]|});
            if (!Guest.Unchanged(walk.PteGpa[2], walk.Ptes[2])) return false;
            return true;
        }
    }
}", @"
class C
{
    bool Fetch(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[3], walk.Ptes[3]))
            {
                return false;
            }

            vm.Link(walk.Ptes[3]);
            if (!Guest.Unchanged(walk.PteGpa[2], walk.Ptes[2])) return false;
            return true;
        }
    }
}", Unchecked(0, "'walk.Ptes[3]'", detail: "; the re-validation nearby checks 'walk.Ptes[2]', a different entry"));

        [Fact]
        public Task KvmLoopWithoutRootCheck_InsertsTheRootCheckBeforeTheLoop() => Revalidate(@"
class C
{
    bool Fetch(Vm vm, ref Walk walk)
    {
        int top = walk.MaxLevel;
        lock (vm.MmuLock)
        {
            for (int level = top; level > walk.Level; level--)
            {
                vm.Link({|#0:walk.Ptes[level - 1]|});
                if (!Guest.Unchanged(walk.PteGpa[level - 2], walk.Ptes[level - 2])) return false;
            }

            return true;
        }
    }
}", @"
class C
{
    bool Fetch(Vm vm, ref Walk walk)
    {
        int top = walk.MaxLevel;
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[top - 1], walk.Ptes[top - 1]))
            {
                return false;
            }

            for (int level = top; level > walk.Level; level--)
            {
                vm.Link(walk.Ptes[level - 1]);
                if (!Guest.Unchanged(walk.PteGpa[level - 2], walk.Ptes[level - 2])) return false;
            }

            return true;
        }
    }
}", Unchecked(0, "'walk.Ptes[level - 1]'", detail: "; the re-validation nearby checks 'walk.Ptes[level - 2]', a different entry"));

        [Fact]
        public Task EnumWithRetry_ReturnsRetry() => Revalidate(@"
enum Outcome { Mapped, Retry }

class C
{
    Outcome Fetch(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            vm.Link({|#0:walk.Ptes[1]|});
            return Outcome.Mapped;
        }
    }
}", @"
enum Outcome { Mapped, Retry }

class C
{
    Outcome Fetch(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[1], walk.Ptes[1]))
            {
                return Outcome.Retry;
            }

            vm.Link(walk.Ptes[1]);
            return Outcome.Mapped;
        }
    }
}", Unchecked(0, "'walk.Ptes[1]'"));

        [Fact]
        public Task RetryLabel_GoesBackToIt() => Revalidate(@"
class C
{
    void Fault(Vm vm, Walk walk)
    {
    Retry:
        walk.Level = 1;
        lock (vm.MmuLock)
        {
            vm.Link({|#0:walk.Ptes[1]|});
        }
    }
}", @"
class C
{
    void Fault(Vm vm, Walk walk)
    {
    Retry:
        walk.Level = 1;
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[1], walk.Ptes[1]))
            {
                goto Retry;
            }

            vm.Link(walk.Ptes[1]);
        }
    }
}", Unchecked(0, "'walk.Ptes[1]'"));

        [Fact]
        public Task LockInsideALoop_Continues() => Revalidate(@"
class C
{
    void Fault(Vm vm, ulong gpa)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            ulong pte = Guest.ReadPte(gpa);
            lock (vm.MmuLock)
            {
                vm.Link({|#0:pte|});
            }
        }
    }
}", @"
class C
{
    void Fault(Vm vm, ulong gpa)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            ulong pte = Guest.ReadPte(gpa);
            lock (vm.MmuLock)
            {
                if (!Guest.Unchanged(gpa, pte))
                {
                    continue;
                }

                vm.Link(pte);
            }
        }
    }
}", Unchecked(0, "'pte' (= 'Guest.ReadPte(gpa)')"));

        [Fact]
        public Task VoidMethod_Returns() => Revalidate(@"
class C
{
    void Fault(Vm vm, ulong gpa)
    {
        ulong pte = Guest.ReadPte(gpa);
        lock (vm.MmuLock)
        {
            vm.Link({|#0:pte|});
        }
    }
}", @"
class C
{
    void Fault(Vm vm, ulong gpa)
    {
        ulong pte = Guest.ReadPte(gpa);
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(gpa, pte))
            {
                return;
            }

            vm.Link(pte);
        }
    }
}", Unchecked(0, "'pte' (= 'Guest.ReadPte(gpa)')"));

        [Fact]
        public Task OtherReturnType_ReturnsDefault() => Revalidate(@"
class C
{
    int Fault(Vm vm, ulong gpa)
    {
        ulong pte = Guest.ReadPte(gpa);
        lock (vm.MmuLock)
        {
            vm.Link({|#0:pte|});
            return 1;
        }
    }
}", @"
class C
{
    int Fault(Vm vm, ulong gpa)
    {
        ulong pte = Guest.ReadPte(gpa);
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(gpa, pte))
            {
                return default;
            }

            vm.Link(pte);
            return 1;
        }
    }
}", Unchecked(0, "'pte' (= 'Guest.ReadPte(gpa)')"));

        [Fact]
        public Task InvertedApiInScope_IsCalledWithoutNegation() => Verify.Fix<RevalidateGuestPteCodeFix>(Prelude.Usings + @"
class C
{
    static bool GpteChanged(ulong pteGpa, [RevalidatesGuestPte(UnchangedWhen = false)] ulong pte) => false;

    [RequiresMmuLock]
    bool Fetch(Vm vm, ref Walk walk)
    {
        vm.Link({|#0:walk.Ptes[2]|});
        return true;
    }
}
" + Prelude.Model.Replace("[RevalidatesGuestPte]", string.Empty).Replace("[RevalidatesGuestPte(UnchangedWhen = false)]", string.Empty), Prelude.Usings + @"
class C
{
    static bool GpteChanged(ulong pteGpa, [RevalidatesGuestPte(UnchangedWhen = false)] ulong pte) => false;

    [RequiresMmuLock]
    bool Fetch(Vm vm, ref Walk walk)
    {
        if (GpteChanged(walk.PteGpa[2], walk.Ptes[2]))
        {
            return false;
        }

        vm.Link(walk.Ptes[2]);
        return true;
    }
}
" + Prelude.Model.Replace("[RevalidatesGuestPte]", string.Empty).Replace("[RevalidatesGuestPte(UnchangedWhen = false)]", string.Empty),
            Unchecked(0, "'walk.Ptes[2]'", lockName: "the mmu_lock held on entry to 'Fetch' ([RequiresMmuLock])"));

        [Fact]
        public Task FixAll_InDocumentAndProject() => Verify.Fix<RevalidateGuestPteCodeFix>(Prelude.Wrap(@"
class C
{
    bool A(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            vm.Link({|#0:walk.Ptes[3]|});
            return true;
        }
    }

    bool B(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            vm.Link({|#1:walk.Ptes[2]|});
            return true;
        }
    }
}"), Prelude.Wrap(@"
class C
{
    bool A(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[3], walk.Ptes[3]))
            {
                return false;
            }

            vm.Link(walk.Ptes[3]);
            return true;
        }
    }

    bool B(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[2], walk.Ptes[2]))
            {
                return false;
            }

            vm.Link(walk.Ptes[2]);
            return true;
        }
    }
}"), Unchecked(0, "'walk.Ptes[3]'"), Unchecked(1, "'walk.Ptes[2]'"));

        [Fact]
        public Task WrapCallInLock() => Verify.Fix<TakeMmuLockCodeFix>(Prelude.Wrap(@"
class C
{
    void M(Vm vm, bool now)
    {
        {|#0:vm.Zap()|};
        if (now)
            {|#1:vm.Zap()|};
    }
}"), Prelude.Wrap(@"
class C
{
    void M(Vm vm, bool now)
    {
        lock (vm.MmuLock)
        {
            vm.Zap();
        }
        if (now)
            lock (vm.MmuLock)
            {
                vm.Zap();
            }
    }
}"), Verify.Diagnostic("MMU0002").WithLocation(0).WithArguments("Zap", "; take 'vm.MmuLock' first"),
            Verify.Diagnostic("MMU0002").WithLocation(1).WithArguments("Zap", "; take 'vm.MmuLock' first"));

        [Fact]
        public Task WrapDeclarationInLock_KeepsTheVariable() => Verify.Fix<TakeMmuLockCodeFix>(Prelude.Wrap(@"
class Mmu
{
    [MmuLock] private readonly object _lock = new object();

    [RequiresMmuLock] int Count() => 1;

    int M()
    {
        var count = {|#0:Count()|};
        return count;
    }
}"), Prelude.Wrap(@"
class Mmu
{
    [MmuLock] private readonly object _lock = new object();

    [RequiresMmuLock] int Count() => 1;

    int M()
    {
        int count;
        lock (_lock)
        {
            count = Count();
        }
        return count;
    }
}"), Verify.Diagnostic("MMU0002").WithLocation(0).WithArguments("Count", "; take '_lock' first"));
    }
}
