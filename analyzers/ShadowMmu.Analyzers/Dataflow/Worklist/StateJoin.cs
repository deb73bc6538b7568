using System.Collections.Generic;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Worklist
{
    /// <summary>
    /// The join of two states where paths meet (the domain's merge, as roslyn-analyzers' <c>AbstractAnalysisDomain</c>):
    /// the values a location may hold on either path, the re-validations and equalities that hold on both. Parts the two
    /// states share are not visited.
    /// </summary>
    internal sealed class StateJoin
    {
        private readonly AnalysisTables _tables;
        private readonly IndexTracker _indexes;
        private readonly AbstractMemory _memory;

        public StateJoin(AnalysisTables tables, IndexTracker indexes, AbstractMemory memory)
        {
            _tables = tables;
            _indexes = indexes;
            _memory = memory;
        }

        public FlowState Merge(FlowState a, FlowState b)
        {
            var result = new FlowState { Region = a.Region == b.Region ? a.Region : FlowState.Mixed };

            // Equalities that hold on both sides survive; the variables that differ are where loop indexes live.
            var differing = new List<IndexVar>();
            result.Equalities = Equalities.Merge(a.Equalities, b.Equalities, _tables.Vars, differing);
            differing.Sort((x, y) => x.Id.CompareTo(y.Id));

            if (result.Region != FlowState.Mixed)
            {
                IdSet<ValueId> left = differing.Count == 0 ? a.Validated : _indexes.Saturate(a.Validated, a.Equalities, differing);
                IdSet<ValueId> right = differing.Count == 0 ? b.Validated : _indexes.Saturate(b.Validated, b.Equalities, differing);
                result.Validated = left.Intersect(right);
            }

            result.Locations = PathMap<StoredValues>.Merge(
                a.Locations,
                b.Locations,
                (x, y) => Stored(x, x.Ids.Union(y.Ids)),
                x => Stored(x, x.Ids.Union(_memory.Read(x.Path, b))),
                y => Stored(y, _memory.Read(y.Path, a).Union(y.Ids)));

            result.Contents = PathMap<StructContent>.Merge(
                a.Contents,
                b.Contents,
                (x, y) => Content(x, x.Origins.Union(y.Origins)),
                x => Content(x, x.Origins.Union(_memory.OriginsOf(x.Path, b))),
                y => Content(y, _memory.OriginsOf(y.Path, a).Union(y.Origins)));

            result.Captures = IntMap<AbstractValue>.Merge(a.Captures, b.Captures, (_, x, y) => AbstractValue.Join(x, y), null, null);

            if (result.Region != FlowState.Mixed)
            {
                result.Outcomes = PathMap<OutcomeFact>.Intersect(a.Outcomes, b.Outcomes, (x, y) => x.Outcome.Equals(y.Outcome) ? x : new OutcomeFact(x.Path, x.Outcome.Intersect(y.Outcome)));
            }

            result.Aliases = PathMap<RefAlias>.Intersect(a.Aliases, b.Aliases, (x, y) => ReferenceEquals(x.Target, y.Target) ? x : null);
            return result;
        }

        private StoredValues Stored(StoredValues entry, IdSet<ValueId> ids)
        {
            IdSet<ValueId> widened = _memory.Widen(ids, entry.Path);
            return widened.SetEquals(entry.Ids) ? entry : new StoredValues(entry.Path, widened);
        }

        private static StructContent Content(StructContent entry, IdSet<Origin> origins) =>
            origins.SetEquals(entry.Origins) ? entry : new StructContent(entry.Path, origins);
    }
}
