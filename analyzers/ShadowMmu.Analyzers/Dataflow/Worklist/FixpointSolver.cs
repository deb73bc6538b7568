using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis.FlowAnalysis;
using ShadowMmu.Analyzers.Dataflow.Evaluation;
using ShadowMmu.Analyzers.Dataflow.State;

namespace ShadowMmu.Analyzers.Dataflow.Worklist
{
    /// <summary>
    /// Runs the transfer functions over the graph to a fixed point, with a worklist of (block, context) pairs: the state at
    /// each block's entry, per unroll context. What the evaluation reports along the way is only recorded (see
    /// <see cref="Reporting.ReportingPass"/> for the findings, made from the states at the fixed point).
    /// </summary>
    internal sealed class FixpointSolver
    {
        /// <summary>Past this many contexts a block keeps one merged state (see <see cref="UnrollContext.Collapsed"/>).</summary>
        private const int MaxContexts = 8;

        private readonly AnalysisTables _tables;
        private readonly BlockTransfer _transfer;
        private readonly StateJoin _join;
        private readonly Dictionary<UnrollContext, int> _contextIds = new();
        private readonly List<UnrollContext> _contexts = new();

        public FixpointSolver(AnalysisTables tables, BlockTransfer transfer, StateJoin join)
        {
            _tables = tables;
            _transfer = transfer;
            _join = join;
        }

        /// <summary>
        /// The states at each block's entry per context, or null when the work passed <paramref name="workLimit"/>
        /// (<see cref="WorkMeter"/>), or the steps a limit that grows with the graph (a state that never settles).
        /// </summary>
        public Dictionary<UnrollContext, FlowState>?[]? Solve(long workLimit, FlowState entry)
        {
            ImmutableArray<BasicBlock> blocks = _tables.Cfg.Blocks;
            int n = blocks.Length;
            var inStates = new Dictionary<UnrollContext, FlowState>?[n];
            Dictionary<int, List<int>> handlersOf = HandlerEdges.Of(_tables.Cfg);
            var liveness = new Liveness(_tables, handlersOf);
            var worklist = new SortedSet<(int Block, int Context)>();
            inStates[0] = new Dictionary<UnrollContext, FlowState> { [UnrollContext.Empty] = entry };
            worklist.Add((0, IdOf(UnrollContext.Empty)));
            long budget = 1000L + (60L * n);

            while (worklist.Count > 0)
            {
                _tables.Cancellation.ThrowIfCancellationRequested();
                (int i, int contextId) = worklist.Min;
                worklist.Remove(worklist.Min);
                if (--budget < 0 || WorkMeter.Count > workLimit)
                {
                    return null;
                }

                if (inStates[i] is not Dictionary<UnrollContext, FlowState> contexts || !contexts.TryGetValue(ContextOf(contextId), out FlowState? input))
                {
                    continue;
                }

                BasicBlock block = blocks[i];
                FlowState state = input.Fork();
                _transfer.Operations(block, state);
                FlowState after = state.Fork();
                foreach ((BasicBlock? destination, FlowState successor) in _transfer.Branch(block, state))
                {
                    if (destination != null)
                    {
                        Propagate(destination.Ordinal, liveness.Prune(successor, i, destination.Ordinal), inStates, worklist);
                    }
                }

                if (handlersOf.TryGetValue(i, out List<int>? handlers))
                {
                    foreach (int handler in handlers)
                    {
                        Propagate(handler, liveness.Prune(input, i, handler), inStates, worklist);
                        Propagate(handler, liveness.Prune(after, i, handler), inStates, worklist);
                    }
                }
            }

            return inStates;
        }

        private void Propagate(int destination, FlowState state, Dictionary<UnrollContext, FlowState>?[] inStates, SortedSet<(int Block, int Context)> worklist)
        {
            Dictionary<UnrollContext, FlowState> contexts = inStates[destination] ??= new Dictionary<UnrollContext, FlowState>();
            UnrollContext context = contexts.ContainsKey(UnrollContext.Collapsed)
                ? UnrollContext.Collapsed
                : UnrollContext.Of(state);
            if (!contexts.ContainsKey(context) && contexts.Count >= MaxContexts)
            {
                // Too many contexts: merge them all into one and go on symbolically.
                FlowState all = state.Fork();
                foreach (KeyValuePair<UnrollContext, FlowState> pair in contexts)
                {
                    all = _join.Merge(all, pair.Value);
                    worklist.Remove((destination, IdOf(pair.Key)));
                }

                contexts.Clear();
                contexts[UnrollContext.Collapsed] = all;
                worklist.Add((destination, IdOf(UnrollContext.Collapsed)));
                return;
            }

            FlowState? old = contexts.TryGetValue(context, out FlowState? existing) ? existing : null;
            FlowState merged = old == null ? state.Fork() : _join.Merge(old, state);
            if (old == null || !merged.SameAs(old))
            {
                contexts[context] = merged;
                worklist.Add((destination, IdOf(context)));
            }
        }

        private int IdOf(UnrollContext context)
        {
            if (!_contextIds.TryGetValue(context, out int id))
            {
                _contextIds[context] = id = _contextIds.Count;
                _contexts.Add(context);
            }

            return id;
        }

        private UnrollContext ContextOf(int id) => _contexts[id];
    }
}
