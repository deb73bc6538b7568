using System.Threading.Tasks;
using Xunit;
using static ShadowMmu.Analyzers.Tests.Shapes.ShapeVerify;

namespace ShadowMmu.Analyzers.Tests.Shapes
{
    /// <summary>Issue 16's misses: values through tuples, foreach and slices are followed; each with the near miss that stays quiet.</summary>
    public class MissedShapesTests
    {
        [Fact]
        public Task Tuple_RevalidatingOneElement_LeavesTheOtherUnchecked() => Unchecked(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        var pair = (ptes[0], ptes[1]);
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(gpas[0], pair.Item1)) return false;
            vm.Link(pair.Item1);
            vm.Link({|#0:pair.Item2|});
            return true;
        }
    }
}", "'pair.Item2' (= 'ptes[1]')", ChecksOther("ptes[0]"));

        [Fact]
        public Task NamedTuple_OfAPteAndAGpa_OnlyThePteNeedsTheRecheck() => Clean(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        (ulong Pte, ulong Gpa) entry = (ptes[2], gpas[2]);
        lock (vm.MmuLock)
        {
            Guest.Consume(entry.Gpa);
            if (!Guest.Unchanged(entry.Item2, entry.Pte)) return false;
            vm.Link(entry.Item1);
            return true;
        }
    }
}");

        [Fact]
        public Task ForeachOverAnUnlockedArray_IsReported() => Unchecked(@"
class C
{
    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {
        lock (vm.MmuLock)
        {
            foreach (ulong pte in ptes)
            {
                vm.Link({|#0:pte|});
            }
        }
    }
}", "'pte' (= 'ptes[?]')");

        [Fact]
        public Task ForeachOverAnUnlockedSpan_EachRevalidated_IsClean() => Clean(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, [UnlockedGuestPte] ReadOnlySpan<ulong> more)
    {
        lock (vm.MmuLock)
        {
            foreach (ulong pte in ptes)
            {
                if (!Guest.Unchanged(0, pte)) return false;
                vm.Link(pte);
            }

            foreach (ulong pte in more)
            {
                if (!Guest.Unchanged(0, pte)) return false;
                vm.Link(pte);
            }

            return true;
        }
    }
}");

        [Fact]
        public Task ForeachOverASpan_AnElementRevalidatedInAnEarlierIteration_IsNotThisOne() => Unchecked(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ReadOnlySpan<ulong> ptes)
    {
        lock (vm.MmuLock)
        {
            bool first = true;
            foreach (ulong pte in ptes)
            {
                if (first && !Guest.Unchanged(0, pte)) return false;
                first = false;
                vm.Link({|#0:pte|});
            }

            return true;
        }
    }
}", "'pte' (= 'ptes[?]')", "; it is re-validated only on some paths, or after this use");

        [Fact]
        public Task SpanSlice_IsTheShiftedEntry() => Unchecked(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ReadOnlySpan<ulong> ptes)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(0, ptes[1])) return false;
            vm.Link(ptes.Slice(1)[0]);
            vm.Link({|#0:ptes.Slice(2)[0]|});
            return true;
        }
    }
}", "'ptes.Slice(2)[0]' (= 'ptes[2]')", ChecksOther("ptes[1]"));

        [Fact]
        public Task RangeOfAnArray_IsTheShiftedEntry() => Unchecked(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(0, ptes[2]) || !Guest.Unchanged(0, ptes[^3])) return false;
            vm.Link(ptes[1..][1]);
            vm.Link(ptes[^3..][0]);
            vm.Link({|#0:ptes[1..][0]|});
            return true;
        }
    }
}", "'ptes[1..][0]' (= 'ptes[1]')", ChecksOther("ptes[2]"));

        [Fact]
        public Task AsSpanWithStartAndLength_ReadOutsideTheLock_IsReported() => Unchecked(@"
class C
{
    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {
        Span<ulong> levels = ptes.AsSpan(1, 3);
        lock (vm.MmuLock)
        {
            vm.Link({|#0:levels[0]|});
        }
    }
}", "'levels[0]' (= 'ptes[1]')");

        [Fact]
        public Task AsSpanWithStartAndLength_ItsSourceRevalidated_IsClean() => Clean(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {
        Span<ulong> levels = ptes.AsSpan(1, 3);
        ReadOnlySpan<ulong> upper = levels[1..];
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(0, ptes[1]) || !Guest.Unchanged(0, ptes[3])) return false;
            vm.Link(levels[0]);
            vm.Link(upper[1]);
            return true;
        }
    }
}");
    }
}
