using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Evaluation
{
    /// <summary>
    /// Patterns: a declaration (<c>is var z</c>) stores the value, as <c>ulong z = x</c> does, and is no use of it; a
    /// constant or relational pattern compares it (a use under the lock); property and list patterns match the members
    /// and elements they name (<c>[var first, .., var last]</c> is <c>x[0]</c> and <c>x[^1]</c>).
    /// </summary>
    internal sealed partial class Evaluator
    {
        private AbstractValue EvalIsPattern(IIsPatternOperation isPattern, FlowState state)
        {
            AbstractValue value = Eval(isPattern.Value, state);
            Match(isPattern.Pattern, value, isPattern.Value, state);
            return AbstractValue.Empty;
        }

        /// <summary>Matches <paramref name="value"/>, the value of <paramref name="operand"/>, against <paramref name="pattern"/>.</summary>
        private void Match(IPatternOperation pattern, AbstractValue value, IOperation operand, FlowState state)
        {
            switch (pattern)
            {
                case IDeclarationPatternOperation declaration:
                    Declare(declaration.DeclaredSymbol, value, pattern, state);
                    break;

                case IConstantPatternOperation constant:
                    Eval(constant.Value, state);
                    Use(operand, value, state);
                    break;

                case IRelationalPatternOperation relational:
                    Eval(relational.Value, state);
                    Use(operand, value, state);
                    break;

                case INegatedPatternOperation negated:
                    Match(negated.Pattern, value, operand, state);
                    break;

                case IBinaryPatternOperation binary:
                    Match(binary.LeftPattern, value, operand, state);
                    Match(binary.RightPattern, value, operand, state);
                    break;

                case IRecursivePatternOperation recursive:
                    Declare(recursive.DeclaredSymbol, value, pattern, state);
                    foreach (IPropertySubpatternOperation property in recursive.PropertySubpatterns)
                    {
                        ISymbol? member = property.Member switch
                        {
                            IFieldReferenceOperation field => field.Field,
                            IPropertyReferenceOperation reference => reference.Property,
                            _ => null,
                        };
                        AbstractValue part = member == null ? AbstractValue.FromIds(value.Ids)
                            : value.Location != null ? ReadPath(_tables.Paths.Append(value.Location, MemberStep(member, KnownSymbols.TypeOf(member), value.Location.Type)), state)
                            : MemberOf(value, member);
                        Match(property.Pattern, part, operand, state);
                    }

                    for (int i = 0; i < recursive.DeconstructionSubpatterns.Length; i++)
                    {
                        Match(recursive.DeconstructionSubpatterns[i], Part(value, recursive.MatchedType, i, recursive.DeconstructionSubpatterns.Length, operand, state), operand, state);
                    }

                    break;

                case IListPatternOperation list:
                    Declare(list.DeclaredSymbol, value, pattern, state);
                    MatchElements(list, value, operand, state);
                    break;
            }
        }

        /// <summary><c>[a, b, .., y, z]</c>: the patterns before the slice match elements from the start, those after it from the end.</summary>
        private void MatchElements(IListPatternOperation list, AbstractValue value, IOperation operand, FlowState state)
        {
            (AccessPath Container, IndexExpr Offset)? view = AsView(value);
            int slice = list.Patterns.Length;
            for (int i = 0; i < list.Patterns.Length; i++)
            {
                if (list.Patterns[i] is ISlicePatternOperation)
                {
                    slice = i;
                }
            }

            for (int i = 0; i < list.Patterns.Length; i++)
            {
                IPatternOperation element = list.Patterns[i];
                if (element is ISlicePatternOperation rest)
                {
                    if (rest.Pattern != null)
                    {
                        AbstractValue tail = view is (AccessPath c, IndexExpr o) && IndexExpr.Plus(o, IndexExpr.Const(i)) is IndexExpr start
                            ? AbstractValue.View(c, start, IdSet<ValueId>.Empty)
                            : AbstractValue.FromIds(value.Ids);
                        Match(rest.Pattern, tail, operand, state);
                    }

                    continue;
                }

                IndexExpr? index = null;
                if (view is (AccessPath container, IndexExpr offset))
                {
                    index = i < slice ? IndexExpr.Plus(offset, IndexExpr.Const(i))
                        : offset.Equals(IndexExpr.Const(0)) && Length(container) is IndexExpr length ? length.Add(i - list.Patterns.Length) : null;
                    index ??= UnknownIndex(element, null, state);
                }

                AbstractValue item = view is (AccessPath elements, _) && index is IndexExpr at
                    ? ReadPath(_tables.Paths.Append(elements, Step.ForIndex(at, KnownSymbols.ElementType(elements.Type))), state)
                    : AbstractValue.FromIds(value.Ids);
                Match(element, item, operand, state);
            }
        }

        /// <summary>A pattern's declared local takes the matched value, as an assignment would.</summary>
        private void Declare(ISymbol? symbol, AbstractValue value, IOperation site, FlowState state)
        {
            if (symbol is ILocalSymbol local)
            {
                _memory.Store(RootPath(local), value, null, state, site.Syntax.Span);
            }
        }
    }
}
