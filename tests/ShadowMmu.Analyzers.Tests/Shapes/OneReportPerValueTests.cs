using System.Linq;
using System.Threading.Tasks;
using Xunit;
using static ShadowMmu.Analyzers.Tests.Shapes.ShapeVerify;

namespace ShadowMmu.Analyzers.Tests.Shapes
{
    /// <summary>One diagnostic per unchecked value per statement, however often the value appears in it (issue 16).</summary>
    public class OneReportPerValueTests
    {
        [Fact]
        public Task OneValueFourTimesInAnExpression_IsOneReport() => Unchecked(@"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        ulong pte = walk.Ptes[1];
        lock (vm.MmuLock)
        {
            Guest.Consume({|#0:pte|} + pte + (pte & 0xFFF) + Guest.Frame(pte));
        }
    }
}", "'pte' (= 'walk.Ptes[1]')");

        [Fact]
        public Task AThreeHundredTermSum_IsOneReport() => Unchecked(@"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        ulong pte = walk.Ptes[1];
        lock (vm.MmuLock)
        {
            Guest.Consume({|#0:pte|}" + string.Concat(Enumerable.Repeat(" + pte", 299)) + @");
        }
    }
}", "'pte' (= 'walk.Ptes[1]')");

        [Fact]
        public Task TwoValuesInAStatement_AreTwoReports_AndTheNextStatementItsOwn() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(Vm vm, ref Walk walk)
    {
        ulong a = walk.Ptes[1], b = walk.Ptes[2];
        lock (vm.MmuLock)
        {
            Guest.Consume({|#0:a|} + {|#1:b|} + a + b);
            vm.Link({|#2:a|});
        }
    }
}"), UncheckedAt(0, "'a' (= 'walk.Ptes[1]')"), UncheckedAt(1, "'b' (= 'walk.Ptes[2]')"), UncheckedAt(2, "'a' (= 'walk.Ptes[1]')"));
    }
}
