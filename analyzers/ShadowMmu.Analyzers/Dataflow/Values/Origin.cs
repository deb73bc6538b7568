namespace ShadowMmu.Analyzers.Dataflow.Values
{
    using ShadowMmu.Analyzers.Dataflow.Locations;
    using ShadowMmu.Analyzers.Dataflow.State;

    /// <summary>
    /// What the untouched parts of a struct location hold: the content another location (<see cref="Target"/>) had at
    /// <see cref="Epoch"/> (the source of a copy, or the location itself), or nothing unlocked (<see cref="IsClean"/>: a
    /// fresh <c>new</c> or <c>default</c>), or what went through code the analysis does not follow (<see cref="Unfollowed"/>).
    /// A span, pointer or array that views another's elements from an offset has an origin with a <see cref="Shift"/>:
    /// its element <c>i</c> is the target's element <c>i + Shift</c>. Interned by <see cref="ValueTable"/>.
    /// </summary>
    internal sealed class Origin : IInterned
    {
        internal Origin(int id, AccessPath? target, Epoch epoch, IndexVariables.IndexExpr? shift, UnfollowedValue? unfollowed)
        {
            Id = id;
            Target = target;
            Epoch = epoch;
            Shift = shift;
            Unfollowed = unfollowed;
        }

        public int Id { get; }

        public AccessPath? Target { get; }

        public Epoch Epoch { get; }

        /// <summary>For a view: the target's index of the view's first element (null for none).</summary>
        public IndexVariables.IndexExpr? Shift { get; }

        /// <summary>For content the analysis does not follow: the value any read of it gives.</summary>
        public UnfollowedValue? Unfollowed { get; }

        public bool IsClean => Target == null && Unfollowed == null;
    }
}
