using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using ShadowMmu.Analyzers.Dataflow.Evaluation;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.Reporting;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;
using ShadowMmu.Analyzers.Dataflow.Worklist;

namespace ShadowMmu.Analyzers.Dataflow
{
    /// <summary>
    /// The MMU0001 dataflow over one function's control-flow graph: a forward analysis to a fixed point whose state holds
    /// which guest PTE values (read without the lock) each tracked location may hold (a may-analysis) and which values
    /// were re-validated in the current lock region on every path (a must-analysis); then a reporting pass over the
    /// states at the fixed point.
    /// </summary>
    /// <remarks>
    /// The rooms, each a folder: <c>Locations</c> (abstract locations: access paths, and reading and writing them),
    /// <c>Values</c> (the identities of guest PTE values and what an expression's value is), <c>IndexVariables</c>
    /// (symbolic indexes such as <c>level - 1</c>, kept true as variables change), <c>State</c> (the persistent maps a
    /// state is made of), <c>Worklist</c> (the fixed point: worklist, unroll contexts, merge), <c>Evaluation</c> (the
    /// transfer functions of operations and blocks), <c>Reporting</c> (uses, findings, messages, the fix's expression).
    /// </remarks>
    internal static class GuestPteAnalysis
    {
        /// <summary>MMU0005's reason for a captured value.</summary>
        internal const string CapturedReason = "it was captured by this lambda or local function, which the analysis does not follow it into; re-validate it under this lock";

        /// <summary>The work any function may take (<see cref="WorkMeter"/> units), whatever its size.</summary>
        internal const long BaseBudget = 500_000;

        /// <summary>The work each operation of a function adds to its budget: 7 to 25 times what the benchmark's shapes take (2.4 to 8.6).</summary>
        internal const long BudgetPerOperation = 60;

        /// <summary>
        /// The findings of <paramref name="fn"/>; not completed when its analysis passed the budget of a function of its size
        /// (or <paramref name="budget"/>, when given).
        /// </summary>
        public static DataflowResult Run(
            ControlFlowGraph cfg,
            FunctionInfo fn,
            KnownSymbols known,
            IReadOnlyDictionary<IMethodSymbol, FunctionInfo> nested,
            IReadOnlyList<CapturedValue> captured,
            CancellationToken cancellation,
            long? budget = null)
        {
            long start = WorkMeter.Count;
            var tables = new AnalysisTables(cfg, fn, known, nested, cancellation);
            var indexes = new IndexTracker(tables);
            var memory = new AbstractMemory(tables, indexes);
            var log = new RevalidationLog();
            var fix = new FixExpression(tables);

            var solving = new Evaluator(tables, indexes, memory, new SolvingRecorder(log, fix));
            IndexVariableFinder.Find(tables, solving.StaticPath);
            long limit = start + (budget ?? BaseBudget + (BudgetPerOperation * tables.OperationCount));
            var solver = new FixpointSolver(tables, new BlockTransfer(tables, indexes, solving), new StateJoin(tables, indexes, memory));
            Dictionary<UnrollContext, FlowState>?[]? inStates = solver.Solve(limit, Entry(tables, captured));
            if (inStates == null)
            {
                return new DataflowResult(new List<Finding>(), completed: false, tables.OperationCount, new List<CapturedValue>());
            }

            var reporting = new ReportingPass(tables, log, fix);
            var evaluator = new Evaluator(tables, indexes, memory, reporting);
            List<Finding> findings = reporting.Run(inStates, new BlockTransfer(tables, indexes, evaluator));
            return new DataflowResult(findings, completed: true, tables.OperationCount, reporting.CapturedValues);
        }

        /// <summary>
        /// The state at the function's entry: for a lambda or local function, the captured locals that may hold guest PTE
        /// values where it is made hold a value the analysis does not follow.
        /// </summary>
        private static FlowState Entry(AnalysisTables tables, IReadOnlyList<CapturedValue> captured)
        {
            var state = new FlowState();
            foreach (CapturedValue value in captured)
            {
                UnfollowedValue unfollowed = tables.Values.Unfollowed(value.Symbol.Locations[0].SourceSpan, CapturedReason, value.Display);
                state.Locations = state.Locations.Set(new StoredValues(tables.RootPath(value.Symbol), IdSet<ValueId>.Of(unfollowed)));
            }

            return state;
        }
    }
}
