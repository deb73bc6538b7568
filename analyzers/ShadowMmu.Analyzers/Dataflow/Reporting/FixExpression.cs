using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Reporting
{
    /// <summary>
    /// The expression the MMU0001 code fix re-validates at the start of the lock region: one that means the same there as
    /// at the use (its locals declared before the region and not written in it).
    /// </summary>
    internal sealed class FixExpression
    {
        private readonly AnalysisTables _tables;

        public FixExpression(AnalysisTables tables) => _tables = tables;

        /// <summary>
        /// The operand's location, or the value's location on the first pass (where a loop's first iteration still names it
        /// in constants), or now; only one that means the same at the start of the region as at the use.
        /// </summary>
        public string? For(AccessPath? operandPath, ValueId value, int region, TextSpan span, RevalidationLog log)
        {
            LockRegion lockRegion = _tables.Function.Regions[region];
            if (lockRegion.BlockStart < 0)
            {
                return null;
            }

            var candidates = new List<AccessPath?> { operandPath };
            if (log.FirstUnchecked.TryGetValue(span, out (ValueId Value, AccessPath? InLocals) first))
            {
                candidates.Add(first.InLocals);
                candidates.Add(first.Value.Path);
            }

            candidates.Add(value.Path);
            foreach (AccessPath? candidate in candidates)
            {
                if (candidate != null && candidate.Display.Length > 0 && IsStable(candidate, lockRegion))
                {
                    return candidate.Display;
                }
            }

            return null;
        }

        /// <summary>The path with each index variable that a local equals written in that local (<c>top - 1</c>, not <c>walk.MaxLevel - 1</c>).</summary>
        public AccessPath? InLocals(AccessPath? path, FlowState state)
        {
            if (path == null || !path.HasIndexVars)
            {
                return null;
            }

            return _tables.Paths.Rewrite(path, index =>
            {
                foreach (KeyValuePair<int, IndexExpr> pair in IntMap<IndexExpr>.Entries(state.Equalities))
                {
                    IndexVar local = _tables.Vars[pair.Key];
                    if (ReferenceEquals(pair.Value.Var, index.Var) && local.Path is { Root.Kind: RootKind.Local, Length: 0 }
                        && state.InRegion && IsStable(local.Path, _tables.Function.Regions[state.Region]))
                    {
                        return new IndexExpr(local, index.Offset - pair.Value.Offset);
                    }
                }

                return index;
            });
        }

        private bool IsStable(AccessPath path, LockRegion region)
        {
            switch (path.Root.Kind)
            {
                case RootKind.Local:
                    if (path.Root.Symbol is not ILocalSymbol local || local.Locations.Length == 0 || local.Locations[0].SourceSpan.End > region.Span.Start)
                    {
                        return false;
                    }

                    goto case RootKind.Parameter;
                case RootKind.Parameter:
                    if (path.Root.Symbol == null || Written(region).Contains(path.Root.Symbol))
                    {
                        return false;
                    }

                    break;
            }

            foreach (Step step in path.Steps)
            {
                if (step.IsIndex && step.Index.Var != null && (step.Index.Var.Path == null || !IsStable(step.Index.Var.Path, region)))
                {
                    return false;
                }
            }

            return true;
        }

        private HashSet<ISymbol> Written(LockRegion region)
        {
            if (region.Written != null)
            {
                return region.Written;
            }

            var written = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
            foreach (IOperation operation in _tables.Function.Body.DescendantsAndSelf())
            {
                if (!region.Span.Contains(operation.Syntax.Span))
                {
                    continue;
                }

                IOperation? target = operation switch
                {
                    IAssignmentOperation assignment => assignment.Target,
                    IIncrementOrDecrementOperation increment => increment.Target,
                    IArgumentOperation argument when argument.Parameter?.RefKind is RefKind.Ref or RefKind.Out => argument.Value,
                    IInvocationOperation invocation when invocation.Instance?.Type?.IsValueType == true && !invocation.TargetMethod.IsReadOnly => invocation.Instance,
                    _ => null,
                };
                if (RootSymbol(target) is ISymbol symbol)
                {
                    written.Add(symbol);
                }
            }

            region.Written = written;
            return written;
        }

        private static ISymbol? RootSymbol(IOperation? operation)
        {
            while (true)
            {
                switch (operation)
                {
                    case ILocalReferenceOperation local:
                        return local.Local;
                    case IParameterReferenceOperation parameter:
                        return parameter.Parameter;
                    case IFieldReferenceOperation field:
                        operation = field.Instance;
                        break;
                    case IPropertyReferenceOperation property:
                        operation = property.Instance;
                        break;
                    case IArrayElementReferenceOperation element:
                        operation = element.ArrayReference;
                        break;
                    case IInlineArrayAccessOperation inline:
                        operation = inline.Instance;
                        break;
                    case IConversionOperation conversion:
                        operation = conversion.Operand;
                        break;
                    case IDeclarationExpressionOperation declaration:
                        operation = declaration.Expression;
                        break;
                    default:
                        return null;
                }
            }
        }
    }
}
