namespace ShadowMmu.Analyzers.Dataflow.Values
{
    using ShadowMmu.Analyzers.Dataflow.Locations;
    using ShadowMmu.Analyzers.Dataflow.State;

    /// <summary>
    /// What the untouched parts of a struct location hold: the content another location (<see cref="Target"/>) had at
    /// <see cref="Epoch"/> (the source of a copy, or the location itself), or nothing unlocked (<see cref="IsClean"/>: a
    /// fresh <c>new</c> or <c>default</c>). Interned by <see cref="ValueTable"/>.
    /// </summary>
    internal sealed class Origin : IInterned
    {
        internal Origin(int id, AccessPath? target, Epoch epoch)
        {
            Id = id;
            Target = target;
            Epoch = epoch;
        }

        public int Id { get; }

        public AccessPath? Target { get; }

        public Epoch Epoch { get; }

        public bool IsClean => Target == null;
    }
}
