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

        public IdSet<ValueId> WhenTrue { get; }

        public IdSet<ValueId> WhenFalse { get; }

        public bool IsEmpty => WhenTrue.IsEmpty && WhenFalse.IsEmpty;

        public Outcome Negate() => new(WhenFalse, WhenTrue);

        public Outcome Intersect(Outcome other) => new(WhenTrue.Intersect(other.WhenTrue), WhenFalse.Intersect(other.WhenFalse));

        public bool Equals(Outcome? other) => other != null && WhenTrue.SetEquals(other.WhenTrue) && WhenFalse.SetEquals(other.WhenFalse);

        public override bool Equals(object? obj) => Equals(obj as Outcome);

        public override int GetHashCode() => WhenTrue.Count ^ (WhenFalse.Count << 8);
    }
}
