using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Evaluation
{
    /// <summary>
    /// Values a lambda or local function captures: each is analysed on its own, so a captured local that holds a guest
    /// PTE value where the function is made (or called, for a local function) is not followed into it. The function's
    /// own analysis starts with those locals holding a value it does not follow (MMU0005 if used under its lock
    /// unchecked; re-validated there, it is clean).
    /// </summary>
    internal sealed partial class Evaluator
    {
        /// <summary>Reports the locals of this function that <paramref name="function"/> captures and that may hold guest PTE values now.</summary>
        private void Captured(IMethodSymbol function, FlowState state)
        {
            if (!_tables.Nested.TryGetValue(function, out FunctionInfo? inner) || !inner.HasRegionInside)
            {
                return;
            }

            var seen = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
            Microsoft.CodeAnalysis.Text.TextSpan body = inner.Body.Syntax.Span;
            foreach (IOperation operation in OperationTree.Descendants(inner.Body))
            {
                ISymbol? symbol = operation switch
                {
                    ILocalReferenceOperation local => local.Local,
                    IParameterReferenceOperation parameter => parameter.Parameter,
                    _ => null,
                };
                if (symbol == null || !seen.Add(symbol) || symbol.Locations.Length == 0 || body.Contains(symbol.Locations[0].SourceSpan))
                {
                    continue;
                }

                // What the function can see by annotation (an [UnlockedGuestPte] parameter or member) it follows itself.
                AccessPath root = RootPath(symbol);
                if (root.Root.Annotated || !_memory.MayHoldIds(root, state, byType: false))
                {
                    continue;
                }

                ValueId? first = FirstId(ReadPath(root, state));
                _listener.Captured(function, symbol, first?.Display ?? root.Display);
            }
        }
    }
}
