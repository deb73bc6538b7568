using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Evaluation
{
    /// <summary>Which location an expression denotes, and what reading it gives.</summary>
    internal sealed partial class Evaluator
    {
        /// <summary>The path of a local, a parameter or a static member.</summary>
        public AccessPath RootPath(ISymbol symbol) => _tables.RootPath(symbol);

        /// <summary>The path a local, a parameter or a member of one denotes, without a state (null for anything else).</summary>
        public AccessPath? StaticPath(IOperation operation) => operation switch
        {
            ILocalReferenceOperation local => RootPath(local.Local),
            IParameterReferenceOperation parameter => RootPath(parameter.Parameter),
            IInstanceReferenceOperation instance => ThisPath(instance),
            IFieldReferenceOperation { Field.IsStatic: false, Instance: IOperation instance } field when StaticPath(instance) is AccessPath receiver
                => _tables.Paths.Append(receiver, MemberStep(field.Field, field.Field.Type, instance)),
            IPropertyReferenceOperation { Property.IsStatic: false, Arguments.IsEmpty: true, Instance: IOperation instance } property when StaticPath(instance) is AccessPath receiver
                => _tables.Paths.Append(receiver, MemberStep(property.Property, property.Property.Type, instance)),
            IFieldReferenceOperation { Field.IsStatic: true } field => RootPath(field.Field),
            IPropertyReferenceOperation { Property.IsStatic: true, Arguments.IsEmpty: true } property => RootPath(property.Property),
            _ => null,
        };

        /// <summary>The location <paramref name="operation"/> denotes, or null when it is not a tracked access path.</summary>
        public AccessPath? PathOf(IOperation? operation, FlowState state)
        {
            switch (operation)
            {
                case ILocalReferenceOperation local:
                    return local.Local.IsRef && state.Aliases.TryGet(RootPath(local.Local), out RefAlias alias) ? alias.Target : RootPath(local.Local);
                case IParameterReferenceOperation parameter:
                    return RootPath(parameter.Parameter);
                case IInstanceReferenceOperation instance:
                    return ThisPath(instance);
                case IDeclarationExpressionOperation declaration:
                    return PathOf(declaration.Expression, state);
                case IFlowCaptureReferenceOperation capture:
                    return IntMap<AbstractValue>.TryGet(state.Captures, _tables.CaptureNumber(capture.Id), out AbstractValue captured) && !captured.IsView ? captured.Location : null;
                case IFieldReferenceOperation field:
                    return MemberPath(field.Field, field.Field.Type, field.Instance, state);
                case IPropertyReferenceOperation { Property.Name: "Current", Arguments.IsEmpty: true, Instance: IOperation enumerator } current
                    when Eval(enumerator, state) is { Enumerates: true } each:
                    return EnumeratedElement(each, current, state);
                case IPropertyReferenceOperation property when property.Arguments.IsEmpty:
                    return MemberPath(property.Property, property.Property.Type, property.Instance, state);
                case IPropertyReferenceOperation indexer when indexer.Arguments.Length == 1 && _tables.Known.IsSpan(indexer.Instance?.Type):
                    return ElementPath(indexer.Instance, indexer.Arguments[0].Value, indexer.Type, state);
                case IArrayElementReferenceOperation element when element.Indices.Length == 1 && !IsRange(element.Indices[0]):
                    return ElementPath(element.ArrayReference, element.Indices[0], element.Type, state);
                case IInlineArrayAccessOperation inline when !IsRange(inline.Argument):
                    return ElementPath(inline.Instance, inline.Argument, inline.Type, state);
                case IImplicitIndexerReferenceOperation fromEnd when !IsRange(fromEnd.Argument):
                    return ElementPath(fromEnd.Instance, fromEnd.Argument, fromEnd.Type, state);
                case IConversionOperation conversion when _tables.Known.IsSpan(conversion.Type) && _tables.Known.IsContainer(conversion.Operand.Type):
                    return PathOf(conversion.Operand, state);
                case { Kind: OperationKind.None, Syntax: ElementAccessExpressionSyntax } pointerElement when pointerElement.ChildOperations.Count == 2:
                    return PointerElement(pointerElement, state);
                case { Kind: OperationKind.None, Syntax: PrefixUnaryExpressionSyntax { RawKind: (int)SyntaxKind.PointerIndirectionExpression } } dereference
                    when dereference.ChildOperations.Count == 1:
                    return PointerElement(dereference, state);
                default:
                    return null;
            }
        }

        /// <summary>What reading <paramref name="path"/> gives: its values, its index value, what it says of re-validations.</summary>
        public AbstractValue ReadPath(AccessPath path, FlowState state)
        {
            IdSet<ValueId> ids = _memory.Read(path, state);
            IndexExpr? integer = null;
            if (KnownSymbols.IsIntegral(path.Type))
            {
                IndexVar var = _tables.Vars.For(path);
                integer = state.TryGetEqual(var, out IndexExpr equal) ? equal : new IndexExpr(var, 0);
            }

            Outcome? outcome = state.Outcomes.TryGet(path, out OutcomeFact fact) ? fact.Outcome : null;
            return new AbstractValue(ids, integer, outcome, path, outcome is { IsSwitch: true } ? true : null);
        }

        private AccessPath ThisPath(IInstanceReferenceOperation instance) =>
            _tables.Paths.Of(new Root(RootKind.This, null, string.Empty, instance.Type, false, instance.Type?.IsValueType == true));

        private AccessPath? MemberPath(ISymbol member, ITypeSymbol type, IOperation? instance, FlowState state)
        {
            if (member.IsStatic || instance == null)
            {
                return member.IsStatic ? RootPath(member) : null;
            }

            AccessPath? receiver = PathOf(instance, state);
            return receiver == null ? null : _tables.Paths.Append(receiver, MemberStep(member, type, instance));
        }

        private Step MemberStep(ISymbol member, ITypeSymbol type, IOperation instance) => MemberStep(member, type, instance.Type);

        private Step MemberStep(ISymbol member, ITypeSymbol? type, ITypeSymbol? receiverType) =>
            Step.ForMember(member, type, _tables.Known.IsUnlocked(member), receiverType?.IsValueType == true && member is IFieldSymbol or IPropertySymbol);

        /// <summary>
        /// The element <paramref name="index"/> of <paramref name="container"/>: a tracked container, or a view of one (a
        /// slice, a range, a pointer), whose offset adds to the index. An index from the end (<c>^1</c>) is the container's
        /// length minus it.
        /// </summary>
        private AccessPath? ElementPath(IOperation? container, IOperation index, ITypeSymbol? elementType, FlowState state)
        {
            AccessPath? receiver;
            IndexExpr offset = IndexExpr.Const(0);
            if (container != null && IsViewExpression(container))
            {
                AbstractValue view = Eval(container, state);
                if (!view.IsView)
                {
                    return null;
                }

                receiver = view.Location!;
                offset = view.ElementOffset!.Value;
            }
            else
            {
                receiver = PathOf(container, state);
            }

            if (receiver == null)
            {
                return null;
            }

            IndexExpr? position = IndexOf(receiver, index, state, fromView: !offset.Equals(IndexExpr.Const(0)));
            IndexExpr expr = position is IndexExpr known && IndexExpr.Plus(known, offset) is IndexExpr shifted ? shifted : UnknownIndex(index, null, state);
            return _tables.Paths.Append(receiver, Step.ForIndex(expr, elementType));
        }

        /// <summary>An index as the analysis follows it; for <c>^k</c>, the container's length minus <c>k</c> (not on a view: its length is its own).</summary>
        private IndexExpr? IndexOf(AccessPath container, IOperation index, FlowState state, bool fromView)
        {
            while (index is IConversionOperation { Operand: IOperation operand } conversion && conversion.Type?.Name == "Index")
            {
                index = operand;
            }

            if (index is IUnaryOperation { OperatorKind: UnaryOperatorKind.Hat } hat)
            {
                IndexExpr? fromEnd = Eval(hat.Operand, state).Int;
                return fromView || fromEnd is not { IsConst: true } k || Length(container) is not IndexExpr length ? null : length.Add(-k.Offset);
            }

            return Eval(index, state).Int;
        }

        /// <summary>A container's length as an index: a constant for an inline array, else its <c>Length</c> as a variable.</summary>
        private IndexExpr? Length(AccessPath container)
        {
            if (KnownSymbols.InlineArrayLength(container.Type) is int fixedLength)
            {
                return IndexExpr.Const(fixedLength);
            }

            if (_tables.Known.LengthProperty(container.Type) is IPropertySymbol length)
            {
                IndexVar var = _tables.Vars.For(_tables.Paths.Append(container, MemberStep(length, length.Type, container.Type)));
                return new IndexExpr(var, 0);
            }

            return null;
        }

        /// <summary>An index the analysis cannot follow: a variable of its own, forgotten each time the site runs again.</summary>
        private IndexExpr UnknownIndex(IOperation site, string? display, FlowState state)
        {
            IndexVar pseudo = _tables.Vars.ForSite(site.Syntax, display);
            _indexes.Assign(pseudo, null, state, site.Syntax.Span);
            return new IndexExpr(pseudo, 0);
        }

        /// <summary>The element a foreach's enumerator is at: one the analysis cannot name, different in each iteration.</summary>
        private AccessPath EnumeratedElement(AbstractValue enumerator, IPropertyReferenceOperation current, FlowState state)
        {
            IndexExpr index = IndexExpr.Plus(UnknownIndex(current, "?", state), enumerator.ElementOffset ?? IndexExpr.Const(0)) ?? UnknownIndex(current, "?", state);
            ITypeSymbol? elementType = KnownSymbols.ElementType(enumerator.Location!.Type);
            return _tables.Paths.Append(enumerator.Location, Step.ForIndex(index, elementType));
        }

        /// <summary><c>p[i]</c> or <c>*p</c> on a pointer: the element of what the pointer views.</summary>
        private AccessPath? PointerElement(IOperation access, FlowState state)
        {
            IOperation? pointer = null, index = null;
            foreach (IOperation child in access.ChildOperations)
            {
                if (pointer == null)
                {
                    pointer = child;
                }
                else
                {
                    index = child;
                }
            }

            if (pointer?.Type is not IPointerTypeSymbol pointerType)
            {
                return null;
            }

            if (index != null)
            {
                return ElementPath(pointer, index, pointerType.PointedAtType, state);
            }

            AbstractValue view = Eval(pointer, state);
            AccessPath? container = view.IsView ? view.Location : PathOf(pointer, state);
            IndexExpr at = view.IsView ? view.ElementOffset!.Value : IndexExpr.Const(0);
            return container == null ? null : _tables.Paths.Append(container, Step.ForIndex(at, pointerType.PointedAtType));
        }

        private static bool IsRange(IOperation index) => index.Type?.Name == "Range" && index.Type.ContainingNamespace?.Name == "System";
    }
}
