using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis.FlowAnalysis;

namespace ShadowMmu.Analyzers.Dataflow
{
    internal enum IdKind
    {
        /// <summary>What an [UnlockedGuestPte] location held when the analysis started, or after a call rewrote it.</summary>
        Initial,

        /// <summary>The result of one [GuestPteRead] call site.</summary>
        Read,

        /// <summary>A value whose name was lost (its index variable changed) or a widened set.</summary>
        Opaque,
    }

    /// <summary>The identity of one guest PTE value: re-validating it makes every copy of it trusted in the lock region.</summary>
    internal sealed class ValueId
    {
        public ValueId(IdKind kind, string key, string display, Path? path)
        {
            Kind = kind;
            Key = key;
            Display = display;
            Path = path;
        }

        public IdKind Kind { get; }

        public string Key { get; }

        public string Display { get; }

        /// <summary>For <see cref="IdKind.Initial"/>: the location the value was read from.</summary>
        public Path? Path { get; }
    }

    /// <summary>What a struct prefix's untouched parts hold: the original content of a location (a copy's source) or nothing unlocked.</summary>
    internal sealed class Origin
    {
        public Origin(Path? target, string epoch)
        {
            Target = target;
            Epoch = epoch;
            Key = target == null ? "clean" : epoch + ">" + target.Key;
        }

        /// <summary>The location whose content this is; null when clean (a fresh <c>new</c> or <c>default</c>).</summary>
        public Path? Target { get; }

        public string Epoch { get; }

        public string Key { get; }
    }

    /// <summary>Ids validated on the true and on the false outcome of a boolean.</summary>
    internal sealed class Cond : IEquatable<Cond>
    {
        public static readonly ImmutableSortedSet<string> None = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);

        public Cond(ImmutableSortedSet<string> whenTrue, ImmutableSortedSet<string> whenFalse)
        {
            WhenTrue = whenTrue;
            WhenFalse = whenFalse;
        }

        public ImmutableSortedSet<string> WhenTrue { get; }

        public ImmutableSortedSet<string> WhenFalse { get; }

        public bool IsEmpty => WhenTrue.IsEmpty && WhenFalse.IsEmpty;

        public Cond Negate() => new(WhenFalse, WhenTrue);

        public Cond Intersect(Cond other) => new(WhenTrue.Intersect(other.WhenTrue), WhenFalse.Intersect(other.WhenFalse));

        public bool Equals(Cond? other) => other != null && WhenTrue.SetEquals(other.WhenTrue) && WhenFalse.SetEquals(other.WhenFalse);

        public override bool Equals(object? obj) => Equals(obj as Cond);

