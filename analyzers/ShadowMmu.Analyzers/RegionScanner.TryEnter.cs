using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace ShadowMmu.Analyzers
{
    /// <summary><c>Monitor.TryEnter(x)</c> and <c>Lock.TryEnter()</c>: the lock is held on the path where they succeeded.</summary>
    internal sealed partial class RegionScanner
    {
        /// <summary>
        /// <c>if (TryEnter(x)) { try { ... } finally { Exit(x); } }</c> (the region is the try block), <c>if (!TryEnter(x))
        /// return; try { ... } finally { Exit(x); }</c> (the try block after it), <c>TryEnter(x, ref taken)</c> in a try whose
        /// finally releases it (the rest of the try block, as for <c>Enter</c>). Not released in a finally: MMU0003, and the
        /// region is the success branch, or the rest of the block.
        /// </summary>
        private void InspectTryEnter(IInvocationOperation invocation, FunctionInfo fn)
        {
            bool monitor = _known.IsMonitor(invocation.TargetMethod.ContainingType);
            ISymbol? member = monitor ? (invocation.Arguments.Length >= 1 ? LockMember(invocation.Arguments[0].Value) : null) : LockMember(invocation.Instance);
            if (member == null || InsideScopeType(fn))
            {
                return;
            }

            string name = "'" + KnownSymbols.MemberName(member) + "'";
            var held = new Holding(name);
            foreach (IArgumentOperation argument in invocation.Arguments)
            {
                if (argument.Parameter?.RefKind == RefKind.Ref)
                {
                    Acquired(invocation, member, held, fn);
                    return;
                }
            }

            // The condition of an if, perhaps negated.
            IOperation condition = invocation;
            bool negated = false;
            while (condition.Parent is IParenthesizedOperation or IUnaryOperation { OperatorKind: UnaryOperatorKind.Not })
            {
                negated ^= condition.Parent is IUnaryOperation;
                condition = condition.Parent;
            }

            if (condition.Parent is not IConditionalOperation { Syntax: IfStatementSyntax } test || test.Condition != condition)
            {
                Acquired(invocation, member, held, fn);
                return;
            }

            if (!negated)
            {
                if (ReleasingTry(test.WhenTrue, member) is ITryOperation taken)
                {
                    AddRegion(fn, taken.Body.Syntax.Span, held, taken.Body, taken.Body.Syntax as BlockSyntax, 0);
                    return;
                }

                Report(invocation, name);
                AddRegion(fn, test.WhenTrue.Syntax.Span, held, test.WhenTrue, test.WhenTrue.Syntax as BlockSyntax, 0);
                return;
            }

            if (test.WhenFalse == null && Exits(test.WhenTrue) && test.Syntax is StatementSyntax statement)
            {
                if (test.Parent is IBlockOperation block && block.Operations.IndexOf(test) is int index && index >= 0 && index + 1 < block.Operations.Length
                    && ReleasingTry(block.Operations[index + 1], member) is ITryOperation next && next == block.Operations[index + 1])
                {
                    AddRegion(fn, next.Body.Syntax.Span, held, next.Body, next.Body.Syntax as BlockSyntax, 0);
                    return;
                }

                Report(invocation, name);
                AddRegionAfter(fn, statement, held);
                return;
            }

            Report(invocation, name);
        }

        /// <summary>The try statement, <paramref name="statement"/> itself or one directly in it, whose finally releases <paramref name="key"/>.</summary>
        private ITryOperation? ReleasingTry(IOperation statement, ISymbol key)
        {
            if (statement is ITryOperation { Finally: IBlockOperation finallyBlock } direct && Releases(finallyBlock, key))
            {
                return direct;
            }

            if (statement is IBlockOperation block)
            {
                foreach (IOperation inner in block.Operations)
                {
                    if (inner is ITryOperation { Finally: IBlockOperation innerFinally } nested && Releases(innerFinally, key))
                    {
                        return nested;
                    }
                }
            }

            return null;
        }

        /// <summary>A statement that leaves the code after it: return, throw, break, continue, goto (or a block ending in one).</summary>
        private static bool Exits(IOperation statement) => statement switch
        {
            IReturnOperation or IBranchOperation or IThrowOperation => true,
            IExpressionStatementOperation { Operation: IThrowOperation } => true,
            IBlockOperation { Operations.Length: > 0 } block => Exits(block.Operations[block.Operations.Length - 1]),
            _ => false,
        };
    }
}
