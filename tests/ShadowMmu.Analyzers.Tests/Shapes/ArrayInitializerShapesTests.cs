using System.Threading.Tasks;
using Xunit;
using static ShadowMmu.Analyzers.Tests.Shapes.ShapeVerify;

namespace ShadowMmu.Analyzers.Tests.Shapes
{
    /// <summary>
    /// Arrays and spans made from guest PTE values (<c>{ a, b }</c>, <c>new[] { }</c>, <c>new ulong[] { }</c>, collection
    /// expressions <c>[a, b]</c>): each element keeps its own value, so re-validating one element (or the value it was
    /// made from) clears that element only, and building the array under the lock is no use of its elements.
    /// </summary>
    public class ArrayInitializerShapesTests
    {
        public static readonly TheoryData<string> Initializers = new()
        {
            "ulong[] c = { walk.Ptes[1], walk.Ptes[2] };",
            "ulong[] c = new[] { walk.Ptes[1], walk.Ptes[2] };",
            "ulong[] c = new ulong[] { walk.Ptes[1], walk.Ptes[2] };",
            "ulong[] c = new ulong[2] { walk.Ptes[1], walk.Ptes[2] };",
            "ulong[] c = [walk.Ptes[1], walk.Ptes[2]];",
            "Span<ulong> c = [walk.Ptes[1], walk.Ptes[2]];",
            "ReadOnlySpan<ulong> c = [walk.Ptes[1], walk.Ptes[2]];",
            "Span<ulong> c = stackalloc ulong[] { walk.Ptes[1], walk.Ptes[2] };",
            "Span<ulong> c = stackalloc[] { walk.Ptes[1], walk.Ptes[2] };",
            "var c = (walk.Level > 0 ? new[] { walk.Ptes[1], walk.Ptes[2] } : new[] { walk.Ptes[1], walk.Ptes[2] });",
            "ulong[] c = walk.Level > 0 ? [walk.Ptes[1], walk.Ptes[2]] : [walk.Ptes[1], walk.Ptes[2]];",
        };

        [Theory]
        [MemberData(nameof(Initializers))]
        public Task BuiltUnderTheLock_EachElementRevalidated_IsClean(string initializer) => Clean(@"
class C
{
    bool M(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            " + initializer + @"
            if (!Guest.Unchanged(walk.PteGpa[1], c[0])) return false;
            if (!Guest.Unchanged(walk.PteGpa[2], walk.Ptes[2])) return false;
            vm.Link(c[0]);
            vm.Link(c[1]);
            return true;
        }
    }
}");

        [Theory]
        [MemberData(nameof(Initializers))]
        public Task BuiltUnderTheLock_AnElementNotRevalidated_IsReported(string initializer) => Unchecked(@"
class C
{
    bool M(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            " + initializer + @"
            if (!Guest.Unchanged(walk.PteGpa[1], c[0])) return false;
            vm.Link(c[0]);
            vm.Link({|#0:c[1]|});
            return true;
        }
    }
}", "'c[1]' (= 'walk.Ptes[2]')", ChecksOther("walk.Ptes[1]"));

        [Theory]
        [MemberData(nameof(Initializers))]
        public Task BuiltOutsideTheLock_AnElementNotRevalidated_IsReported(string initializer) => Unchecked(@"
class C
{
    bool M(Vm vm, ref Walk walk)
    {
        " + initializer + @"
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[2], c[1])) return false;
            vm.Link(c[1]);
            vm.Link({|#0:c[0]|});
            return true;
        }
    }
}", "'c[0]' (= 'walk.Ptes[1]')", ChecksOther("walk.Ptes[2]"));

        [Fact]
        public Task AnElementAtAnIndexTheAnalysisCannotName_MayBeAny() => Unchecked(@"
class C
{
    bool M(Vm vm, ref Walk walk, int i)
    {
        lock (vm.MmuLock)
        {
            ulong[] c = { walk.Ptes[1], walk.Ptes[2] };
            if (!Guest.Unchanged(walk.PteGpa[1], c[0])) return false;
            vm.Link({|#0:c[i]|});
            return true;
        }
    }
}", "'c[i]' (= 'walk.Ptes[2]')", ChecksOther("walk.Ptes[1]"));

        [Fact]
        public Task PassedWhole_UnderTheLock_IsAUseOfItsUncheckedElements() => Unchecked(@"
class C
{
    bool M(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[1], walk.Ptes[1])) return false;
            Guest.ConsumeAll({|#0:new[] { walk.Ptes[1], walk.Ptes[2] }|});
            Guest.ConsumeAll(new[] { walk.Ptes[1] });
            return true;
        }
    }
}", "'new[] { walk.Ptes[1], walk.Ptes[2] }' (= 'walk.Ptes[2]')", ChecksOther("walk.Ptes[1]"));

        [Fact]
        public Task WithASpread_ThePositionsAreNotFollowed() => NotFollowed(@"
class C
{
    bool M(Vm vm, ref Walk walk, ulong[] more)
    {
        lock (vm.MmuLock)
        {
            ulong[] c = [.. more, walk.Ptes[1]];
            if (!Guest.Unchanged(walk.PteGpa[1], c[1])) return false;
            vm.Link(c[1]);
            ulong[] d = [.. more, walk.Ptes[2]];
            if (!Guest.Unchanged(walk.PteGpa[2], walk.Ptes[2])) return false;
            vm.Link({|#0:d[1]|});
            return true;
        }
    }
}", "'d[1]' (= '[.. more, walk.Ptes[2]]')", "its elements were put in '[.. more, walk.Ptes[2]]' at positions the analysis does not follow; re-validate the value itself under the lock");
    }
}
