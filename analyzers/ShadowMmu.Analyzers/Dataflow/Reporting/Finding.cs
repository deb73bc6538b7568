using Microsoft.CodeAnalysis;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Reporting
{
    /// <summary>A use, under the lock, of a guest PTE value not re-validated in that lock region (becomes MMU0001).</summary>
    internal sealed class Finding
    {
        public Finding(IOperation operand, ValueId value, int region, string detail, string? fixValue)
        {
            Operand = operand;
            Value = value;
            Region = region;
            Detail = detail;
            FixValue = fixValue;
        }

        public IOperation Operand { get; }

        /// <summary>The value used without a re-validation.</summary>
        public ValueId Value { get; }

        /// <summary>The lock region of the use (an index into the function's regions).</summary>
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

    /// <summary>What the analysis of one function found, and whether it could check it at all.</summary>
    internal sealed class DataflowResult
    {
        public DataflowResult(List<Finding> findings, bool completed, int operations)
        {
            Findings = findings;
            Completed = completed;
            Operations = operations;
        }

        /// <summary>The unchecked uses (empty when the analysis did not complete).</summary>
        public List<Finding> Findings { get; }

        /// <summary>False when the function's analysis passed its work budget: nothing was checked (MMU0006).</summary>
        public bool Completed { get; }

        /// <summary>How many operations the function has (its budget grows with them).</summary>
        public int Operations { get; }
    }
}
