using Microsoft.CodeAnalysis;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Reporting
{
    /// <summary>The listener while the solver runs: it reports nothing, and records what the messages and the code fix need.</summary>
    internal sealed class SolvingRecorder : IUseListener
    {
        private readonly RevalidationLog _log;
        private readonly FixExpression _fix;

        public SolvingRecorder(RevalidationLog log, FixExpression fix)
        {
            _log = log;
            _fix = fix;
        }

        public void UncheckedUse(IOperation operand, AbstractValue value, ValueId @unchecked, FlowState state)
        {
            if (!_log.FirstUnchecked.ContainsKey(operand.Syntax.Span))
            {
                _log.FirstUnchecked[operand.Syntax.Span] = (@unchecked, _fix.InLocals(@unchecked.Path, state));
            }
        }

        public void Revalidation(int region, int position, ValueId value) => _log.Add(region, position, value);

        public void NotFollowed(IOperation site, ValueId value, string reason)
        {
        }

        public void Captured(IMethodSymbol function, ISymbol symbol, string display)
        {
        }
    }
}
