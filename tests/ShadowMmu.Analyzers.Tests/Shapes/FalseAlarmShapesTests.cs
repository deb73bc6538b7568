using System.Threading.Tasks;
using Xunit;
using static ShadowMmu.Analyzers.Tests.Shapes.ShapeVerify;

namespace ShadowMmu.Analyzers.Tests.Shapes
{
    /// <summary>
    /// Issue 16's false alarms: ordinary C# that re-validates before it uses must be clean, and each shape's near miss
    /// (the use of a value not re-validated) must still be reported.
    /// </summary>
    public class FalseAlarmShapesTests
    {
        [Fact]
        public Task IndexFromEnd_RevalidatedThenUsed_IsClean() => Clean(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(gpas[^1], ptes[^1])) return false;
            vm.Link(ptes[^1]);
            if (!Guest.Unchanged(gpas[ptes.Length - 2], ptes[ptes.Length - 2])) return false;
            vm.Link(ptes[^2]);
            return true;
        }
    }
}");

        [Fact]
        public Task IndexFromEnd_AnotherEntryRevalidated_IsReported() => Unchecked(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(gpas[^2], ptes[^2])) return false;
            vm.Link({|#0:ptes[^1]|});
            return true;
        }
    }
}", "'ptes[^1]'", ChecksOther("ptes[^2]"));

        [Fact]
        public Task IndexFromEnd_OnASpanAndOnTheWalkRecord_IsClean() => Clean(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ReadOnlySpan<ulong> ptes, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(0, ptes[^1])) return false;
            vm.Link(ptes[^1]);
            if (!Guest.Unchanged(walk.PteGpa[4], walk.Ptes[4])) return false;
            vm.Link(walk.Ptes[^1]);
            return true;
        }
    }
}");

        [Fact]
        public Task PatternVariable_RevalidatedInTheCondition_IsClean() => Clean(@"
class C
{
    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        lock (vm.MmuLock)
        {
            if (ptes[0] is var z && Guest.Unchanged(gpas[0], z))
            {
                vm.Link(z);
            }

            if (ptes[1] is ulong y && Guest.Unchanged(gpas[1], y))
            {
                vm.Link(y);
            }
        }
    }
}");

        [Fact]
        public Task PatternVariable_NotRevalidated_IsReported() => Unchecked(@"
class C
{
    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {
        lock (vm.MmuLock)
        {
            if (ptes[0] is var z)
            {
                vm.Link({|#0:z|});
            }
        }
    }
}", "'z' (= 'ptes[0]')");

        [Fact]
        public Task ConstantPattern_ComparesTheValue_IsAUse() => Unchecked(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {
        lock (vm.MmuLock)
        {
            return {|#0:ptes[0]|} is 0 or > 4096;
        }
    }
}", "'ptes[0]'");

        [Fact]
        public Task Deconstruction_UnderTheLock_MovesTheValues_IsClean() => Clean(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        lock (vm.MmuLock)
        {
            ulong p, q;
            (p, q) = (ptes[0], ptes[4]);
            if (!Guest.Unchanged(gpas[0], p) || !Guest.Unchanged(gpas[4], q)) return false;
            vm.Link(p);
            vm.Link(q);
            return true;
        }
    }
}");

        [Fact]
        public Task Deconstruction_OneValueNotRevalidated_IsReported() => Unchecked(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        lock (vm.MmuLock)
        {
            var (p, q) = (ptes[0], ptes[4]);
            if (!Guest.Unchanged(gpas[0], p)) return false;
            vm.Link(p);
            vm.Link({|#0:q|});
            return true;
        }
    }
}", "'q' (= 'ptes[4]')", ChecksOther("ptes[0]"));

        private const string Entry = @"
record struct Entry(ulong Pte, ulong Gpa);
";

        [Fact]
        public Task RecordStruct_FromAPteAndAGpa_TheGpaIsNotTheUnlockedValue() => Clean(Entry + @"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        var entry = new Entry(ptes[0], gpas[0]);
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(entry.Gpa, entry.Pte)) return false;
            vm.Link(entry.Pte);
            return true;
        }
    }
}");

        [Fact]
        public Task RecordStruct_ThePteNotRevalidated_IsReported() => Unchecked(Entry + @"
class C
{
    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        var entry = new Entry(ptes[0], gpas[0]);
        lock (vm.MmuLock)
        {
            Guest.Consume(entry.Gpa);
            vm.Link({|#0:entry.Pte|});
        }
    }
}", "'entry.Pte' (= 'ptes[0]')");

        [Fact]
        public Task UnlockedPointerParameter_RevalidatedThenUsed_IsClean() => Clean(@"
unsafe class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong* ptes, ulong* gpas)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(gpas[1], ptes[1])) return false;
            vm.Link(ptes[1]);
            if (!Guest.Unchanged(*gpas, *ptes)) return false;
            vm.Link(ptes[0]);
            return true;
        }
    }
}");

        [Fact]
        public Task UnlockedPointerParameter_AnotherEntry_IsReported() => Unchecked(@"
unsafe class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong* ptes, ulong* gpas)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(gpas[1], ptes[1])) return false;
            vm.Link({|#0:*(ptes + 2)|});
            return true;
        }
    }
}", "'*(ptes + 2)' (= 'ptes[2]')", ChecksOther("ptes[1]"));
    }
}
