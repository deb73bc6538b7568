using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Text;
using ShadowMmu.Analyzers.Dataflow.Evaluation;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;
using ShadowMmu.Analyzers.Dataflow.Worklist;

namespace ShadowMmu.Analyzers.Dataflow.Reporting
{
    /// <summary>
    /// The reporting pass, after the fixed point: runs each block once more from each of its entry states, and turns what
    /// the evaluation sees into findings, with their messages' details and the code fix's expression (ErrorProne's
    /// <c>GuardedByChecker</c> reports what <c>HeldLockAnalyzer</c>'s walk sees, the same split). One finding per use
    /// site, and one per unchecked value per statement: the value's first use there.
    /// </summary>
    internal sealed class ReportingPass : IUseListener
    {
        private readonly AnalysisTables _tables;
        private readonly RevalidationLog _log;
        private readonly FixExpression _fix;
        private readonly HashSet<TextSpan> _reported = new();
        private readonly List<Finding> _findings = new();
        private readonly List<CapturedValue> _captured = new();
        private readonly HashSet<(IMethodSymbol, ISymbol)> _capturedSeen = new();

        public ReportingPass(AnalysisTables tables, RevalidationLog log, FixExpression fix)
        {
            _tables = tables;
            _log = log;
            _fix = fix;
        }

        /// <summary>The locals captured by lambdas and local functions while they may hold guest PTE values.</summary>
        public List<CapturedValue> CapturedValues => _captured;

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

            return OnePerValueAndStatement(_findings);
        }

        public void UncheckedUse(IOperation operand, AbstractValue value, ValueId @unchecked, FlowState state)
        {
            TextSpan span = operand.Syntax.Span;
            if (!_reported.Add(span))
            {
                return;
            }

            if (@unchecked is UnfollowedValue unfollowed)
            {
                _findings.Add(new Finding(operand, unfollowed, state.Region, unfollowed.Reason, null, notFollowed: true));
                return;
            }

            string detail = FindingDetail.For(@unchecked, operand, state, _log);
            string? fix = _fix.For(value.Location, @unchecked, state.Region, span, _log);
            _findings.Add(new Finding(operand, @unchecked, state.Region, detail, fix));
        }

        public void NotFollowed(IOperation site, ValueId value, string reason)
        {
            if (_reported.Add(site.Syntax.Span))
            {
                _findings.Add(new Finding(site, value, FlowState.Outside, reason, null, notFollowed: true));
            }
        }

        public void Captured(IMethodSymbol function, ISymbol symbol, string display)
        {
            if (_capturedSeen.Add((function, symbol)))
            {
                _captured.Add(new CapturedValue(function, symbol, display));
            }
        }

        public void Revalidation(int region, int position, ValueId value) => _log.Add(region, position, value);

        /// <summary>Of the findings of one value in one statement, the first in the code.</summary>
        private static List<Finding> OnePerValueAndStatement(List<Finding> findings)
        {
            var first = new Dictionary<(TextSpan Statement, ValueId Value, bool NotFollowed), Finding>();
            foreach (Finding finding in findings)
            {
                var key = (StatementOf(finding.Operand.Syntax), finding.Value, finding.NotFollowed);
                if (!first.TryGetValue(key, out Finding? kept) || finding.Operand.Syntax.SpanStart < kept.Operand.Syntax.SpanStart)
                {
                    first[key] = finding;
                }
            }

            var result = new List<Finding>(first.Values);
            result.Sort((a, b) => a.Operand.Syntax.SpanStart.CompareTo(b.Operand.Syntax.SpanStart));
            return result;
        }

        /// <summary>The statement a use is in (an expression-bodied member's or lambda's body counts as one).</summary>
        private static TextSpan StatementOf(SyntaxNode node)
        {
            for (SyntaxNode? up = node; up != null; up = up.Parent)
            {
                if (up is StatementSyntax or ArrowExpressionClauseSyntax || up.Parent is LambdaExpressionSyntax { ExpressionBody: not null } lambda && lambda.ExpressionBody == up)
                {
                    return up.Span;
                }
            }

            return node.Span;
        }
    }
}
