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
        private static readonly HashSet<ISymbol> NothingWritten = new(SymbolEqualityComparer.Default);

        private readonly AnalysisTables _tables;
        private Dictionary<LockRegion, HashSet<ISymbol>>? _written;

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
                foreach (IndexVar local in state.Equalities.UsersOf(index.Var!))
                {
                    state.TryGetEqual(local, out IndexExpr equal);
                    if (local.Path is { Root.Kind: RootKind.Local, Length: 0 } && state.InRegion && IsStable(local.Path, _tables.Function.Regions[state.Region]))
                    {
                        return new IndexExpr(local, index.Offset - equal.Offset);
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

        /// <summary>The locals and parameters assigned somewhere in <paramref name="region"/> (all regions' in one walk, on first use).</summary>
        private HashSet<ISymbol> Written(LockRegion region)
        {
            if (_written == null)
            {
                _written = new Dictionary<LockRegion, HashSet<ISymbol>>();
                FunctionInfo fn = _tables.Function;
                foreach (IOperation operation in OperationTree.DescendantsAndSelf(fn.Body))
                {
                    IOperation? target = operation switch
                    {
                        IAssignmentOperation assignment => assignment.Target,
                        IIncrementOrDecrementOperation increment => increment.Target,
                        IArgumentOperation argument when argument.Parameter?.RefKind is RefKind.Ref or RefKind.Out => argument.Value,
                        IInvocationOperation invocation when invocation.Instance?.Type?.IsValueType == true && !invocation.TargetMethod.IsReadOnly => invocation.Instance,
                        _ => null,
                    };
                    int index = target == null ? -1 : fn.RegionOf(operation.Syntax.Span);
                    if (index >= 0 && RootSymbol(target) is ISymbol symbol)
                    {
                        LockRegion outermost = fn.Regions[index];
                        if (!_written.TryGetValue(outermost, out HashSet<ISymbol>? set))
                        {
                            _written[outermost] = set = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
                        }

                        set.Add(symbol);
                    }
                }
            }

            return _written.TryGetValue(region, out HashSet<ISymbol>? written) ? written : NothingWritten;
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
