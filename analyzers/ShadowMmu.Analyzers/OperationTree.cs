using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace ShadowMmu.Analyzers
{
    /// <summary>
    /// An operation and its descendants in pre-order, walked through <see cref="IOperation.ChildOperations"/> (a struct
    /// enumerator): Roslyn's <c>Descendants()</c> allocates an enumerator per node, which a 30,000-line method pays for
    /// on every walk. The walk keeps its own stack, not the thread's: a generated sum of 50,000 terms is a tree that deep.
    /// </summary>
    internal static class OperationTree
    {
        public static List<IOperation> DescendantsAndSelf(IOperation root)
        {
            var result = new List<IOperation> { root };
            AddDescendants(root, result);
            return result;
        }

        public static List<IOperation> Descendants(IOperation root)
        {
            var result = new List<IOperation>();
            AddDescendants(root, result);
            return result;
        }

        private static void AddDescendants(IOperation root, List<IOperation> result)
        {
            var pending = new Stack<IOperation.OperationList.Enumerator>();
            pending.Push(root.ChildOperations.GetEnumerator());
            while (pending.Count > 0)
            {
                IOperation.OperationList.Enumerator children = pending.Pop();
                if (!children.MoveNext())
                {
                    continue;
                }

                IOperation child = children.Current;
                result.Add(child);
                pending.Push(children);
                pending.Push(child.ChildOperations.GetEnumerator());
            }
        }
    }
}
