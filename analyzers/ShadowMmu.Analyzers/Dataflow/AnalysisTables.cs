using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow
{
    /// <summary>What every room of one function's analysis shares: the function, its graph, and the interned ids.</summary>
    internal sealed class AnalysisTables
    {
        private readonly Dictionary<CaptureId, int> _captures = new();
        private readonly Dictionary<ISymbol, AccessPath> _rootPaths = new(SymbolEqualityComparer.Default);

        public AnalysisTables(ControlFlowGraph cfg, FunctionInfo fn, KnownSymbols known, IReadOnlyDictionary<IMethodSymbol, FunctionInfo> nested, CancellationToken cancellation)
        {
            Cfg = cfg;
            Function = fn;
            Known = known;
            Nested = nested;
            Cancellation = cancellation;
        }

        public ControlFlowGraph Cfg { get; }

        public FunctionInfo Function { get; }

        public KnownSymbols Known { get; }

        /// <summary>The lambdas and local functions of the member, by symbol (for what they capture).</summary>
        public IReadOnlyDictionary<IMethodSymbol, FunctionInfo> Nested { get; }

        public CancellationToken Cancellation { get; }

        /// <summary>How many operations the function's body has (counted by <see cref="IndexVariables.IndexVariableFinder"/>).</summary>
        public int OperationCount { get; set; }

        public PathTable Paths { get; } = new();

        public IndexVarTable Vars { get; } = new();

        public ValueTable Values { get; } = new();

        /// <summary>
        /// Where the state keeps the invalidation-sequence snapshots taken so far (on some path): a location of its own,
        /// named after the first [InvalidationSnapshot] method seen, that no code writes. Set by the solving pass, which
        /// sees every reachable snapshot before the reporting pass runs.
        /// </summary>
        public AccessPath? SnapshotsTaken { get; set; }

        /// <summary>The path of a local, a parameter or a static member.</summary>
        public AccessPath RootPath(ISymbol symbol)
        {
            if (_rootPaths.TryGetValue(symbol, out AccessPath? path))
            {
                return path;
            }

            Root root = symbol switch
            {
                ILocalSymbol local => new Root(RootKind.Local, local, local.Name, local.Type, false, true),
                IParameterSymbol parameter => new Root(RootKind.Parameter, parameter, parameter.Name, parameter.Type, Known.IsUnlocked(parameter), true),
                _ => new Root(RootKind.Static, symbol, KnownSymbols.MemberName(symbol), KnownSymbols.TypeOf(symbol), Known.IsUnlocked(symbol), false),
            };
            _rootPaths[symbol] = path = Paths.Of(root);
            return path;
        }

        /// <summary>The path of <paramref name="symbol"/> if the analysis ever made it (nothing is known of it otherwise).</summary>
        public bool TryGetRootPath(ISymbol symbol, out AccessPath path) => _rootPaths.TryGetValue(symbol, out path!);

        /// <summary>A small number for a flow capture of the graph (the state's key for its value).</summary>
        public int CaptureNumber(CaptureId id)
        {
            if (!_captures.TryGetValue(id, out int number))
            {
                _captures[id] = number = _captures.Count;
            }

            return number;
        }

        /// <summary>A source span's text on one line, at most 80 characters (how messages quote code).</summary>
        public static string Text(SyntaxNode node)
        {
            string text = string.Join(" ", node.ToString().Split(new[] { ' ', '\t', '\r', '\n' }, System.StringSplitOptions.RemoveEmptyEntries));
            return text.Length <= 80 ? text : text.Substring(0, 77) + "...";
        }
    }
}
