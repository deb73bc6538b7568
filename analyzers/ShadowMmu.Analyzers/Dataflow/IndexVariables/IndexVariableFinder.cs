using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.Locations;

namespace ShadowMmu.Analyzers.Dataflow.IndexVariables
{
    /// <summary>
    /// Finds, before the analysis runs, the integer variables whose values it follows: those that appear in element
    /// indexes or comparisons, and those assigned to them (<c>level = top</c>), transitively. Only their equalities are
    /// kept in the state (a value no index or comparison can see would only make the state bigger). Among them, the
    /// context variables (in indexes, or compared with a constant for equality) split a block's states into unroll contexts.
    /// </summary>
    internal static class IndexVariableFinder
    {
        public static void Find(AnalysisTables tables, Func<IOperation, AccessPath?> staticPath)
        {
            var tracked = new HashSet<IndexVar>();
            var pending = new Stack<IndexVar>();
            var assignments = new Dictionary<IndexVar, List<IOperation>>();

            void Track(IOperation operand, bool context)
            {
                foreach (IOperation part in OperationTree.DescendantsAndSelf(operand))
                {
                    if (staticPath(part) is AccessPath path)
                    {
                        IndexVar var = tables.Vars.For(path);
                        var.IsContextVariable |= context;
                        if (tracked.Add(var))
                        {
                            pending.Push(var);
                        }
                    }
                }
            }

            foreach (IOperation operation in OperationTree.Descendants(tables.Function.Body))
            {
                tables.OperationCount++;
                switch (operation)
                {
                    case IArrayElementReferenceOperation element when element.Indices.Length == 1:
                        Track(element.Indices[0], context: true);
                        break;
                    case IInlineArrayAccessOperation inline:
                        Track(inline.Argument, context: true);
                        break;
                    case IPropertyReferenceOperation indexer when indexer.Arguments.Length == 1 && tables.Known.IsSpan(indexer.Instance?.Type):
                        Track(indexer.Arguments[0].Value, context: true);
                        break;
                    case IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } binary
                        when binary.RightOperand.ConstantValue.HasValue || binary.LeftOperand.ConstantValue.HasValue:
                        Track(binary.RightOperand.ConstantValue.HasValue ? binary.LeftOperand : binary.RightOperand, context: true);
                        break;
                    case IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals or BinaryOperatorKind.LessThan
                        or BinaryOperatorKind.LessThanOrEqual or BinaryOperatorKind.GreaterThan or BinaryOperatorKind.GreaterThanOrEqual } comparison:
                        Track(comparison.LeftOperand, context: false);
                        Track(comparison.RightOperand, context: false);
                        break;
                    case IAssignmentOperation assignment when staticPath(assignment.Target) is AccessPath target:
                        Assigned(target, assignment.Value);
                        break;
                    case IVariableDeclaratorOperation { Initializer: IVariableInitializerOperation initializer } declarator:
                        Assigned(tables.RootPath(declarator.Symbol), initializer.Value);
                        break;
                }
            }

            void Assigned(AccessPath target, IOperation value)
            {
                IndexVar var = tables.Vars.For(target);
                if (!assignments.TryGetValue(var, out List<IOperation>? values))
                {
                    assignments[var] = values = new List<IOperation>();
                }

                values.Add(value);
            }

            // What flows into a followed variable is followed too.
            while (pending.Count > 0)
            {
                IndexVar var = pending.Pop();
                var.TracksValue = true;
                if (assignments.TryGetValue(var, out List<IOperation>? values))
                {
                    foreach (IOperation value in values)
                    {
                        Track(value, context: false);
                    }
                }
            }
        }
    }
}
