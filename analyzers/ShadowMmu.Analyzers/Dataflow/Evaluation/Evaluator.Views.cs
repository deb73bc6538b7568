using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Evaluation
{
    /// <summary>
    /// Views of a container's elements: slices (<c>Slice</c>, <c>AsSpan(start, length)</c>, ranges), pointers (<c>fixed</c>,
    /// <c>&amp;ptes[2]</c>, <c>p + 1</c>), enumerators (<c>foreach</c>), and copies between them (<c>CopyTo</c>,
    /// <c>Array.Copy</c>). A view's element <c>i</c> is its container's element <c>i + offset</c>.
    /// </summary>
    internal sealed partial class Evaluator
    {
        private const string CopiedToAnUnknownPosition = "it was copied by '{0}' to a position the analysis does not follow; re-validate the value itself under the lock";

        /// <summary>An expression whose value is a view of another's elements (not a location of its own).</summary>
        private bool IsViewExpression(IOperation operation) => operation switch
        {
            IParenthesizedOperation parenthesized => IsViewExpression(parenthesized.Operand),
            IConversionOperation conversion => IsViewExpression(conversion.Operand),
            IInvocationOperation invocation => IsViewMethod(invocation.TargetMethod),
            IObjectCreationOperation creation => _tables.Known.IsSpan(creation.Type),
            IArrayElementReferenceOperation element => element.Indices.Length == 1 && IsRange(element.Indices[0]),
            IImplicitIndexerReferenceOperation indexer => IsRange(indexer.Argument),
            IInlineArrayAccessOperation inline => IsRange(inline.Argument),
            IBinaryOperation binary => binary.Type is IPointerTypeSymbol,
            IAddressOfOperation => true,
            { Kind: OperationKind.None } other => other.Type is IPointerTypeSymbol && other.Syntax is not ElementAccessExpressionSyntax and not PrefixUnaryExpressionSyntax,
            _ => false,
        };

        private bool IsViewMethod(IMethodSymbol method) =>
            (method.Name == "Slice" && _tables.Known.IsSpan(method.ContainingType))
            || (method.Name is "AsSpan" && _tables.Known.IsMemoryExtension(method));

        /// <summary>The container and offset a value views: a view's own, or a container's location from its first element.</summary>
        private (AccessPath Container, IndexExpr Offset)? AsView(AbstractValue value)
        {
            if (value.IsView)
            {
                return (value.Location!, value.ElementOffset!.Value);
            }

            return value.Location != null && _tables.Known.IsContainer(value.Location.Type) ? (value.Location, IndexExpr.Const(0)) : null;
        }

        /// <summary>The value of a view expression, or null when the operation is not one.</summary>
        private AbstractValue? EvalView(IOperation operation, FlowState state)
        {
            switch (operation)
            {
                case IArrayElementReferenceOperation element when element.Indices.Length == 1 && IsRange(element.Indices[0]):
                    return Range(element.ArrayReference, element.Indices[0], state);
                case IImplicitIndexerReferenceOperation indexer when IsRange(indexer.Argument):
                    return Range(indexer.Instance, indexer.Argument, state);
                case IInlineArrayAccessOperation inline when IsRange(inline.Argument):
                    return Range(inline.Instance, inline.Argument, state);
                case IBinaryOperation { Type: IPointerTypeSymbol } arithmetic when arithmetic.OperatorKind is BinaryOperatorKind.Add or BinaryOperatorKind.Subtract:
                {
                    AbstractValue pointer = Eval(arithmetic.LeftOperand, state);
                    IndexExpr? delta = Eval(arithmetic.RightOperand, state).Int;
                    if (AsView(pointer) is (AccessPath pointed, IndexExpr offset) && delta is IndexExpr d
                        && (arithmetic.OperatorKind == BinaryOperatorKind.Add || d.IsConst)
                        && IndexExpr.Plus(offset, arithmetic.OperatorKind == BinaryOperatorKind.Add ? d : IndexExpr.Const(-d.Offset)) is IndexExpr moved)
                    {
                        return AbstractValue.View(pointed, moved, IdSet<ValueId>.Empty);
                    }

                    return AbstractValue.Empty;
                }

                case IAddressOfOperation addressOf:
                    return PathOf(addressOf.Reference, state) is AccessPath { Parent: AccessPath addressed, Last.IsIndex: true } addressedElement
                        ? AbstractValue.View(addressed, addressedElement.Last.Index, IdSet<ValueId>.Empty)
                        : AbstractValue.Empty;
                case { Kind: OperationKind.None, Type: IPointerTypeSymbol } pinned when pinned.ChildOperations.Count == 1:
                    foreach (IOperation child in pinned.ChildOperations)
                    {
                        return AsView(Eval(child, state)) is (AccessPath pinnedArray, IndexExpr pinnedOffset) ? AbstractValue.View(pinnedArray, pinnedOffset, IdSet<ValueId>.Empty) : AbstractValue.Empty;
                    }

                    return AbstractValue.Empty;
                default:
                    return null;
            }
        }

        /// <summary><c>x[a..b]</c>: the elements of <c>x</c> from <c>a</c> on (the length does not matter to which element is which).</summary>
        private AbstractValue Range(IOperation? container, IOperation range, FlowState state)
        {
            AbstractValue source = Eval(container, state);
            if (AsView(source) is not (AccessPath path, IndexExpr offset))
            {
                return AbstractValue.FromIds(source.Ids);
            }

            IndexExpr? start = range is IRangeOperation { LeftOperand: IOperation left } ? IndexOf(path, left, state, fromView: source.IsView && !offset.Equals(IndexExpr.Const(0))) : IndexExpr.Const(0);
            return start is IndexExpr s && IndexExpr.Plus(offset, s) is IndexExpr moved ? AbstractValue.View(path, moved, IdSet<ValueId>.Empty) : AbstractValue.Empty;
        }

        /// <summary>
        /// The calls that make, walk or fill views: <c>Slice</c>, <c>AsSpan</c>, <c>new Span&lt;T&gt;(array, start, length)</c>,
        /// <c>GetEnumerator</c>, <c>CopyTo</c>, <c>Array.Copy</c>. False for any other call.
        /// </summary>
        private bool TryEvalViewCall(IMethodSymbol method, IOperation? instance, ImmutableArray<IArgumentOperation> arguments, IOperation call, FlowState state, out AbstractValue result)
        {
            result = AbstractValue.Empty;
            KnownSymbols known = _tables.Known;
            bool span = known.IsSpan(method.ContainingType);
            if (IsViewMethod(method) || (method.MethodKind == MethodKind.Constructor && span && arguments.Length is 1 or 3 && known.IsContainer(arguments[0].Value.Type)))
            {
                // x.Slice(start[, length]), array.AsSpan([start[, length]]), new Span<T>(array[, start, length]).
                IOperation? source = instance ?? (arguments.Length > 0 ? arguments[0].Value : null);
                int first = instance != null ? 0 : 1;
                AbstractValue view = Eval(source, state);
                IndexExpr? start = IndexExpr.Const(0);
                if (arguments.Length > first && AsView(view) is (AccessPath container, _))
                {
                    IOperation startArgument = arguments[first].Value;
                    start = IsRange(startArgument)
                        ? (startArgument is IRangeOperation { LeftOperand: IOperation left } ? IndexOf(container, left, state, fromView: view.IsView) : IndexExpr.Const(0))
                        : IndexOf(container, startArgument, state, fromView: view.IsView);
                }

                for (int i = first + 1; i < arguments.Length; i++)
                {
                    Eval(arguments[i].Value, state);
                }

                result = AsView(view) is (AccessPath c, IndexExpr offset) && start is IndexExpr s && IndexExpr.Plus(offset, s) is IndexExpr moved
                    ? AbstractValue.View(c, moved, IdSet<ValueId>.Empty)
                    : AbstractValue.FromIds(view.Ids);
                return true;
            }

            if (method.Name == "GetEnumerator" && instance != null && method.Parameters.IsEmpty)
            {
                AbstractValue collection = Eval(instance is IConversionOperation { Operand: IOperation operand } ? operand : instance, state);
                if (AsView(collection) is (AccessPath container, IndexExpr offset))
                {
                    result = AbstractValue.Enumerator(container, offset);
                    return true;
                }

                return false;
            }

            if (method.Name is "CopyTo" or "TryCopyTo" && (span || known.IsMemoryExtension(method) || (known.IsArrayMethod(method) && arguments.Length == 2)))
            {
                // source.CopyTo(destination), array.CopyTo(span), array.CopyTo(destinationArray, index).
                IOperation source = instance ?? arguments[0].Value;
                IOperation destination = instance != null ? arguments[0].Value : arguments[1].Value;
                IOperation? at = known.IsArrayMethod(method) ? arguments[1].Value : null;
                Copy(Eval(source, state), null, destination, at, call, method.Name, state);
                return true;
            }

            if (method.Name == "Copy" && known.IsArrayMethod(method) && arguments.Length is 3 or 5)
            {
                // Array.Copy(source, destination, length), Array.Copy(source, sourceIndex, destination, destinationIndex, length).
                bool indexed = arguments.Length == 5;
                AbstractValue source = Eval(arguments[0].Value, state);
                IndexExpr? from = indexed ? Eval(arguments[1].Value, state).Int : IndexExpr.Const(0);
                Copy(source, from, arguments[indexed ? 2 : 1].Value, indexed ? arguments[3].Value : null, call, "Array.Copy", state);
                Eval(arguments[arguments.Length - 1].Value, state);
                return true;
            }

            return false;
        }

        /// <summary>What an element of a view may hold (one the analysis cannot name), or nothing for another value.</summary>
        private AbstractValue AnyElement(AbstractValue view, IOperation site, FlowState state)
        {
            if (AsView(view) is not (AccessPath container, IndexExpr offset) || IndexExpr.Plus(UnknownIndex(site, "?", state), offset) is not IndexExpr index)
            {
                return AbstractValue.Empty;
            }

            return ReadPath(_tables.Paths.Append(container, Step.ForIndex(index, KnownSymbols.ElementType(container.Type))), state);
        }

        /// <summary>
        /// A copy of <paramref name="source"/>'s elements (from <paramref name="from"/> on) into <paramref name="destination"/>
        /// at <paramref name="at"/>: followed when it lands on a tracked container's first element; otherwise its content is not followed.
        /// </summary>
        private void Copy(AbstractValue source, IndexExpr? from, IOperation destination, IOperation? at, IOperation call, string method, FlowState state)
        {
            AbstractValue target = Eval(destination, state);
            IndexExpr? position = at == null ? IndexExpr.Const(0) : Eval(at, state).Int;
            if (AsView(target) is not (AccessPath container, IndexExpr offset))
            {
                NotFollowedStore(destination, call, source.HasIds ? source : AnyElement(source, call, state), state);
                return;
            }

            IndexExpr? landing = position is IndexExpr p ? IndexExpr.Plus(offset, p) : null;
            bool exact = landing is { IsConst: true, Offset: 0 } && container.Storable;
            (AccessPath Container, IndexExpr Offset)? sourceView = AsView(source);
            if (exact && sourceView is (AccessPath sourceContainer, IndexExpr sourceOffset)
                && (from == null ? sourceOffset : IndexExpr.Plus(sourceOffset, from.Value)) is IndexExpr start)
            {
                _memory.Store(container, AbstractValue.View(sourceContainer, start, IdSet<ValueId>.Empty), null, state, call.Syntax.Span);
                return;
            }

            if (source.HasIds || sourceView != null)
            {
                _memory.StoreUnfollowed(container, _tables.Values.Unfollowed(call.Syntax, string.Format(System.Globalization.CultureInfo.InvariantCulture, CopiedToAnUnknownPosition, method)), state, call.Syntax.Span);
            }
        }
    }
}
