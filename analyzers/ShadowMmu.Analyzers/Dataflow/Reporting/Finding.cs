using Microsoft.CodeAnalysis;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Reporting
{
    /// <summary>
    /// A use, under the lock, of a guest PTE value not re-validated in that lock region (MMU0001); or a value the analysis
    /// does not follow, where it leaves what it follows or where it is used under the lock (MMU0005).
    /// </summary>
    internal sealed class Finding
    {
        public Finding(IOperation operand, ValueId value, int region, string detail, string? fixValue, bool notFollowed = false)
        {
            Operand = operand;
            Value = value;
            Region = region;
            Detail = detail;
            FixValue = fixValue;
            NotFollowed = notFollowed;
        }

        /// <summary>MMU0005 (with <see cref="Detail"/> its reason), not MMU0001.</summary>
        public bool NotFollowed { get; }

        public IOperation Operand { get; }

        /// <summary>The value used without a re-validation.</summary>
        public ValueId Value { get; }

        /// <summary>The lock region of the use (an index into the function's regions), or -1 outside every region.</summary>
        public int Region { get; }

        /// <summary>The end of the message: which other entry was re-validated instead, when one was.</summary>
        public string Detail { get; }

        /// <summary>An expression for the code fix to re-validate at the start of the region, or null.</summary>
        public string? FixValue { get; }
    }
}

namespace ShadowMmu.Analyzers.Dataflow.Reporting
{
    using System.Collections.Generic;

    /// <summary>A local that a lambda or local function captures while it may hold a guest PTE value (shown as <see cref="Display"/>).</summary>
    internal sealed class CapturedValue
    {
        public CapturedValue(Microsoft.CodeAnalysis.IMethodSymbol function, Microsoft.CodeAnalysis.ISymbol symbol, string display)
        {
            Function = function;
            Symbol = symbol;
            Display = display;
        }

        public Microsoft.CodeAnalysis.IMethodSymbol Function { get; }

        public Microsoft.CodeAnalysis.ISymbol Symbol { get; }

        public string Display { get; }
    }

    /// <summary>What the analysis of one function found, and whether it could check it at all.</summary>
    internal sealed class DataflowResult
    {
        public DataflowResult(List<Finding> findings, bool completed, int operations, List<CapturedValue> captured)
        {
            Findings = findings;
            Completed = completed;
            Operations = operations;
            Captured = captured;
        }

        /// <summary>The locals its lambdas and local functions capture while they may hold guest PTE values.</summary>
        public List<CapturedValue> Captured { get; }

        /// <summary>The unchecked uses (empty when the analysis did not complete).</summary>
        public List<Finding> Findings { get; }

        /// <summary>False when the function's analysis passed its work budget: nothing was checked (MMU0006).</summary>
        public bool Completed { get; }

        /// <summary>How many operations the function has (its budget grows with them).</summary>
        public int Operations { get; }
    }
}
