using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;

namespace ShadowMmu.Analyzers.Dataflow.Locations
{
    /// <summary>Interns the access paths of one analysis: each location is one <see cref="AccessPath"/> object with its own id.</summary>
    internal sealed class PathTable
    {
        private readonly Dictionary<Root, AccessPath> _roots = new();
        private readonly Dictionary<ChildKey, AccessPath> _children = new();
        private int _next;

        /// <summary>The path of <paramref name="root"/> alone.</summary>
        public AccessPath Of(Root root)
        {
            if (!_roots.TryGetValue(root, out AccessPath? path))
            {
                _roots[root] = path = new AccessPath(_next++, root, null, default);
            }

            return path;
        }

        public AccessPath Append(AccessPath parent, Step step)
        {
            var key = new ChildKey(parent.Id, step);
            if (!_children.TryGetValue(key, out AccessPath? path))
            {
                _children[key] = path = new AccessPath(_next++, parent.Root, parent, step);
            }

            return path;
        }

        /// <summary><paramref name="target"/> with the steps of <paramref name="path"/> after its first <paramref name="skip"/> appended.</summary>
        public AccessPath Concat(AccessPath target, AccessPath path, int skip)
        {
            AccessPath result = target;
            Step[] steps = path.Steps;
            for (int i = skip; i < steps.Length; i++)
            {
                result = Append(result, steps[i]);
            }

            return result;
        }

        /// <summary>
        /// <paramref name="target"/> with the steps of <paramref name="path"/> after its first <paramref name="skip"/> appended,
        /// the first of them, an element's index, moved by <paramref name="shift"/> (a view's element seen in its target);
        /// null when that step is not an element (a view's own member, as its length) or the sum cannot be followed.
        /// </summary>
        public AccessPath? Concat(AccessPath target, AccessPath path, int skip, IndexExpr? shift)
        {
            if (shift == null || skip >= path.Length)
            {
                return Concat(target, path, skip);
            }

            Step first = path.Steps[skip];
            if (!first.IsIndex || IndexExpr.Plus(first.Index, shift.Value) is not IndexExpr moved)
            {
                return null;
            }

            AccessPath result = Append(target, first.WithIndex(moved));
            Step[] steps = path.Steps;
            for (int i = skip + 1; i < steps.Length; i++)
            {
                result = Append(result, steps[i]);
            }

            return result;
        }

        /// <summary><paramref name="path"/> with step <paramref name="index"/> replaced.</summary>
        public AccessPath Replace(AccessPath path, int index, Step step)
        {
            AccessPath result = Append(path.Prefix(index), step);
            Step[] steps = path.Steps;
            for (int i = index + 1; i < steps.Length; i++)
            {
                result = Append(result, steps[i]);
            }

            return result;
        }

        /// <summary>
        /// The path with every variable index rewritten by <paramref name="rewrite"/> (which returns null when the index is
        /// lost); null when one was lost, the same path when nothing changed.
        /// </summary>
        public AccessPath? Rewrite(AccessPath path, Func<IndexExpr, IndexExpr?> rewrite)
        {
            if (!path.HasIndexVars)
            {
                return path;
            }

            Step[] steps = path.Steps;
            AccessPath result = Of(path.Root);
            bool changed = false;
            foreach (Step step in steps)
            {
                Step next = step;
                if (step.IsIndex && step.Index.Var != null)
                {
                    IndexExpr? rewritten = rewrite(step.Index);
                    if (rewritten == null)
                    {
                        return null;
                    }

                    if (!rewritten.Value.Equals(step.Index))
                    {
                        next = step.WithIndex(rewritten.Value);
                        changed = true;
                    }
                }

                result = Append(result, next);
            }

            return changed ? result : path;
        }

        private readonly struct ChildKey : IEquatable<ChildKey>
        {
            private readonly int _parent;
            private readonly Step _step;

            public ChildKey(int parent, Step step)
            {
                _parent = parent;
                _step = step;
            }

            public bool Equals(ChildKey other) => _parent == other._parent && _step.Equals(other._step);

            public override bool Equals(object? obj) => obj is ChildKey other && Equals(other);

            public override int GetHashCode() => (_parent * 31) ^ _step.GetHashCode();
        }
    }
}