        public override int GetHashCode() => WhenTrue.Count ^ (WhenFalse.Count << 8);
    }

    /// <summary>The abstract value of an expression.</summary>
    internal readonly struct AbsVal : IEquatable<AbsVal>
    {
        public static readonly AbsVal Empty = new(Cond.None, null, null, null);

        public AbsVal(ImmutableSortedSet<string> ids, IndexExpr? integer, Cond? cond, Path? loc, bool? boolean = null)
        {
            Ids = ids;
            Int = integer;
            Cond = cond;
            Loc = loc;
            Bool = boolean;
        }

        /// <summary>Its value, when it is a boolean the analysis knows (a comparison of constants).</summary>
        public bool? Bool { get; }

        /// <summary>The guest PTE values (read without the lock) this may be or derive from.</summary>
        public ImmutableSortedSet<string> Ids { get; }

        /// <summary>Its value as an index, when it is one.</summary>
        public IndexExpr? Int { get; }

        /// <summary>For a boolean: what its outcomes re-validate.</summary>
        public Cond? Cond { get; }

        /// <summary>The location it was read from, when it is one.</summary>
        public Path? Loc { get; }

        public bool HasIds => Ids != null && !Ids.IsEmpty;

        public static AbsVal FromIds(ImmutableSortedSet<string> ids) => new(ids, null, null, null);

        public static AbsVal FromInt(IndexExpr? value) => new(Cond.None, value, null, null);

        public AbsVal WithLoc(Path? loc) => new(Ids, Int, Cond, loc);

        public AbsVal WithoutLoc() => Loc == null ? this : new AbsVal(Ids, Int, Cond, null);

        public bool Equals(AbsVal other) =>
            (Ids ?? Cond.None).SetEquals(other.Ids ?? Cond.None)
            && Nullable.Equals(Int, other.Int)
            && Equals(Cond, other.Cond)
            && Loc?.Key == other.Loc?.Key
            && Bool == other.Bool;

        public override bool Equals(object? obj) => obj is AbsVal other && Equals(other);

        public override int GetHashCode() => Ids?.Count ?? 0;
    }

    internal sealed class LocEntry
    {
        public LocEntry(Path path, ImmutableSortedSet<string> ids)
        {
            Path = path;
            Ids = ids;
        }

        public Path Path { get; }

        public ImmutableSortedSet<string> Ids { get; }
    }

    internal sealed class DefEntry
    {
        public DefEntry(Path prefix, ImmutableSortedSet<string> origins)
        {
            Prefix = prefix;
            Origins = origins;
        }

        public Path Prefix { get; }

        public ImmutableSortedSet<string> Origins { get; }
    }

    /// <summary>The dataflow state at one program point.</summary>
    internal sealed class State
    {
        public const int Outside = -1, Mixed = -2;

        /// <summary>The outermost lock region the point is in; <see cref="Outside"/> or, after a merge of different ones, <see cref="Mixed"/>.</summary>
        public int Region = Outside;

        /// <summary>Tracked locations and the ids they may hold (may).</summary>
        public Dictionary<string, LocEntry> Locs = new(StringComparer.Ordinal);

        /// <summary>What untouched parts of a struct prefix hold (may).</summary>
        public Dictionary<string, DefEntry> Defaults = new(StringComparer.Ordinal);

        /// <summary>Ids re-validated in the current region on every path (must).</summary>
        public HashSet<string> Validated = new(StringComparer.Ordinal);

        /// <summary>Integer variables known equal to a constant or to another (root) variable plus a constant (must).</summary>
        public Dictionary<string, IndexExpr> Eq = new(StringComparer.Ordinal);

        /// <summary>The control-flow graph's captured values.</summary>
        public Dictionary<CaptureId, AbsVal> Captures = new();

        /// <summary>Boolean locals holding a re-validation's outcome.</summary>
        public Dictionary<string, Cond> BoolFacts = new(StringComparer.Ordinal);

        public State Clone() => new()
        {
            Region = Region,
            Locs = new Dictionary<string, LocEntry>(Locs, StringComparer.Ordinal),
            Defaults = new Dictionary<string, DefEntry>(Defaults, StringComparer.Ordinal),
            Validated = new HashSet<string>(Validated, StringComparer.Ordinal),
            Eq = new Dictionary<string, IndexExpr>(Eq, StringComparer.Ordinal),
            Captures = new Dictionary<CaptureId, AbsVal>(Captures),
            BoolFacts = new Dictionary<string, Cond>(BoolFacts, StringComparer.Ordinal),
        };

        public bool SameAs(State other)
        {
            if (Region != other.Region || Locs.Count != other.Locs.Count || Defaults.Count != other.Defaults.Count || !Validated.SetEquals(other.Validated)
                || Eq.Count != other.Eq.Count || Captures.Count != other.Captures.Count || BoolFacts.Count != other.BoolFacts.Count)
            {
                return false;
            }

            foreach (var pair in Locs)
            {
                if (!other.Locs.TryGetValue(pair.Key, out LocEntry? entry) || !entry.Ids.SetEquals(pair.Value.Ids))
                {
                    return false;
                }
            }

            foreach (var pair in Defaults)
            {
                if (!other.Defaults.TryGetValue(pair.Key, out DefEntry? entry) || !entry.Origins.SetEquals(pair.Value.Origins))
                {
                    return false;
                }
            }

            foreach (var pair in Eq)
            {
                if (!other.Eq.TryGetValue(pair.Key, out IndexExpr value) || !value.Equals(pair.Value))
                {
                    return false;
                }
            }

            foreach (var pair in Captures)
            {
                if (!other.Captures.TryGetValue(pair.Key, out AbsVal value) || !value.Equals(pair.Value))
                {
                    return false;
                }
            }

            foreach (var pair in BoolFacts)
            {
                if (!other.BoolFacts.TryGetValue(pair.Key, out Cond? value) || !value.Equals(pair.Value))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
