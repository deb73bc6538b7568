using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Evaluation
{
    /// <summary>
    /// Arrays and spans made from their elements: <c>{ a, b }</c>, <c>new[] { a, b }</c>, <c>new ulong[] { a, b }</c>,
    /// <c>stackalloc ulong[] { a, b }</c> and collection expressions <c>[a, b]</c>. Building one is no use of its elements;
    /// each element keeps its own value at its constant index (as a tuple's members do), so re-validating one says
    /// nothing of another. Where the positions cannot be named (a spread <c>[.. xs, a]</c>, a multi-dimensional array), the
    /// elements' unchecked values become one the analysis says it lost (MMU0005), never a guess.
    /// </summary>
    internal sealed partial class Evaluator
    {
        private const string AtUnknownPositions = "its elements were put in '{0}' at positions the analysis does not follow; re-validate the value itself under the lock";

        /// <summary>An operation that makes an array or span from listed elements (what <see cref="EvalNewElements"/> takes).</summary>
        private static bool IsNewElements(IOperation operation) => operation switch
        {
            IArrayCreationOperation { Initializer: not null } => true,

            // The conversion to the target type, and the graph's captures of the value, share the syntax: not the creation itself.
            IConversionOperation or IFlowCaptureOperation or IFlowCaptureReferenceOperation => false,
            { Kind: OperationKind.None, Syntax: StackAllocArrayCreationExpressionSyntax { Initializer: not null } or ImplicitStackAllocArrayCreationExpressionSyntax } => true,

            // Roslyn 4.8's API has no ICollectionExpressionOperation: the compiler that runs the analyzer makes one, found by its syntax.
            { Syntax: CollectionExpressionSyntax } => true,
            _ => false,
        };

        private AbstractValue EvalNewElements(IOperation creation, FlowState state)
        {
            IArrayInitializerOperation? initializer = null;
            var listed = new List<IOperation>();

            // A stackalloc lists its elements among its children, after its length: they are the ones in its initializer.
            InitializerExpressionSyntax? listedAfter = creation.Syntax switch
            {
                StackAllocArrayCreationExpressionSyntax sized => sized.Initializer,
                ImplicitStackAllocArrayCreationExpressionSyntax sized => sized.Initializer,
                _ => null,
            };
            foreach (IOperation child in creation.ChildOperations)
            {
                if (child is IArrayInitializerOperation found)
                {
                    initializer = found;
                }
                else if (creation.Syntax is CollectionExpressionSyntax || (listedAfter != null && listedAfter.Span.Contains(child.Syntax.Span)))
                {
                    listed.Add(child);
                }
                else
                {
                    // A dimension's length is used as any operand is.
                    UseOperand(child, Eval(child, state), state);
                }
            }

            if (initializer != null)
            {
                listed.AddRange(initializer.ElementValues);
            }

            bool exact = !(creation is IArrayCreationOperation { DimensionSizes.Length: > 1 });
            var values = ImmutableArray.CreateBuilder<AbstractValue>(listed.Count);
            var lost = IdSet<ValueId>.Empty;
            foreach (IOperation element in listed)
            {
                if (element.Syntax is SpreadElementSyntax || element is IArrayInitializerOperation)
                {
                    exact = false;
                    lost = lost.Union(Nested(element, state));
                    continue;
                }

                AbstractValue value = Eval(element, state).WithoutLocation();
                values.Add(value);
                lost = lost.Union(value.Ids);
            }

            if (exact)
            {
                return AbstractValue.NewElements(values.ToImmutable());
            }

            foreach (ValueId id in lost)
            {
                if (!state.InRegion || !state.Validated.Contains(id))
                {
                    string reason = string.Format(System.Globalization.CultureInfo.InvariantCulture, AtUnknownPositions, AnalysisTables.Text(creation.Syntax));
                    return AbstractValue.FromIds(IdSet<ValueId>.Of(_tables.Values.Unfollowed(creation.Syntax, reason)));
                }
            }

            return AbstractValue.Empty;
        }

        /// <summary>The values in a spread (<c>.. xs</c>: any of its elements) or a nested initializer of a multi-dimensional array.</summary>
        private IdSet<ValueId> Nested(IOperation operation, FlowState state)
        {
            var ids = IdSet<ValueId>.Empty;
            foreach (IOperation child in operation.ChildOperations)
            {
                if (child is IArrayInitializerOperation)
                {
                    ids = ids.Union(Nested(child, state));
                    continue;
                }

                AbstractValue value = Eval(child, state);
                ids = ids.Union(value.Ids).Union(AnyElement(value, child, state).Ids);
            }

            return ids;
        }

        /// <summary>An operand used as it is: under the lock, its unchecked values are reported.</summary>
        private void UseOperand(IOperation operand, AbstractValue value, FlowState state)
        {
            if (value.HasIds && state.InRegion)
            {
                Use(operand, value, state);
            }
        }
    }
}
