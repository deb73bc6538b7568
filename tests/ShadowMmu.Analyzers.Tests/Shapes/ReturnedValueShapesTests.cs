using System.Threading.Tasks;
using Xunit;
using static ShadowMmu.Analyzers.Tests.Shapes.ShapeVerify;

namespace ShadowMmu.Analyzers.Tests.Shapes
{
    /// <summary>
    /// A local function, a lambda or a helper method of the same file that returns an entry read without the lock: its
    /// result is that entry (MMU0001 where it is used unchecked, clean once the entry or the result is re-validated);
    /// a body that returns it in a way the analysis does not follow is MMU0005; one that reads no entry is clean.
    /// </summary>
    public class ReturnedValueShapesTests
    {
        private const string ThroughBody = "it is returned by '{0}', whose body the analysis does not follow value by value; re-validate the value itself under the lock, or mark '{0}' [GuestPteRead]";

        [Fact]
        public Task LocalFunction_ReturningAnUnlockedEntry_IsReported() => Unchecked(@"
class C
{
    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {
        ulong Get() => ptes[1];
        lock (vm.MmuLock)
        {
            vm.Link({|#0:Get()|});
        }
    }
}", "'Get()' (= 'ptes[1]')");

        [Fact]
        public Task LocalFunction_TheEntryOrTheResultRevalidated_IsClean() => Clean(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        ulong Get() => ptes[1];
        ulong Root() { return ptes[0] & ~0xFFFUL; }
        ulong Level() => (ulong)gpas.Length;
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(gpas[1], ptes[1])) return false;
            vm.Link(Get());
            ulong root = Root();
            if (!Guest.Unchanged(gpas[0], root)) return false;
            vm.Link(root);
            vm.Link(Level());
            return true;
        }
    }
}");

        [Fact]
        public Task LocalFunction_AnotherEntryRevalidated_IsReported() => Unchecked(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        ulong Get() => ptes[1];
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(gpas[2], ptes[2])) return false;
            vm.Link({|#0:Get()|});
            return true;
        }
    }
}", "'Get()' (= 'ptes[1]')", ChecksOther("ptes[2]"));

        [Fact]
        public Task LambdaInALocalDelegate_ReturningAnUnlockedEntry_IsReported() => Unchecked(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        Func<int, ulong> get = i => ptes[1] | (ulong)i;
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(gpas[1], ptes[2])) return false;
            vm.Link({|#0:get(3)|});
            return true;
        }
    }
}", "'get(3)' (= 'ptes[1]')", ChecksOther("ptes[2]"));

        [Fact]
        public Task HelperMethod_ReturningAnEntryOfItsArgument_IsReported() => Unchecked(@"
class C
{
    static ulong Root(in Walk w) => w.Ptes[4];
    static int Depth(in Walk w) => w.Level;

    bool M(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            vm.Link((ulong)Depth(walk));
            vm.Link({|#0:Root(walk)|});
            return true;
        }
    }
}", "'Root(walk)' (= 'walk.Ptes[4]')");

        [Fact]
        public Task HelperMethod_TheEntryRevalidated_IsClean() => Clean(@"
class C
{
    static ulong Root(in Walk w) => Entry(w.Ptes[4]);
    static ulong Entry(ulong pte) => pte;

    bool M(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[4], walk.Ptes[4])) return false;
            vm.Link(Root(walk));
            return true;
        }
    }
}");

        [Fact]
        public Task ReturnedThroughALocalOfTheBody_IsNotFollowed() => NotFollowed(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        ulong Get() { ulong v = ptes[1]; if (v == 0) v = ptes[2]; return v; }
        ulong Five() { ulong v = 5; v |= 2; return v; }
        lock (vm.MmuLock)
        {
            vm.Link(Five());
            vm.Link({|#0:Get()|});
            ulong checkedValue = Get();
            if (!Guest.Unchanged(gpas[1], checkedValue)) return false;
            vm.Link(checkedValue);
            return true;
        }
    }
}", "'Get()'", string.Format(System.Globalization.CultureInfo.InvariantCulture, ThroughBody, "Get"));

        [Fact]
        public Task ReturnedThroughALocalAssignedOnce_IsThatEntry() => Unchecked(@"
class C
{
    bool M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        ulong Get() { ulong v = ptes[1] & ~0xFFFUL; return v; }
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(gpas[2], ptes[2])) return false;
            vm.Link({|#0:Get()|});
            return true;
        }
    }
}", "'Get()' (= 'ptes[1]')", ChecksOther("ptes[2]"));

        /// <summary>A helper that re-validates what it returns: which path reaches the return is not followed, and it is not blamed.</summary>
        [Fact]
        public Task HelperThatRevalidatesWhatItReturns_IsNotFollowed() => NotFollowed(@"
class C
{
    [RequiresMmuLock]
    static ulong Checked([UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        if (!Guest.Unchanged(gpas[1], ptes[1])) return 0;
        return ptes[1];
    }

    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes, ulong[] gpas)
    {
        lock (vm.MmuLock)
        {
            vm.Link({|#0:Checked(ptes, gpas)|});
        }
    }
}", "'Checked(ptes, gpas)'", string.Format(System.Globalization.CultureInfo.InvariantCulture, ThroughBody, "Checked"));

        /// <summary>The runtime's LeafAccess: rights computed from a clean field, a PTE only tested in a condition.</summary>
        [Fact]
        public Task RightsDecidedByATestOfAnEntry_AreNoEntry() => Clean(@"
class C
{
    static uint Rights(in Walk w, bool write)
    {
        uint access = (uint)w.Level & 7;
        if (write && (access & 2) == 0)
        {
            access = (access | 2) & ~4u;
            access &= ~1u;
        }
        else if (!write && (w.Ptes[w.Level - 1] & 0x40) == 0)
        {
            access &= ~2u;
        }

        return access;
    }

    void M(Vm vm, ref Walk walk)
    {
        uint rights = Rights(in walk, true);
        lock (vm.MmuLock)
        {
            vm.SetLeaf(0, rights);
        }
    }
}");

        [Fact]
        public Task GuestPteRead_ThroughALocalFunction_IsTrustedUnderTheLockOnly() => Unchecked(@"
class C
{
    void M(Vm vm, ulong gpa)
    {
        ulong Read() => Guest.ReadPte(gpa);
        lock (vm.MmuLock)
        {
            vm.Link(Read());
        }

        ulong early = Read();
        lock (vm.MmuLock)
        {
            vm.Link({|#0:early|});
        }
    }
}", "'early' (= 'Read()')");

        [Fact]
        public Task GuestPteRead_OnTheLocalFunction_StillMakesItsResultARead() => Unchecked(@"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        ulong gpa = walk.PteGpa[0];
        [GuestPteRead] ulong Read() => gpa;
        ulong early = Read();
        lock (vm.MmuLock)
        {
            vm.Link(Read());
            vm.Link({|#0:early|});
        }
    }
}", "'early' (= 'Read()')");
    }
}
