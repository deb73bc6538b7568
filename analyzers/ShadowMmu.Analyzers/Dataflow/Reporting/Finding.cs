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
