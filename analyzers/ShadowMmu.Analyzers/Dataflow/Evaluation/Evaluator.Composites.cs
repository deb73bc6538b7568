using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Evaluation
{
    /// <summary>
    /// Structs made member by member, and taken apart: tuples, positional records, constructors that only assign their
    /// parameters, object initializers, deconstruction. Each member keeps its own value, so re-validating one says
    /// nothing of another, and a clean member (a GPA) is not blamed for its neighbour (the PTE).
    /// </summary>
    internal sealed partial class Evaluator
    {
        private const string ThroughConstructor = "it went through the constructor of '{0}', which the analysis does not follow into the {1}'s members; re-validate the value itself under the lock";
        private const string ThroughDeconstruct = "it went through '{0}.Deconstruct', which the analysis does not follow; re-validate the value itself under the lock";

        private AbstractValue EvalTuple(ITupleOperation tuple, FlowState state)
        {
            var values = ImmutableArray.CreateBuilder<AbstractValue>(tuple.Elements.Length);
            foreach (IOperation element in tuple.Elements)
            {
                values.Add(Eval(element, state).WithoutLocation());
            }

            if (tuple.Type is not INamedTypeSymbol { IsTupleType: true } type || type.TupleElements.Length != values.Count)
            {
                var ids = IdSet<ValueId>.Empty;
                foreach (AbstractValue value in values)
                {
                    ids = ids.Union(value.Ids);
                }

                return AbstractValue.FromIds(ids);
            }

            var members = ImmutableArray.CreateBuilder<MemberValue>(values.Count);
            for (int i = 0; i < values.Count; i++)
            {
                members.Add(new MemberValue(Step.Identity(type.TupleElements[i]), values[i]));
            }

            return AbstractValue.Composite(members.MoveToImmutable());
        }

        private AbstractValue EvalCreation(IObjectCreationOperation creation, FlowState state)
        {
            IMethodSymbol constructor = creation.Constructor!;
            INamedTypeSymbol? type = constructor.ContainingType;
            if (_tables.Known.IsSpan(type))
            {
                return EvalCall(constructor, null, creation.Arguments, creation, state);
            }

            bool composite = type != null && (type.IsValueType || type.IsRecord);
            if (composite && creation.Arguments.IsEmpty)
            {
                // new S(): fresh, its members set by the initializer that follows, if any.
                return AbstractValue.Composite(ImmutableArray<MemberValue>.Empty);
            }

            if (composite && _tables.Known.Constructors.Of(constructor) is ConstructorSummary summary)
            {
                var arguments = new AbstractValue[constructor.Parameters.Length];
                foreach (IArgumentOperation argument in creation.Arguments)
                {
                    if (argument.Parameter != null)
                    {
                        arguments[argument.Parameter.Ordinal] = Eval(argument.Value, state);
                    }
                }

                var members = ImmutableArray.CreateBuilder<MemberValue>(summary.Members.Length);
                foreach ((ISymbol member, ImmutableArray<int> parameters, bool plain) in summary.Members)
                {
                    AbstractValue value = plain ? arguments[parameters[0]] : Derived(arguments, parameters);
                    members.Add(new MemberValue(Step.Identity(member), value));
                }

                return AbstractValue.Composite(members.ToImmutable());
            }

            AbstractValue result = EvalCall(constructor, null, creation.Arguments, creation, state);
            if (!result.HasIds)
            {
                return result;
            }

            // The object's members come from its arguments in a way the analysis does not follow: it does not guess.
            string kind = type?.IsValueType == true ? "struct" : "object";
            string reason = string.Format(System.Globalization.CultureInfo.InvariantCulture, ThroughConstructor, type?.Name, kind);
            return AbstractValue.FromIds(IdSet<ValueId>.Of(_tables.Values.Unfollowed(creation.Syntax, reason)));
        }

        private static AbstractValue Derived(AbstractValue[] arguments, ImmutableArray<int> parameters)
        {
            var ids = IdSet<ValueId>.Empty;
            foreach (int parameter in parameters)
            {
                ids = ids.Union(arguments[parameter].Ids);
            }

            return AbstractValue.FromIds(ids);
        }

        private AbstractValue EvalDeconstruction(IDeconstructionAssignmentOperation deconstruction, FlowState state)
        {
            AbstractValue value = Eval(deconstruction.Value, state);
            IOperation target = deconstruction.Target is IDeclarationExpressionOperation declaration ? declaration.Expression : deconstruction.Target;
            if (target is ITupleOperation targets)
            {
                Deconstruct(targets, value, deconstruction.Value, state, deconstruction);
            }

            return AbstractValue.Empty;
        }

        /// <summary>Assigns each of <paramref name="targets"/> its part of <paramref name="value"/> (moving values is no use of them).</summary>
        private void Deconstruct(ITupleOperation targets, AbstractValue value, IOperation source, FlowState state, IOperation site)
        {
            for (int i = 0; i < targets.Elements.Length; i++)
            {
                IOperation target = targets.Elements[i] is IDeclarationExpressionOperation declared ? declared.Expression : targets.Elements[i];
                AbstractValue part = Part(value, source.Type, i, targets.Elements.Length, source, state);
                if (target is ITupleOperation nested)
                {
                    Deconstruct(nested, part, source, state, site);
                }
                else if (target is not IDiscardOperation && PathOf(target, state) is AccessPath path && path.Storable)
                {
                    _memory.Store(path, part, null, state, site.Syntax.Span);
                }
                else if (target is not IDiscardOperation && part.HasIds)
                {
                    Use(source, part, state);
                    NotFollowedStore(target, source, part, state);
                }
            }
        }

        /// <summary>Part <paramref name="index"/> of <paramref name="count"/> of a deconstructed value: a tuple's element, a positional record's member.</summary>
        private AbstractValue Part(AbstractValue value, ITypeSymbol? type, int index, int count, IOperation source, FlowState state)
        {
            ISymbol? member = null;
            if (type is INamedTypeSymbol { IsTupleType: true } tuple && tuple.TupleElements.Length == count)
            {
                member = tuple.TupleElements[index];
            }
            else if (type is INamedTypeSymbol { IsRecord: true } record && PrimaryConstructor(record, count) is IMethodSymbol primary
                && _tables.Known.Constructors.Of(primary) is ConstructorSummary summary && summary.Members.Length == count)
            {
                member = summary.Members[index].Member;
            }

            if (member != null)
            {
                if (value.TryGetMember(Step.Identity(member), out AbstractValue part))
                {
                    return part;
                }

                if (value.Location != null)
                {
                    return ReadPath(_tables.Paths.Append(value.Location, MemberStep(member, KnownSymbols.TypeOf(member), type)), state);
                }

                return AbstractValue.FromIds(value.Ids);
            }

            // A Deconstruct method of its own: which part holds what is not followed.
            if (!value.HasIds && (value.Location == null || !_memory.MayHoldIds(value.Location, state, byType: true)))
            {
                return AbstractValue.Empty;
            }

            string reason = string.Format(System.Globalization.CultureInfo.InvariantCulture, ThroughDeconstruct, type?.Name);
            return AbstractValue.FromIds(IdSet<ValueId>.Of(_tables.Values.Unfollowed(source.Syntax, reason)));
        }

        private static IMethodSymbol? PrimaryConstructor(INamedTypeSymbol record, int parameters)
        {
            foreach (IMethodSymbol constructor in record.InstanceConstructors)
            {
                if (constructor.Parameters.Length == parameters && constructor.DeclaringSyntaxReferences.Length == 1
                    && constructor.DeclaringSyntaxReferences[0].GetSyntax() is Microsoft.CodeAnalysis.CSharp.Syntax.RecordDeclarationSyntax)
                {
                    return constructor;
                }
            }

            return null;
        }
    }
}
