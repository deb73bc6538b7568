using System;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.Locations;

namespace ShadowMmu.Analyzers.Dataflow.IndexVariables
{
    /// <summary>
    /// Finds the integer variables whose constant values split states into contexts (loop unrolling): locals, parameters
    /// and fields of them that appear in element indexes or are compared with constants.
    /// </summary>
    internal static class ContextVariables
    {
        public static void Find(AnalysisTables tables, Func<IOperation, AccessPath?> staticPath)
        {
            foreach (IOperation operation in tables.Function.Body.Descendants())
            {
                IOperation? index = operation switch
                {
                    IArrayElementReferenceOperation element when element.Indices.Length == 1 => element.Indices[0],
                    IInlineArrayAccessOperation inline => inline.Argument,
                    IPropertyReferenceOperation indexer when indexer.Arguments.Length == 1 && tables.Known.IsSpan(indexer.Instance?.Type) => indexer.Arguments[0].Value,
                    IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } binary when binary.RightOperand.ConstantValue.HasValue => binary.LeftOperand,
                    IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } binary when binary.LeftOperand.ConstantValue.HasValue => binary.RightOperand,
                    _ => null,
                };
                if (index == null)
                {
                    continue;
                }

                foreach (IOperation part in index.DescendantsAndSelf())
                {
                    if (staticPath(part) is AccessPath path)
                    {
                        tables.ContextVariables.Add(tables.Vars.For(path));
                    }
                }
            }
        }
    }
}
