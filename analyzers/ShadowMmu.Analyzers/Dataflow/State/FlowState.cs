using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.State
{
    /// <summary>The guest PTE values a tracked location may hold (an entry of <see cref="FlowState.Locations"/>).</summary>
    internal sealed class StoredValues : IPathEntry
    {
        public StoredValues(AccessPath path, IdSet<ValueId> ids)
        {
            Path = path;
            Ids = ids;
        }

        public AccessPath Path { get; }

        public IdSet<ValueId> Ids { get; }
    }

    /// <summary>What the untouched parts of a struct location hold (an entry of <see cref="FlowState.Contents"/>).</summary>
    internal sealed class StructContent : IPathEntry
    {
        public StructContent(AccessPath prefix, IdSet<Origin> origins)
        {
            Path = prefix;
            Origins = origins;
        }

        /// <summary>The struct location.</summary>
        public AccessPath Path { get; }

        public IdSet<Origin> Origins { get; }
    }

    /// <summary>What a boolean location's value says about re-validations (an entry of <see cref="FlowState.Outcomes"/>).</summary>
    internal sealed class OutcomeFact : IPathEntry
    {
        public OutcomeFact(AccessPath path, Outcome outcome)
        {
            Path = path;
            Outcome = outcome;
        }

        public AccessPath Path { get; }

        public Outcome Outcome { get; }
    }

    /// <summary>What a ref local refers to (an entry of <see cref="FlowState.Aliases"/>).</summary>
    internal sealed class RefAlias : IPathEntry
    {
        public RefAlias(AccessPath local, AccessPath target)
        {
            Path = local;
            Target = target;
        }

        /// <summary>The ref local.</summary>
        public AccessPath Path { get; }

        /// <summary>The location it refers to.</summary>
        public AccessPath Target { get; }
    }

    /// <summary>
    /// The dataflow state at one program point, made of persistent maps: <see cref="Fork"/> costs nothing, and a change
    /// builds new maps that share everything else with the state it came from (the immutable state of ErrorProne's
    /// <c>HeldLockSet</c>, of roslyn-analyzers' analysis data). The evaluator changes a fork in place while it runs
    /// through a block; the states kept per block are never changed.
    /// </summary>
    internal sealed class FlowState
    {
        public const int Outside = -1, Mixed = -2;

        /// <summary>The outermost lock region the point is in; <see cref="Outside"/> or, after a merge of different ones, <see cref="Mixed"/>.</summary>
        public int Region = Outside;

        /// <summary>Tracked locations and the values they may hold (may).</summary>
        public PathMap<StoredValues> Locations;

        /// <summary>What untouched parts of struct locations hold (may).</summary>
        public PathMap<StructContent> Contents;

        /// <summary>Values re-validated in the current region on every path (must).</summary>
        public IdSet<ValueId> Validated;

        /// <summary>Integer variables known equal to a constant or to another variable plus a constant (must).</summary>
        public Equalities Equalities;

        /// <summary>The control-flow graph's captured values, by capture number.</summary>
        public IntMap<AbstractValue>? Captures;

        /// <summary>Boolean locations holding a re-validation's outcome (must).</summary>
        public PathMap<OutcomeFact> Outcomes;

        /// <summary>What each ref local refers to (must: a ref local bound differently on two paths refers to nothing known).</summary>
        public PathMap<RefAlias> Aliases;

        public bool InRegion => Region >= 0;

        /// <summary>A copy to change (costs nothing: the maps are shared until one side changes them).</summary>
        public FlowState Fork() => new()
        {
            Region = Region,
            Locations = Locations,
            Contents = Contents,
            Validated = Validated,
            Equalities = Equalities,
            Captures = Captures,
            Outcomes = Outcomes,
            Aliases = Aliases,
        };

        public bool SameAs(FlowState other) =>
            Region == other.Region
            && Validated.SetEquals(other.Validated)
            && Equalities.SameAs(Equalities, other.Equalities)
            && PathMap<StoredValues>.SameAs(Locations, other.Locations, (a, b) => a.Ids.SetEquals(b.Ids))
            && PathMap<StructContent>.SameAs(Contents, other.Contents, (a, b) => a.Origins.SetEquals(b.Origins))
            && IntMap<AbstractValue>.SameAs(Captures, other.Captures, (a, b) => a.Equals(b))
            && PathMap<OutcomeFact>.SameAs(Outcomes, other.Outcomes, (a, b) => a.Outcome.Equals(b.Outcome))
            && PathMap<RefAlias>.SameAs(Aliases, other.Aliases, (a, b) => ReferenceEquals(a.Target, b.Target));

        /// <summary>The value <paramref name="var"/> is known to equal, if any.</summary>
        public bool TryGetEqual(IndexVar var, out IndexExpr value) => Equalities.TryGet(var, out value);

        public bool HasEqual(IndexVar var) => Equalities.Contains(var);

        public void SetEqual(IndexVar var, IndexExpr value) => Equalities = Equalities.Set(var, value);

        /// <summary>Forgets what <paramref name="var"/> equals; whether anything was known.</summary>
        public bool RemoveEqual(IndexVar var)
        {
            bool known = Equalities.Contains(var);
            Equalities = Equalities.Remove(var);
            return known;
        }
    }
}
