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

        public AnalysisTables(ControlFlowGraph cfg, FunctionInfo fn, KnownSymbols known, CancellationToken cancellation)
        {
            Cfg = cfg;
            Function = fn;
            Known = known;
            Cancellation = cancellation;
        }

        public ControlFlowGraph Cfg { get; }

        public FunctionInfo Function { get; }

        public KnownSymbols Known { get; }

        public CancellationToken Cancellation { get; }

        public PathTable Paths { get; } = new();

        public IndexVarTable Vars { get; } = new();

        public ValueTable Values { get; } = new();

        /// <summary>The integer variables whose constant values split states into contexts (see <see cref="ContextVariables"/>).</summary>
        public HashSet<IndexVar> ContextVariables { get; } = new();

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
