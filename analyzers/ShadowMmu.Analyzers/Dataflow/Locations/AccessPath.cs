using System;
using System.Text;
using Microsoft.CodeAnalysis;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;

namespace ShadowMmu.Analyzers.Dataflow.Locations
{
    /// <summary>
    /// An abstract location as an access path (<c>walk.Ptes[level - 1]</c>): a root, then member or element steps, each
    /// path its parent plus one step (as roslyn-analyzers' <c>AnalysisEntity</c> has a parent). Paths are interned by
    /// <see cref="PathTable"/>: two paths are the same location at one program point exactly when they are the same object,
    /// and <see cref="Id"/> keys them in the state's maps.
    /// </summary>
    internal sealed class AccessPath
    {
        private Step[]? _steps;
        private string? _display;

        internal AccessPath(int id, Root root, AccessPath? parent, Step step)
        {
            Id = id;
            Root = root;
            Parent = parent;
            Last = step;
            Length = parent == null ? 0 : parent.Length + 1;
            RootId = parent == null ? id : parent.RootId;
            Storable = parent == null ? root.Storable : parent.Storable && step.KeepsStorable;
            HasIndexVars = parent != null && (parent.HasIndexVars || (step.IsIndex && step.Index.Var != null));
        }

        public int Id { get; }

        public Root Root { get; }

        /// <summary>The id of the root's own path (the state groups locations by it: a store or an alias look-up sees only its root's).</summary>
        public int RootId { get; }

        /// <summary>The path without its last step; null for the root itself.</summary>
        public AccessPath? Parent { get; }

        /// <summary>The last step (meaningless for the root path).</summary>
        public Step Last { get; }

        /// <summary>How many steps follow the root.</summary>
        public int Length { get; }

        /// <summary>Stores into it are tracked: a storable root and steps that stay in its storage.</summary>
        public bool Storable { get; }

        /// <summary>Some element index is expressed in a variable.</summary>
        public bool HasIndexVars { get; }

        public ITypeSymbol? Type => Parent == null ? Root.Type : Last.Type;

        /// <summary>The steps after the root, in order.</summary>
        public Step[] Steps
        {
            get
            {
                if (_steps == null)
                {
                    var steps = new Step[Length];
                    for (AccessPath? p = this; p != null && p.Parent != null; p = p.Parent)
                    {
                        steps[p.Length - 1] = p.Last;
                    }

                    _steps = steps;
                }

                return _steps;
            }
        }

        /// <summary>How messages write the path: <c>walk.Ptes[level - 1]</c>; a member of <c>this</c> without it.</summary>
        public string Display => _display ??= BuildDisplay();

        /// <summary>The type of the prefix of <paramref name="length"/> steps.</summary>
        public ITypeSymbol? TypeAt(int length) => length == 0 ? Root.Type : Steps[length - 1].Type;

        /// <summary>The prefix of <paramref name="length"/> steps.</summary>
        public AccessPath Prefix(int length)
        {
            AccessPath path = this;
            while (path.Length > length)
            {
                path = path.Parent!;
            }

            return path;
        }

        public bool IsPrefixOf(AccessPath other) => other.Length >= Length && ReferenceEquals(other.Prefix(Length), this);

        /// <summary>Whether the two paths may denote the same location: same shape, and no index pair provably different.</summary>
        public bool MayAlias(AccessPath other)
        {
            if (other.Length != Length || !other.Root.Equals(Root))
            {
                return false;
            }

            for (AccessPath a = this, b = other; a.Parent != null; a = a.Parent, b = b.Parent!)
            {
                Step x = a.Last, y = b.Last;
                if (x.IsIndex != y.IsIndex)
                {
                    return false;
                }

                if (!x.IsIndex)
                {
                    if (!x.Equals(y))
                    {
                        return false;
                    }

                    continue;
                }

                if (ReferenceEquals(x.Index.Var, y.Index.Var) && x.Index.Offset != y.Index.Offset)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>What reading it gives when nothing was stored under its root: its own value at entry (a cache of <see cref="AbstractMemory"/>).</summary>
        internal State.IdSet<Values.ValueId>? AtEntry { get; set; }

        /// <summary>Interned: equal only to itself, hashed by its id.</summary>
        public override int GetHashCode() => Id;

        public override bool Equals(object? obj) => ReferenceEquals(this, obj);

        public override string ToString() => Display;

        private string BuildDisplay()
        {
            var display = new StringBuilder(Root.Display);
            Step[] steps = Steps;
            for (int i = 0; i < steps.Length; i++)
            {
                Step step = steps[i];
                if (display.Length == 0 && step.Member != null)
                {
                    display.Append(step.Name);
                }
                else if (step.IsIndex && step.Index.Var?.LengthOf is AccessPath container && ReferenceEquals(container, Prefix(i)) && step.Index.Offset <= 0)
                {
                    // An index from the end: ptes[^1], not ptes[ptes.Length - 1].
                    display.Append("[^").Append((-step.Index.Offset).ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(']');
                }
                else
                {
                    display.Append(step.Display);
                }
            }

            return display.ToString();
        }
    }
}
