using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Text;
using ShadowMmu.Analyzers.Dataflow.Evaluation;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;
using ShadowMmu.Analyzers.Dataflow.Worklist;

namespace ShadowMmu.Analyzers.Dataflow.Reporting
{
    /// <summary>
    /// The reporting pass, after the fixed point: runs each block once more from each of its entry states, and turns the
    /// unchecked uses it sees into findings (one per use site), with their messages' details and the code fix's expression
    /// (ErrorProne's <c>GuardedByChecker</c> reports what <c>HeldLockAnalyzer</c>'s walk sees, the same split).
    /// </summary>
    internal sealed class ReportingPass : IUseListener
    {
        private readonly AnalysisTables _tables;
        private readonly RevalidationLog _log;
        private readonly FixExpression _fix;
        private readonly HashSet<TextSpan> _reported = new();
        private readonly List<Finding> _findings = new();

        public ReportingPass(AnalysisTables tables, RevalidationLog log, FixExpression fix)
        {
            _tables = tables;
            _log = log;
            _fix = fix;
        }

        /// <summary>The findings at the fixed point <paramref name="inStates"/>, evaluated with <paramref name="transfer"/> (whose listener is this pass).</summary>
        public List<Finding> Run(Dictionary<UnrollContext, FlowState>?[] inStates, BlockTransfer transfer)
        {
            ImmutableArray<BasicBlock> blocks = _tables.Cfg.Blocks;
            for (int i = 0; i < blocks.Length; i++)
            {
                if (inStates[i] is not Dictionary<UnrollContext, FlowState> contexts)
                {
                    continue;
                }

                foreach (FlowState entry in contexts.Values)
                {
                    _tables.Cancellation.ThrowIfCancellationRequested();
                    FlowState state = entry.Fork();
                    transfer.Operations(blocks[i], state);
                    transfer.Branch(blocks[i], state);
                }
            }

            return _findings;
        }

        public void UncheckedUse(IOperation operand, AbstractValue value, ValueId @unchecked, FlowState state)
        {
            TextSpan span = operand.Syntax.Span;
            if (!_reported.Add(span))
            {
                return;
            }

            string detail = FindingDetail.For(@unchecked, operand, state, _log);
            string? fix = _fix.For(value.Location, @unchecked, state.Region, span, _log);
            _findings.Add(new Finding(operand, @unchecked, state.Region, detail, fix));
        }

        public void Revalidation(int region, int position, ValueId value) => _log.Add(region, position, value);
    }
}
