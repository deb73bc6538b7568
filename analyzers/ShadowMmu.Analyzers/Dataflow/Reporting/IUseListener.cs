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

        /// <summary>A call at <paramref name="position"/> in lock region <paramref name="region"/> re-validates <paramref name="value"/>.</summary>
        void Revalidation(int region, int position, ValueId value);
    }
}
