using System.Threading.Tasks;
using Xunit;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>MMU0006: a function whose analysis passes its work budget says it was not checked, instead of passing silently.</summary>
    public class NotCheckedTests
    {
        private static string OverBudget(int operations) =>
            $"following its values took more work than the analysis allows for a function of its size ({operations} operations)";

        private const string Fetch = @"
class C
{
    void {|#1:M|}(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            vm.Link({|#0:walk.Ptes[1]|});
        }
    }
}";

        [Fact]
        public Task PastTheBudget_TheFunctionIsReportedNotChecked_AndNothingElse() => Verify.Analyzer(
            Prelude.Wrap(Fetch.Replace("{|#0:", string.Empty).Replace("|})", ")")),
            "shadowmmu_internal_work_budget = 20\n",
            Verify.Diagnostic(DiagnosticIds.NotChecked).WithLocation(1).WithArguments("M", OverBudget(13)));

        [Fact]
        public Task WithinTheBudget_TheFunctionIsChecked() => Verify.Analyzer(
            Prelude.Wrap(Fetch.Replace("{|#1:M|}", "M")),
            Verify.Diagnostic(DiagnosticIds.UncheckedGuestPte).WithLocation(0).WithArguments("'walk.Ptes[1]'", "'Vm.MmuLock'", string.Empty));

        [Fact]
        public Task PastTheBudget_ALambdaIsNamedAtItsArrow() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    Action M(Vm vm, Walk walk) => () {|#0:=>|} { lock (vm.MmuLock) { vm.Link(walk.Ptes[1]); } };
}"), "shadowmmu_internal_work_budget = 20\n", Verify.Diagnostic(DiagnosticIds.NotChecked).WithLocation(0).WithArguments("lambda", OverBudget(13)));
    }
}
