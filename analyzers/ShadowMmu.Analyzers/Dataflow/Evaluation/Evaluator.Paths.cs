using Microsoft.CodeAnalysis;
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

        /// <summary>The path a local, a parameter or a field of one denotes, without a state (null for anything else).</summary>
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
                    return RootPath(local.Local);
                case IParameterReferenceOperation parameter:
                    return RootPath(parameter.Parameter);
                case IInstanceReferenceOperation instance:
                    return ThisPath(instance);
                case IDeclarationExpressionOperation declaration:
                    return PathOf(declaration.Expression, state);
                case IFlowCaptureReferenceOperation capture:
                    return IntMap<AbstractValue>.TryGet(state.Captures, _tables.CaptureNumber(capture.Id), out AbstractValue captured) ? captured.Location : null;
                case IFieldReferenceOperation field:
                    return MemberPath(field.Field, field.Field.Type, field.Instance, state);
                case IPropertyReferenceOperation property when property.Arguments.IsEmpty:
                    return MemberPath(property.Property, property.Property.Type, property.Instance, state);
                case IPropertyReferenceOperation indexer when indexer.Arguments.Length == 1 && _tables.Known.IsSpan(indexer.Instance?.Type):
                    return ElementPath(indexer.Instance, indexer.Arguments[0].Value, indexer.Type, state);
                case IArrayElementReferenceOperation element when element.Indices.Length == 1:
                    return ElementPath(element.ArrayReference, element.Indices[0], element.Type, state);
                case IInlineArrayAccessOperation inline when KnownSymbols.IsIntegral(inline.Argument.Type):
                    return ElementPath(inline.Instance, inline.Argument, inline.Type, state);
                case IConversionOperation conversion when _tables.Known.IsSpan(conversion.Type) && _tables.Known.IsContainer(conversion.Operand.Type):
                    return PathOf(conversion.Operand, state);
                default:
                    return null;
            }
        }

        private AccessPath ThisPath(IInstanceReferenceOperation instance) =>
            _tables.Paths.Of(new Root(RootKind.This, null, string.Empty, instance.Type, false, instance.Type?.IsValueType == true));

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
            return new AbstractValue(ids, integer, outcome, path);
        }

        private AccessPath? MemberPath(ISymbol member, ITypeSymbol type, IOperation? instance, FlowState state)
        {
            if (member.IsStatic || instance == null)
            {
                return member.IsStatic ? RootPath(member) : null;
            }

            AccessPath? receiver = PathOf(instance, state);
            return receiver == null ? null : _tables.Paths.Append(receiver, MemberStep(member, type, instance));
        }

        private Step MemberStep(ISymbol member, ITypeSymbol type, IOperation instance) =>
            Step.ForMember(member, type, _tables.Known.IsUnlocked(member), instance.Type?.IsValueType == true && member is IFieldSymbol or IPropertySymbol);

        private AccessPath? ElementPath(IOperation? container, IOperation index, ITypeSymbol? elementType, FlowState state)
        {
            AccessPath? receiver = PathOf(container, state);
            if (receiver == null)
            {
                return null;
            }

            AbstractValue value = Eval(index, state);
            IndexExpr expr;
            if (value.Int is IndexExpr known)
            {
                expr = known;
            }
            else
            {
                // An index the analysis cannot follow: a variable of its own, forgotten each time the site runs again.
                IndexVar pseudo = _tables.Vars.ForSite(index.Syntax);
                _indexes.Assign(pseudo, null, state, index.Syntax.Span);
                expr = new IndexExpr(pseudo, 0);
            }

            return _tables.Paths.Append(receiver, Step.ForIndex(expr, elementType));
        }
    }
}
