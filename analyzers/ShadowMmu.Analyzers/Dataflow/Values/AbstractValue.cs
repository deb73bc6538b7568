using System;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;

namespace ShadowMmu.Analyzers.Dataflow.Values
{
    /// <summary>What the analysis knows of an expression's value.</summary>
    /// <remarks>
    /// Besides the guest PTE values it may be (<see cref="Ids"/>), a value may be a location's content (<see cref="Location"/>),
    /// a view of a container's elements from an offset (a span slice, a pointer, an array range: <see cref="ElementOffset"/>),
    /// an enumerator over them (<see cref="Enumerates"/>), or a struct made member by member (a tuple, a record:
    /// <see cref="Members"/>).
    /// </remarks>
    internal readonly struct AbstractValue : IEquatable<AbstractValue>
    {
        public AbstractValue(IdSet<ValueId> ids, IndexExpr? integer, Outcome? outcome, AccessPath? location, bool? boolean = null)
            : this(ids, integer, outcome, location, boolean, null, false, default, null)
        {
        }

        private AbstractValue(IdSet<ValueId> ids, IndexExpr? integer, Outcome? outcome, AccessPath? location, bool? boolean, IndexExpr? offset, bool enumerates, ImmutableArray<MemberValue> members, ElementValues? elements)
        {
            Ids = ids;
            Int = integer;
            Outcome = outcome;
            Location = location;
            Bool = boolean;
            ElementOffset = offset;
            Enumerates = enumerates;
            Members = members;
            Elements = elements;
        }

        public static AbstractValue Empty => default;

        /// <summary>The guest PTE values (read without the lock) it may be or derive from.</summary>
        public IdSet<ValueId> Ids { get; }

        /// <summary>Its value as an index, when it is one.</summary>
        public IndexExpr? Int { get; }

        /// <summary>For a boolean: what its outcomes re-validate.</summary>
        public Outcome? Outcome { get; }

        /// <summary>The location it was read from, when it is one; for a view or an enumerator, the container.</summary>
        public AccessPath? Location { get; }

        /// <summary>Its value, when it is a boolean the analysis knows (a comparison of constants).</summary>
        public bool? Bool { get; }

        /// <summary>For a view of <see cref="Location"/>'s elements: the index of the container's element that is the view's first.</summary>
        public IndexExpr? ElementOffset { get; }

        /// <summary>An enumerator over the elements of <see cref="Location"/> (from <see cref="ElementOffset"/>).</summary>
        public bool Enumerates { get; }

        /// <summary>For a struct made member by member: each member's value (default when not one).</summary>
        public ImmutableArray<MemberValue> Members { get; }

        /// <summary>For a new array or span made from its elements (<c>{ a, b }</c>, <c>[a, b]</c>): each element's value, in order (null when not one).</summary>
        public ElementValues? Elements { get; }

        public bool HasIds => !Ids.IsEmpty;

        public bool IsView => ElementOffset != null;

        public static AbstractValue FromIds(IdSet<ValueId> ids) => new(ids, null, null, null);

        public static AbstractValue FromInt(IndexExpr? value) => new(IdSet<ValueId>.Empty, value, null, null);

        /// <summary>The elements of <paramref name="container"/> from <paramref name="offset"/> on.</summary>
        public static AbstractValue View(AccessPath container, IndexExpr offset, IdSet<ValueId> ids) => new(ids, null, null, container, null, offset, false, default, null);

        /// <summary>An enumerator over the elements of <paramref name="container"/> from <paramref name="offset"/> on.</summary>
        public static AbstractValue Enumerator(AccessPath container, IndexExpr offset) => new(IdSet<ValueId>.Empty, null, null, container, null, offset, true, default, null);

        /// <summary>A struct made member by member: it derives from all its members' values, and each member keeps its own.</summary>
        public static AbstractValue Composite(ImmutableArray<MemberValue> members)
        {
            var ids = IdSet<ValueId>.Empty;
            foreach (MemberValue member in members)
            {
                ids = ids.Union(member.Value.Ids);
            }

            return new AbstractValue(ids, null, null, null, null, null, false, members, null);
        }

        /// <summary>A new array or span made from <paramref name="elements"/>: it derives from all their values, and each element keeps its own.</summary>
        public static AbstractValue NewElements(ImmutableArray<AbstractValue> elements)
        {
            var ids = IdSet<ValueId>.Empty;
            foreach (AbstractValue element in elements)
            {
                ids = ids.Union(element.Ids);
            }

            return new AbstractValue(ids, null, null, null, null, null, false, default, new ElementValues(elements));
        }

        /// <summary>The value of <paramref name="member"/> when this is a struct made member by member.</summary>
        public bool TryGetMember(ISymbol member, out AbstractValue value)
        {
            if (!Members.IsDefault)
            {
                foreach (MemberValue candidate in Members)
                {
                    if (SymbolEqualityComparer.Default.Equals(candidate.Member, member))
                    {
                        value = candidate.Value;
                        return true;
                    }
                }
            }

            value = default;
            return false;
        }

        /// <summary>This composite with <paramref name="member"/> set (an object initializer's assignment).</summary>
        public AbstractValue WithMember(ISymbol member, AbstractValue value)
        {
            ImmutableArray<MemberValue> members = Members.IsDefault ? ImmutableArray<MemberValue>.Empty : Members;
            for (int i = 0; i < members.Length; i++)
            {
                if (SymbolEqualityComparer.Default.Equals(members[i].Member, member))
                {
                    return Composite(members.SetItem(i, new MemberValue(member, value)));
                }
            }

            return Composite(members.Add(new MemberValue(member, value)));
        }

        /// <summary>This value with its ids, indexes and paths rewritten (an index variable changed); a view whose offset is lost is no view.</summary>
        public AbstractValue Rewrite(Func<IdSet<ValueId>, IdSet<ValueId>> ids, Func<IndexExpr, IndexExpr?> index, Func<AccessPath, AccessPath?> path)
        {
            IndexExpr? integer = Int is IndexExpr i && i.Var != null ? index(i) : Int;
            IndexExpr? offset = ElementOffset is IndexExpr o && o.Var != null ? index(o) : ElementOffset;
            AccessPath? location = Location == null ? null : path(Location);
            bool view = ElementOffset != null && offset != null && location != null;
            Outcome? outcome = Outcome == null ? null : new Outcome(ids(Outcome.WhenTrue), ids(Outcome.WhenFalse));
            ImmutableArray<MemberValue> members = Members;
            if (!members.IsDefault)
            {
                var builder = ImmutableArray.CreateBuilder<MemberValue>(members.Length);
                foreach (MemberValue member in members)
                {
                    builder.Add(new MemberValue(member.Member, member.Value.Rewrite(ids, index, path)));
                }

                members = builder.MoveToImmutable();
            }

            ElementValues? elements = null;
            if (Elements != null)
            {
                var builder = ImmutableArray.CreateBuilder<AbstractValue>(Elements.Values.Length);
                foreach (AbstractValue element in Elements.Values)
                {
                    builder.Add(element.Rewrite(ids, index, path));
                }

                elements = new ElementValues(builder.MoveToImmutable());
            }

            return new AbstractValue(ids(Ids), integer, outcome, ElementOffset != null && !view ? null : location, null, view ? offset : null, view && Enumerates, members, elements);
        }

        public AbstractValue WithoutLocation() => Location == null ? this : new AbstractValue(Ids, Int, Outcome, null, Bool, null, false, Members, Elements);

        /// <summary>The value on either of two paths: the values of both, what both know.</summary>
        public static AbstractValue Join(AbstractValue a, AbstractValue b)
        {
            bool sameView = ReferenceEquals(a.Location, b.Location) && Nullable.Equals(a.ElementOffset, b.ElementOffset) && a.Enumerates == b.Enumerates;
            return new AbstractValue(
                a.Ids.Union(b.Ids),
                Nullable.Equals(a.Int, b.Int) ? a.Int : null,
                a.Outcome != null && b.Outcome != null ? a.Outcome.Intersect(b.Outcome) : null,
                sameView ? a.Location : null,
                null,
                sameView ? a.ElementOffset : null,
                sameView && a.Enumerates,
                JoinMembers(a.Members, b.Members),
                ElementValues.Join(a.Elements, b.Elements));
        }

        public bool Equals(AbstractValue other) =>
            Ids.SetEquals(other.Ids)
            && Nullable.Equals(Int, other.Int)
            && Equals(Outcome, other.Outcome)
            && ReferenceEquals(Location, other.Location)
            && Bool == other.Bool
            && Nullable.Equals(ElementOffset, other.ElementOffset)
            && Enumerates == other.Enumerates
            && SameMembers(Members, other.Members)
            && ElementValues.Same(Elements, other.Elements);

        public override bool Equals(object? obj) => obj is AbstractValue other && Equals(other);

        public override int GetHashCode() => Ids.Count;

        private static ImmutableArray<MemberValue> JoinMembers(ImmutableArray<MemberValue> a, ImmutableArray<MemberValue> b)
        {
            if (a.IsDefault || b.IsDefault || a.Length != b.Length)
            {
                return default;
            }

            var builder = ImmutableArray.CreateBuilder<MemberValue>(a.Length);
            for (int i = 0; i < a.Length; i++)
            {
                if (!SymbolEqualityComparer.Default.Equals(a[i].Member, b[i].Member))
                {
                    return default;
                }

                builder.Add(new MemberValue(a[i].Member, Join(a[i].Value, b[i].Value)));
            }

            return builder.MoveToImmutable();
        }

        private static bool SameMembers(ImmutableArray<MemberValue> a, ImmutableArray<MemberValue> b)
        {
            if (a.IsDefault || b.IsDefault)
            {
                return a.IsDefault == b.IsDefault;
            }

            if (a.Length != b.Length)
            {
                return false;
            }

            for (int i = 0; i < a.Length; i++)
            {
                if (!SymbolEqualityComparer.Default.Equals(a[i].Member, b[i].Member) || !a[i].Value.Equals(b[i].Value))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>One member of a struct made member by member, and its value (a class: a struct would make the runtime's type layout cyclic).</summary>
    internal sealed class MemberValue
    {
        public MemberValue(ISymbol member, AbstractValue value)
        {
            Member = member;
            Value = value;
        }

        /// <summary>The field or property (a tuple element as its ItemN field; see <c>Evaluator.MemberIdentity</c>).</summary>
        public ISymbol Member { get; }

        public AbstractValue Value { get; }
    }

    /// <summary>The values of a new array's elements, in order (a class, as <see cref="MemberValue"/>).</summary>
    internal sealed class ElementValues
    {
        public ElementValues(ImmutableArray<AbstractValue> values) => Values = values;

        public ImmutableArray<AbstractValue> Values { get; }

        /// <summary>Element by element when both are arrays of one length, else none.</summary>
        public static ElementValues? Join(ElementValues? a, ElementValues? b)
        {
            if (a == null || b == null || a.Values.Length != b.Values.Length)
            {
                return null;
            }

            var builder = ImmutableArray.CreateBuilder<AbstractValue>(a.Values.Length);
            for (int i = 0; i < a.Values.Length; i++)
            {
                builder.Add(AbstractValue.Join(a.Values[i], b.Values[i]));
            }

            return new ElementValues(builder.MoveToImmutable());
        }

        public static bool Same(ElementValues? a, ElementValues? b)
        {
            if (a == null || b == null)
            {
                return a == b;
            }

            if (a.Values.Length != b.Values.Length)
            {
                return false;
            }

            for (int i = 0; i < a.Values.Length; i++)
            {
                if (!a.Values[i].Equals(b.Values[i]))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
