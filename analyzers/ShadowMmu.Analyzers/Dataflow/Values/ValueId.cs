using System;
using Microsoft.CodeAnalysis.Text;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;

namespace ShadowMmu.Analyzers.Dataflow.Values
{
    /// <summary>
    /// When the content of an [UnlockedGuestPte] location was read: at the function's entry, or after a statement made it
    /// anew (a struct built from a value, or rewritten by a call).
    /// </summary>
    internal enum EpochKind
    {
        /// <summary>What the location held when the function started.</summary>
        Entry,

        /// <summary>What a struct built at <see cref="Epoch.Site"/> from an untracked value holds.</summary>
        Built,

        /// <summary>What a call at <see cref="Epoch.Site"/> (a <c>ref</c> argument, a mutating method) left there.</summary>
        Rewritten,

        /// <summary>What a copy's source held, once the variable that indexed the source changed at <see cref="Epoch.Site"/>.</summary>
        Lost,
    }

    /// <summary>The moment a location's content was read (see <see cref="EpochKind"/>).</summary>
    internal readonly struct Epoch : IEquatable<Epoch>
    {
        public Epoch(EpochKind kind, TextSpan site)
        {
            Kind = kind;
            Site = site;
        }

        public static Epoch AtEntry => default;

        public EpochKind Kind { get; }

        public TextSpan Site { get; }

        public bool Equals(Epoch other) => Kind == other.Kind && Site == other.Site;

        public override bool Equals(object? obj) => obj is Epoch other && Equals(other);

        public override int GetHashCode() => ((int)Kind * 397) ^ Site.GetHashCode();
    }

    /// <summary>
    /// The identity of one guest PTE value read without the lock: re-validating it makes every copy of it trusted in the
    /// lock region. Interned by <see cref="ValueTable"/> (one object per value; <see cref="Id"/> keys the state's sets).
    /// </summary>
    /// <remarks>
    /// Two protocols share these ids: KVM's guest-PTE re-check (read without the mmu_lock, re-read under it; MMU0001) and
    /// its host-invalidation re-check (a host frame resolved outside the lock, trusted under it once the invalidation
    /// sequence snapshotted before the resolution is re-checked: <see cref="HostFrameValue"/>, MMU0007). The state's sets
    /// hold values of any kind.
    /// </remarks>
    internal abstract class ValueId : IInterned
    {
        protected ValueId(string display) => Display = display;

        public int Id { get; internal set; }

        /// <summary>How messages name the value: the location it was read from, or the call that read it.</summary>
        public string Display { get; }

        /// <summary>For a value named by where it was read from: that location; otherwise null.</summary>
        public virtual AccessPath? Path => null;

        /// <summary>Interned: equal only to itself, hashed by its id.</summary>
        public override int GetHashCode() => Id;

        public override bool Equals(object? obj) => ReferenceEquals(this, obj);

        public override string ToString() => Display;
    }

    /// <summary>What the [UnlockedGuestPte] location <see cref="Path"/> held at <see cref="Epoch"/>.</summary>
    internal sealed class InitialValue : ValueId
    {
        public InitialValue(AccessPath path, Epoch epoch)
            : base(path.Display)
        {
            Location = path;
            Epoch = epoch;
        }

        public AccessPath Location { get; }

        public Epoch Epoch { get; }

        public override AccessPath? Path => Location;
    }

    /// <summary>The result of one [GuestPteRead] call (or its out argument <see cref="Ordinal"/>).</summary>
    internal sealed class ReadValue : ValueId
    {
        public ReadValue(TextSpan site, int ordinal, string display)
            : base(display)
        {
            Site = site;
            Ordinal = ordinal;
        }

        public TextSpan Site { get; }

        /// <summary>The out parameter's ordinal, or -1 for the returned value.</summary>
        public int Ordinal { get; }
    }

    /// <summary>A value whose name was lost at <see cref="Site"/> (the variable its index was expressed in changed): it can never be re-validated.</summary>
    internal sealed class OpaqueValue : ValueId
    {
        public OpaqueValue(TextSpan site, ValueId of)
            : base(of.Display)
        {
            Site = site;
            Of = of;
        }

        public TextSpan Site { get; }

        public ValueId Of { get; }
    }

    /// <summary>
    /// A guest PTE value that went, at <see cref="Site"/>, through code the analysis does not follow (<see cref="Reason"/>):
    /// never re-validated by name, and a use of it under the lock is MMU0005, not MMU0001 (it may be clean).
    /// </summary>
    internal sealed class UnfollowedValue : ValueId
    {
        public UnfollowedValue(TextSpan site, string reason, string display)
            : base(display)
        {
            Site = site;
            Reason = reason;
        }

        public TextSpan Site { get; }

        /// <summary>Why the value is not followed, as the end of an MMU0005 message: "it went through ...".</summary>
        public string Reason { get; }
    }

    /// <summary>Stands for the many values one location may hold, past what the analysis keeps apart: never re-validated.</summary>
    internal sealed class WidenedValue : ValueId
    {
        public WidenedValue(AccessPath location, string display)
            : base(display)
        {
            Location = location;
        }

        public AccessPath Location { get; }
    }

    /// <summary>A snapshot of the host's invalidation sequence, taken by an [InvalidationSnapshot] call at <see cref="Site"/>.</summary>
    internal sealed class SnapshotValue : ValueId
    {
        public SnapshotValue(TextSpan site, string display)
            : base(display)
        {
            Site = site;
        }

        public TextSpan Site { get; }
    }

    /// <summary>
    /// A host frame resolved without the lock by a [HostFrameResolve] call at <see cref="Site"/>, after the snapshots in
    /// <see cref="After"/> were taken (on some path): a re-check of one of those covers it; of a later one, not.
    /// </summary>
    internal sealed class HostFrameValue : ValueId
    {
        public HostFrameValue(TextSpan site, IdSet<ValueId> after, string display)
            : base(display)
        {
            Site = site;
            After = after;
        }

        public TextSpan Site { get; }

        /// <summary>The snapshots taken before the frame was resolved.</summary>
        public IdSet<ValueId> After { get; }
    }
}
