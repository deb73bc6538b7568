using Microsoft.CodeAnalysis;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Reporting
{
    /// <summary>
    /// What the evaluation tells the pass that runs it (ErrorProne's lock analysis walks the code and hands what it sees
    /// to the checker that reports): the solver records, the reporting pass reports.
    /// </summary>
    internal interface IUseListener
    {
        /// <summary>
        /// <paramref name="operand"/>, whose value is <paramref name="value"/>, is used under the lock while it may be
        /// <paramref name="unchecked"/>, a value not re-validated in this lock region on every path.
        /// </summary>
        void UncheckedUse(IOperation operand, AbstractValue value, ValueId @unchecked, FlowState state);

        /// <summary>
        /// <paramref name="value"/>, the value of <paramref name="site"/> (a store's target, a capture), leaves what the
        /// analysis follows there, for <paramref name="reason"/> (MMU0005).
        /// </summary>
        void NotFollowed(IOperation site, ValueId value, string reason);

        /// <summary>
        /// <paramref name="function"/> (a lambda or local function) captures <paramref name="symbol"/>, which may hold the
        /// guest PTE value shown as <paramref name="display"/> where the function is made or called.
        /// </summary>
        void Captured(IMethodSymbol function, ISymbol symbol, string display);

        /// <summary>A call at <paramref name="position"/> in lock region <paramref name="region"/> re-validates <paramref name="value"/>.</summary>
        void Revalidation(int region, int position, ValueId value);
    }
}
