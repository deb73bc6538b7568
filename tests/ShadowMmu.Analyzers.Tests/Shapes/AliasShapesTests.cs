using System.Threading.Tasks;
using Xunit;
using static ShadowMmu.Analyzers.Tests.Shapes.ShapeVerify;

namespace ShadowMmu.Analyzers.Tests.Shapes
{
    /// <summary>
    /// The shapes in the same spirit: ref locals, fixed, CopyTo into stackalloc, list patterns, span indexers, in
    /// parameters; each with its positive and the near miss that must stay quiet.
    /// </summary>
    public class AliasShapesTests
    {
        [Fact]
        public Task RefLocal_ReadsTheElementItRefersTo() => Unchecked(@"
class C
{
    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {
        ref ulong entry = ref ptes[1];
        lock (vm.MmuLock)
        {
            vm.Link({|#0:entry|});
        }
    }
}", "'entry' (= 'ptes[1]')");

        [Fact]
        public Task RefLocal_ItsElementRevalidated_IsClean() => Clean(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ref Walk walk)
    {
        ref ulong entry = ref ptes[1];
        ref Walk record = ref walk;
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(0, ptes[1]) || !Guest.Unchanged(0, walk.Ptes[2])) return false;
            vm.Link(entry);
            vm.Link(record.Ptes[2]);
            return true;
        }
    }
}");

        [Fact]
        public Task RefLocal_AStoreThroughItReachesTheElement() => Unchecked(@"
class C
{
    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {
        var copies = new ulong[4];
        ref ulong slot = ref copies[0];
        slot = ptes[2];
        lock (vm.MmuLock)
        {
            vm.Link({|#0:copies[0]|});
        }
    }
}", "'copies[0]' (= 'ptes[2]')");

        [Fact]
        public Task Fixed_PointerIntoAnUnlockedArray_IsReported() => Unchecked(@"
unsafe class C
{
    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {
        fixed (ulong* entries = ptes)
        {
            lock (vm.MmuLock)
            {
                vm.Link({|#0:entries[1]|});
            }
        }
    }
}", "'entries[1]' (= 'ptes[1]')");

        [Fact]
        public Task Fixed_PointerToARevalidatedElement_IsClean() => Clean(@"
unsafe class C
{
    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {
        fixed (ulong* entry = &ptes[2])
        {
            lock (vm.MmuLock)
            {
                if (!Guest.Unchanged(0, ptes[2])) return;
                vm.Link(*entry);
            }
        }
    }
}");

        [Fact]
        public Task CopyToStackalloc_TheCopyHoldsTheUnlockedValues() => Unchecked(@"
class C
{
    void M(Vm vm, [UnlockedGuestPte] ReadOnlySpan<ulong> ptes)
    {
        Span<ulong> copy = stackalloc ulong[4];
        ptes.CopyTo(copy);
        lock (vm.MmuLock)
        {
            vm.Link({|#0:copy[1]|});
        }
    }
}", "'copy[1]' (= 'ptes[1]')");

        [Fact]
        public Task CopyToStackalloc_CopyRevalidated_AndAFreshStackallocIsClean() => Clean(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {
        Span<ulong> copy = stackalloc ulong[4];
        ptes.AsSpan().CopyTo(copy);
        Span<ulong> fresh = stackalloc ulong[2];
        fresh[0] = 5;
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(0, copy[1])) return false;
            vm.Link(copy[1]);
            vm.Link(fresh[0]);
            return true;
        }
    }
}");

        [Fact]
        public Task ListPattern_TheLastElement_IsReported() => Unchecked(@"
class C
{
    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {
        if (ptes is [var first, .., var last])
        {
            lock (vm.MmuLock)
            {
                vm.Link({|#0:last|});
            }
        }
    }
}", "'last' (= 'ptes[^1]')");

        [Fact]
        public Task ListPattern_RevalidatedElements_AreClean() => Clean(@"
class C
{
    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        lock (vm.MmuLock)
        {
            if (ptes is [var first, _, var third, ..] && Guest.Unchanged(gpas[0], first) && Guest.Unchanged(gpas[2], ptes[2]))
            {
                vm.Link(first);
                vm.Link(third);
            }
        }
    }
}");

        [Fact]
        public Task SpanIndexer_LoopOverTheLevels_IsClean() => Clean(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ReadOnlySpan<ulong> ptes, ReadOnlySpan<ulong> gpas)
    {
        lock (vm.MmuLock)
        {
            for (int i = 0; i < ptes.Length; i++)
            {
                if (!Guest.Unchanged(gpas[i], ptes[i])) return false;
                vm.Link(ptes[i]);
            }

            return true;
        }
    }
}");

        [Fact]
        public Task SpanIndexer_TheNextLevelUsed_IsReported() => Unchecked(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] Span<ulong> ptes, ReadOnlySpan<ulong> gpas)
    {
        lock (vm.MmuLock)
        {
            for (int i = 0; i + 1 < ptes.Length; i++)
            {
                if (!Guest.Unchanged(gpas[i], ptes[i])) return false;
                vm.Link({|#0:ptes[i + 1]|});
            }

            return true;
        }
    }
}", "'ptes[i + 1]'", "; the re-validation on this path checks 'ptes[i]', a different entry");

        [Fact]
        public Task InParameter_AnUnlockedValue_IsReported() => Unchecked(@"
class C
{
    void M(Vm vm, [UnlockedGuestPte] in ulong pte)
    {
        lock (vm.MmuLock)
        {
            vm.Link({|#0:pte|});
        }
    }
}", "'pte'");

        [Fact]
        public Task InParameter_TheWalkRevalidated_IsClean() => Clean(@"
class C
{
    bool M(Vm vm, in Walk walk, [UnlockedGuestPte] in ulong pte)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[1], walk.Ptes[1]) || !Guest.Unchanged(0, pte)) return false;
            vm.Link(walk.Ptes[1]);
            vm.Link(pte);
            return true;
        }
    }
}");
    }
}
