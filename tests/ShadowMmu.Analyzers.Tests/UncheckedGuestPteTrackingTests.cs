using System.Threading.Tasks;
using Xunit;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>MMU0001: how values are followed (locals, struct copies, arrays, spans, out and ref arguments, reads) and where.</summary>
    public class UncheckedGuestPteTrackingTests
    {
        private static Task Clean(string code) => Verify.Analyzer(Prelude.Wrap(code));

        private static Task Reports(string code, string value, string lockName = "'Vm.MmuLock'", string detail = "") =>
            Verify.Analyzer(Prelude.Wrap(code), Verify.Diagnostic("MMU0001").WithLocation(0).WithArguments(value, lockName, detail));

        [Fact]
        public Task LocalCopy_RevalidatedThroughTheOriginal_IsClean() => Clean(@"
class C
{
    bool M(Vm vm, ref Walk walk)
    {
        ulong pte = walk.Ptes[2];
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[2], walk.Ptes[2])) return false;
            vm.Link(pte);
            return true;
        }
    }
}");

        [Fact]
        public Task LocalCopy_NotRevalidated_NamesTheLocalAndItsSource() => Reports(@"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        ulong pte = walk.Ptes[2];
        lock (vm.MmuLock)
        {
            vm.Link({|#0:pte|});
        }
    }
}", "'pte' (= 'walk.Ptes[2]')");

        [Fact]
        public Task GuestPteRead_OutsideTheLock_IsReported() => Reports(@"
class C
{
    void M(Vm vm, ulong gpa)
    {
        ulong pte = Guest.ReadPte(gpa);
        lock (vm.MmuLock)
        {
            vm.Link({|#0:pte|});
        }
    }
}", "'pte' (= 'Guest.ReadPte(gpa)')");

        [Fact]
        public Task GuestPteRead_UnderTheLock_IsTrustedInThatRegion() => Clean(@"
class C
{
    void M(Vm vm, ulong gpa)
    {
        lock (vm.MmuLock)
        {
            ulong pte = Guest.ReadPte(gpa);
            vm.Link(pte);
            if (Guest.TryReadPte(gpa, out ulong other))
            {
                vm.Link(other);
            }
        }
    }
}");

        [Fact]
        public Task GuestPteRead_OutValueReadOutsideTheLock_IsReported() => Reports(@"
class C
{
    void M(Vm vm, ulong gpa)
    {
        if (!Guest.TryReadPte(gpa, out ulong pte)) return;
        lock (vm.MmuLock)
        {
            vm.SetLeaf({|#0:pte|}, 7);
        }
    }
}", "'pte' (= 'Guest.TryReadPte(gpa, out ulong pte)')");

        [Fact]
        public Task ReadUnderAnEarlierLock_IsStaleInTheNextRegion() => Reports(@"
class C
{
    void M(Vm vm, ulong gpa)
    {
        ulong pte;
        lock (vm.MmuLock)
        {
            pte = Guest.ReadPte(gpa);
        }

        lock (vm.MmuLock)
        {
            vm.Link({|#0:pte|});
        }
    }
}", "'pte' (= 'Guest.ReadPte(gpa)')");

        [Fact]
        public Task RevalidatedInAnEarlierRegion_DoesNotCount() => Reports(@"
class C
{
    bool M(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[1], walk.Ptes[1])) return false;
        }

        lock (vm.MmuLock)
        {
            vm.Link({|#0:walk.Ptes[1]|});
        }

        return true;
    }
}", "'walk.Ptes[1]'");

        [Fact]
        public Task RevalidatedOnOneBranchOnly_IsReported() => Reports(@"
class C
{
    bool M(Vm vm, ref Walk walk, bool present)
    {
        lock (vm.MmuLock)
        {
            if (!present)
            {
                if (!Guest.Unchanged(walk.PteGpa[1], walk.Ptes[1])) return false;
            }

            vm.Link({|#0:walk.Ptes[1]|});
            return true;
        }
    }
}", "'walk.Ptes[1]'", detail: "; it is re-validated only on some paths, or after this use");

        [Fact]
        public Task OutcomeKeptInABoolean_IsFollowed() => Clean(@"
class C
{
    bool M(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            bool same = Guest.Unchanged(walk.PteGpa[1], walk.Ptes[1]);
            if (!same)
            {
                return false;
            }

            vm.Link(walk.Ptes[1]);
            return true;
        }
    }
}");

        [Fact]
        public Task InvertedApi_UsedOnTheChangedBranch_IsReported() => Reports(@"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (Guest.Changed(walk.PteGpa[1], walk.Ptes[1]))
            {
                vm.Link({|#0:walk.Ptes[1]|});
            }
        }
    }
}", "'walk.Ptes[1]'", detail: "; it is re-validated only on some paths, or after this use");

        [Fact]
        public Task ArrayParameter_ElementsAreSeparateValues() => Reports(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(gpas[1], ptes[1])) return false;
            vm.Link(ptes[1]);
            vm.Link({|#0:ptes[2]|});
            return true;
        }
    }
}", "'ptes[2]'", detail: "; the re-validation on this path checks 'ptes[1]', a different entry");

        [Fact]
        public Task SpanParameter_ConstantIndexes() => Clean(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ReadOnlySpan<ulong> ptes)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(0, ptes[0])) return false;
            vm.SetLeaf(ptes[0], 7);
            return true;
        }
    }
}");

        [Fact]
        public Task SpanOverTheInlineArray_IsTheSameStorage() => Clean(@"
class C
{
    bool M(Vm vm, ref Walk walk)
    {
        Span<ulong> ptes = walk.Ptes;
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(0, walk.Ptes[3])) return false;
            vm.Link(ptes[3]);
            return true;
        }
    }
}");

        [Fact]
        public Task StructCopy_SharesTheValues() => Clean(@"
class C
{
    bool M(Vm vm, Walk walk)
    {
        Walk copy = walk;
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(copy.PteGpa[1], copy.Ptes[1])) return false;
            vm.Link(walk.Ptes[1]);
            return true;
        }
    }
}");

        [Fact]
        public Task RefArgument_TheCalleeMayRewriteTheWalk() => Reports(@"
class C
{
    static void Rewalk(ref Walk walk) { }

    bool M(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[1], walk.Ptes[1])) return false;
            Rewalk(ref walk);
            vm.Link({|#0:walk.Ptes[1]|});
            return true;
        }
    }
}", "'walk.Ptes[1]'", detail: "; the value re-validated earlier may have been rewritten since (passed by reference, or a mutating call)");

        [Fact]
        public Task InArgument_DoesNotRewriteTheWalk() => Clean(@"
class C
{
    static void Look(in Walk walk) { }

    bool M(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[1], walk.Ptes[1])) return false;
            Look(in walk);
            vm.Link(walk.Ptes[1]);
            return true;
        }
    }
}");

        [Fact]
        public Task UnlockedOutParameter_MarksTheCallersVariable() => Reports(@"
class C
{
    static void Peek(ulong gpa, [UnlockedGuestPte] out ulong pte) { pte = gpa; }

    void M(Vm vm)
    {
        Peek(8, out ulong pte);
        lock (vm.MmuLock)
        {
            vm.Link({|#0:pte|});
        }
    }
}", "'pte' (= 'Peek(8, out ulong pte)')");

        [Fact]
        public Task Comparison_OutsideARevalidation_IsAUse() => Reports(@"
class C
{
    bool M(Vm vm, ref Walk walk, ulong now)
    {
        lock (vm.MmuLock)
        {
            return now == {|#0:walk.Ptes[0]|};
        }
    }
}", "'walk.Ptes[0]'");

        [Fact]
        public Task FrameComputedOutsideTheLock_CarriesTheValue() => Reports(@"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        ulong frame = Guest.Frame(walk.Ptes[0]) >> 12;
        lock (vm.MmuLock)
        {
            vm.SetLeaf({|#0:frame|}, 7);
        }
    }
}", "'frame' (= 'walk.Ptes[0]')");

        [Fact]
        public Task FrameComputedOutsideTheLock_TrustedOnceItsSourceIsRevalidated() => Clean(@"
class C
{
    bool M(Vm vm, ref Walk walk)
    {
        ulong frame = Guest.Frame(walk.Ptes[0]) >> 12;
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[0], walk.Ptes[0])) return false;
            vm.SetLeaf(frame, 7);
            return true;
        }
    }
}");

        [Fact]
        public Task StoredInAField_IsAUse() => Reports(@"
class C
{
    ulong _cached;

    void M(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            _cached = {|#0:walk.Ptes[1]|};
        }
    }
}", "'walk.Ptes[1]'");

        [Fact]
        public Task OutsideEveryLock_NothingIsReported() => Clean(@"
class C
{
    ulong M(ref Walk walk) => Guest.Frame(walk.Ptes[0]) | walk.Ptes[1];
}");

        [Fact]
        public Task MonitorTryFinally_IsALockRegion() => Reports(@"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        Monitor.Enter(vm.MmuLock);
        try
        {
            vm.Link({|#0:walk.Ptes[1]|});
        }
        finally
        {
            Monitor.Exit(vm.MmuLock);
        }
    }
}", "'walk.Ptes[1]'");

        [Fact]
        public Task LockTakenFlagPattern_IsALockRegion() => Reports(@"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        bool taken = false;
        try
        {
            Monitor.Enter(vm.MmuLock, ref taken);
            vm.Link({|#0:walk.Ptes[1]|});
        }
        finally
        {
            if (taken) Monitor.Exit(vm.MmuLock);
        }
    }
}", "'walk.Ptes[1]'");

        [Fact]
        public Task UsingEnterScope_IsALockRegion() => Reports(@"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        using (vm.FastLock.EnterScope())
        {
            vm.Link({|#0:walk.Ptes[1]|});
        }
    }
}", "'walk.Ptes[1]'", lockName: "'Vm.FastLock'");

        [Fact]
        public Task ScopeTypeUsingDeclaration_HoldsToTheEndOfTheBlock() => Reports(@"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        using var scope = vm.Enter();
        vm.Link({|#0:walk.Ptes[1]|});
    }
}", "'walk.Ptes[1]'", lockName: "'MmuScope'");

        [Fact]
        public Task RequiresMmuLockMethod_ItsBodyIsALockRegion() => Reports(@"
class C
{
    [RequiresMmuLock]
    void M(Vm vm, ref Walk walk)
    {
        vm.Link({|#0:walk.Ptes[1]|});
    }
}", "'walk.Ptes[1]'", lockName: "the mmu_lock held on entry to 'M' ([RequiresMmuLock])");

        [Fact]
        public Task LambdaInsideTheLock_RunsLater_IsNotARegion() => Clean(@"
class C
{
    Action M(Vm vm, Walk walk)
    {
        lock (vm.MmuLock)
        {
            return () => Guest.Consume(walk.Ptes[1]);
        }
    }
}");

        [Fact]
        public Task UnrelatedLock_IsNotTheMmuLock() => Clean(@"
class C
{
    readonly object _other = new object();

    void M(ref Walk walk)
    {
        lock (_other)
        {
            Guest.Consume(walk.Ptes[1]);
        }
    }
}");

        private const string GeneratedFetch = @"
class Generated
{
    [RequiresMmuLock]
    void Fetch(Vm vm, ref Walk walk)
    {
        vm.Link([|walk.Ptes[1]|]);
    }
}";

        [Fact]
        public Task GeneratedCode_IsSkippedByDefault() => Verify.Analyzer("// <auto-generated/>\n" + Prelude.Wrap(GeneratedFetch.Replace("[|", string.Empty).Replace("|]", string.Empty)));

        [Fact]
        public Task GeneratedCode_IsAnalysedWhenAsked() => Verify.Analyzer(
            "// <auto-generated/>\n" + Prelude.Wrap(GeneratedFetch.Replace("[|", "{|#0:").Replace("|]", "|}")),
            "shadowmmu_analyze_generated_code = true\n",
            Verify.Diagnostic("MMU0001").WithLocation(0).WithArguments("'walk.Ptes[1]'", "the mmu_lock held on entry to 'Fetch' ([RequiresMmuLock])", string.Empty));
    }
}
