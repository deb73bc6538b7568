using System;
using ShadowMmu.Analyzers.Dataflow.State;

namespace ShadowMmu.Analyzers.Dataflow.Values
{
    /// <summary>What a boolean's outcomes re-validate: the values known unchanged when it is true, and when it is false.</summary>
    internal sealed class Outcome : IEquatable<Outcome>
    {
        public Outcome(IdSet<ValueId> whenTrue, IdSet<ValueId> whenFalse)
        {
            WhenTrue = whenTrue;
            WhenFalse = whenFalse;
        }

        private Outcome()
        {
            IsSwitch = true;
        }

        /// <summary>The value of a [RecheckSwitch]: taken as on (true), so that the re-check it guards counts.</summary>
        public static Outcome Switch { get; } = new();

        /// <summary>This is <see cref="Switch"/>'s value (re-validates nothing itself).</summary>
        public bool IsSwitch { get; }

        public IdSet<ValueId> WhenTrue { get; }

        public IdSet<ValueId> WhenFalse { get; }

        public bool IsEmpty => WhenTrue.IsEmpty && WhenFalse.IsEmpty;

        public Outcome Negate() => new(WhenFalse, WhenTrue);

        public Outcome Intersect(Outcome other) => IsSwitch && other.IsSwitch ? Switch : new(WhenTrue.Intersect(other.WhenTrue), WhenFalse.Intersect(other.WhenFalse));

        public bool Equals(Outcome? other) => other != null && IsSwitch == other.IsSwitch && WhenTrue.SetEquals(other.WhenTrue) && WhenFalse.SetEquals(other.WhenFalse);

        public override bool Equals(object? obj) => Equals(obj as Outcome);

        public override int GetHashCode() => WhenTrue.Count ^ (WhenFalse.Count << 8);
    }
}
