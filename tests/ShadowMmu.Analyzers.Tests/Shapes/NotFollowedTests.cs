using System.Threading.Tasks;
using Xunit;
using static ShadowMmu.Analyzers.Tests.Shapes.ShapeVerify;

namespace ShadowMmu.Analyzers.Tests.Shapes
{
    /// <summary>
    /// MMU0005: where a value goes somewhere the analysis cannot follow, it says so instead of passing silently or blaming
    /// clean code with MMU0001; and where it can follow (an annotated field, a re-read in the lambda), it stays quiet.
    /// </summary>
    public class NotFollowedTests
    {
        private const string Captured = "it was captured by this lambda or local function, which the analysis does not follow it into; re-validate it under this lock";

        private const string StoredInAClassField = "it is stored in 'C._last', a field of a class, which the analysis does not follow; mark the field [UnlockedGuestPte], or store the value only after re-validating it under the lock";

        [Fact]
        public Task StoredInAClassField_OutsideTheLock_IsNotFollowed() => NotFollowed(@"
class C
{
    ulong _last;

    void M(Vm vm, ref Walk walk)
    {
        _last = {|#0:walk.Ptes[1]|};
        lock (vm.MmuLock)
        {
            vm.Link(_last);
        }
    }
}", "'walk.Ptes[1]'", StoredInAClassField);

        [Fact]
        public Task StoredInAnAnnotatedField_IsFollowed_AsAnUnlockedValue() => Unchecked(@"
class C
{
    [UnlockedGuestPte] ulong _last;

    void M(Vm vm, ref Walk walk)
    {
        _last = walk.Ptes[1];
        lock (vm.MmuLock)
        {
            vm.Link({|#0:_last|});
        }
    }
}", "'_last'");

        [Fact]
        public Task StoredInAClassField_AfterTheRecheck_IsClean() => Clean(@"
class C
{
    ulong _installed;

    void M(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[1], walk.Ptes[1])) return;
            _installed = walk.Ptes[1];
        }
    }
}");

        [Fact]
        public Task CapturedByALambdaThatUsesItUnderTheLock_IsNotFollowed() => NotFollowed(@"
class C
{
    Action M(Vm vm, ref Walk walk)
    {
        ulong pte = walk.Ptes[1];
        return () =>
        {
            lock (vm.MmuLock)
            {
                vm.Link({|#0:pte|});
            }
        };
    }
}", "'pte' (= 'walk.Ptes[1]')", Captured);

        [Fact]
        public Task CapturedByALocalFunctionThatUsesItUnderTheLock_IsNotFollowed() => NotFollowed(@"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        ulong pte = walk.Ptes[1];
        Install();

        void Install()
        {
            lock (vm.MmuLock)
            {
                vm.Link({|#0:pte|});
            }
        }
    }
}", "'pte' (= 'walk.Ptes[1]')", Captured);

        /// <summary>Only the innermost function has a lock region: the member and the lambda between are analysed for what they capture.</summary>
        [Fact]
        public Task CapturedTwoFunctionsDeep_IsNotFollowed() => NotFollowed(@"
class C
{
    Action M(Vm vm, ref Walk walk)
    {
        ulong pte = walk.Ptes[1];
        return () =>
        {
            Install();

            void Install()
            {
                lock (vm.MmuLock)
                {
                    vm.Link({|#0:pte|});
                }
            }
        };
    }
}", "'pte' (= 'walk.Ptes[1]')", Captured);

        [Fact]
        public Task CapturedTwoFunctionsDeep_RevalidatedInTheInnermost_IsClean() => Clean(@"
class C
{
    Action M(Vm vm, ref Walk walk)
    {
        ulong pte = walk.Ptes[1];
        ulong gpa = walk.PteGpa[1];
        return () =>
        {
            Install();

            void Install()
            {
                lock (vm.MmuLock)
                {
                    if (!Guest.Unchanged(gpa, pte)) return;
                    vm.Link(pte);
                }
            }
        };
    }
}");

        [Fact]
        public Task CapturedByALambdaThatRevalidatesIt_IsClean() => Clean(@"
class C
{
    Action M(Vm vm, ref Walk walk)
    {
        ulong pte = walk.Ptes[1];
        ulong gpa = walk.PteGpa[1];
        return () =>
        {
            lock (vm.MmuLock)
            {
                if (!Guest.Unchanged(gpa, pte)) return;
                vm.Link(pte);
            }
        };
    }
}");

        [Fact]
        public Task CapturedWalkRecord_ItsAnnotatedMembers_AreFollowedInTheLambda() => Unchecked(@"
class C
{
    Action M(Vm vm, Walk walk) => () =>
    {
        lock (vm.MmuLock)
        {
            vm.Link({|#0:walk.Ptes[1]|});
        }
    };
}", "'walk.Ptes[1]'");

        private const string Structs = @"
struct Checked
{
    public ulong Pte;
    public ulong Gpa;

    public Checked(ulong pte, ulong gpa)
    {
        if (gpa == 0) throw new ArgumentException(nameof(gpa));
        Pte = pte;
        Gpa = gpa;
    }
}

struct Plain
{
    public ulong Pte { get; }
    public ulong Gpa { get; }

    public Plain(ulong pte, ulong gpa)
    {
        Pte = pte;
        Gpa = gpa;
    }
}
";

        [Fact]
        public Task StructFromAConstructorTheAnalysisDoesNotFollow_IsNotFollowed() => NotFollowed(Structs + @"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        var entry = new Checked(walk.Ptes[1], walk.PteGpa[1]);
        lock (vm.MmuLock)
        {
            vm.Link({|#0:entry.Pte|});
        }
    }
}", "'entry.Pte' (= 'new Checked(walk.Ptes[1], walk.PteGpa[1])')", "it went through the constructor of 'Checked', which the analysis does not follow into the struct's members; re-validate the value itself under the lock");

        [Fact]
        public Task StructFromAConstructorOfAssignments_IsFollowedMemberByMember() => Unchecked(Structs + @"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        var entry = new Plain(walk.Ptes[1], walk.PteGpa[1]);
        lock (vm.MmuLock)
        {
            Guest.Consume(entry.Gpa);
            vm.Link({|#0:entry.Pte|});
        }
    }
}", "'entry.Pte' (= 'walk.Ptes[1]')");

        [Fact]
        public Task DeconstructedByAMethodTheAnalysisDoesNotFollow_IsNotFollowed() => NotFollowed(@"
struct Pair
{
    public ulong A;
    public ulong B;
    public void Deconstruct(out ulong a, out ulong b) { a = B; b = A; }
}

class C
{
    void M(Vm vm, ref Walk walk)
    {
        var pair = new Pair { A = walk.Ptes[1], B = 7 };
        var (first, second) = pair;
        lock (vm.MmuLock)
        {
            vm.Link({|#0:second|});
        }
    }
}", "'second' (= 'pair')", "it went through 'Pair.Deconstruct', which the analysis does not follow; re-validate the value itself under the lock");

        [Fact]
        public Task ObjectInitializerOfAStruct_IsFollowedMemberByMember() => Clean(@"
struct Pair
{
    public ulong A;
    public ulong B;
}

class C
{
    void M(Vm vm, ref Walk walk)
    {
        var pair = new Pair { A = walk.Ptes[1], B = 7 };
        lock (vm.MmuLock)
        {
            vm.Link(pair.B);
        }
    }
}");

        [Fact]
        public Task CopiedToAnOffsetTheAnalysisDoesNotFollow_IsNotFollowed() => NotFollowed(@"
class C
{
    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes, int at)
    {
        var copy = new ulong[8];
        ptes.AsSpan().CopyTo(copy.AsSpan(at));
        lock (vm.MmuLock)
        {
            vm.Link({|#0:copy[3]|});
        }
    }
}", "'copy[3]' (= 'ptes.AsSpan().CopyTo(copy.AsSpan(at))')", "it was copied by 'CopyTo' to a position the analysis does not follow; re-validate the value itself under the lock");

        [Fact]
        public Task ArrayCopy_IsFollowed() => Unchecked(@"
class C
{
    void M(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {
        var copy = new ulong[8];
        Array.Copy(ptes, 1, copy, 0, 4);
        lock (vm.MmuLock)
        {
            vm.Link({|#0:copy[2]|});
        }
    }
}", "'copy[2]' (= 'ptes[3]')");
    }
}
