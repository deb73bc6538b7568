using System;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.Locations;

namespace ShadowMmu.Analyzers.Dataflow.Values
{
    /// <summary>What the analysis knows of an expression's value.</summary>
    internal readonly struct AbstractValue : IEquatable<AbstractValue>
    {
        public AbstractValue(IdSet<ValueId> ids, IndexExpr? integer, Outcome? outcome, AccessPath? location, bool? boolean = null)
        {
            Ids = ids;
            Int = integer;
            Outcome = outcome;
            Location = location;
            Bool = boolean;
        }

        public static AbstractValue Empty => default;

        /// <summary>The guest PTE values (read without the lock) it may be or derive from.</summary>
        public IdSet<ValueId> Ids { get; }

        /// <summary>Its value as an index, when it is one.</summary>
        public IndexExpr? Int { get; }

        /// <summary>For a boolean: what its outcomes re-validate.</summary>
        public Outcome? Outcome { get; }

        /// <summary>The location it was read from, when it is one.</summary>
        public AccessPath? Location { get; }

        /// <summary>Its value, when it is a boolean the analysis knows (a comparison of constants).</summary>
        public bool? Bool { get; }

        public bool HasIds => !Ids.IsEmpty;

        public static AbstractValue FromIds(IdSet<ValueId> ids) => new(ids, null, null, null);

        public static AbstractValue FromInt(IndexExpr? value) => new(IdSet<ValueId>.Empty, value, null, null);

        public AbstractValue WithoutLocation() => Location == null ? this : new AbstractValue(Ids, Int, Outcome, null);

        /// <summary>The value on either of two paths: the values of both, what both know.</summary>
        public static AbstractValue Join(AbstractValue a, AbstractValue b) => new(
            a.Ids.Union(b.Ids),
            Nullable.Equals(a.Int, b.Int) ? a.Int : null,
            a.Outcome != null && b.Outcome != null ? a.Outcome.Intersect(b.Outcome) : null,
            ReferenceEquals(a.Location, b.Location) ? a.Location : null);

        public bool Equals(AbstractValue other) =>
            Ids.SetEquals(other.Ids)
            && Nullable.Equals(Int, other.Int)
            && Equals(Outcome, other.Outcome)
            && ReferenceEquals(Location, other.Location)
            && Bool == other.Bool;

        public override bool Equals(object? obj) => obj is AbstractValue other && Equals(other);

        public override int GetHashCode() => Ids.Count;
    }
}
