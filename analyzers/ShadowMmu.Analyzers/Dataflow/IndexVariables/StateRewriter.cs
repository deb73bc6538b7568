using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis.Text;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.IndexVariables
{
    /// <summary>
    /// One rewrite of the indexes in a state (an index variable changed): every location, value and origin expressed in
    /// it is re-expressed, or, when the rewrite loses the index, dropped (a location) or made opaque (a value).
    /// </summary>
    internal sealed class StateRewriter
    {
        private readonly IndexTracker _tracker;
        private readonly AnalysisTables _tables;
        private readonly Func<IndexExpr, IndexExpr?> _rewrite;
        private readonly TextSpan _site;
        private readonly Dictionary<ValueId, ValueId> _cache = new();

        public StateRewriter(IndexTracker tracker, AnalysisTables tables, Func<IndexExpr, IndexExpr?> rewrite, TextSpan site)
        {
            _tracker = tracker;
            _tables = tables;
            _rewrite = rewrite;
            _site = site;
        }

        public void Apply(FlowState state)
        {
            if (!state.Validated.IsEmpty)
            {
                var validated = IdSet<ValueId>.Empty;
                foreach (ValueId id in state.Validated)
                {
                    validated = validated.Add(Map(id));
                }

                state.Validated = validated;
            }

            if (!state.Locations.IsEmpty)
            {
                state.Locations = state.Locations.Rebuild(entry =>
                    _tables.Paths.Rewrite(entry.Path, _rewrite) is AccessPath path ? new StoredValues(path, MapSet(entry.Ids)) : null);
            }

            if (!state.Contents.IsEmpty)
            {
                state.Contents = state.Contents.Rebuild(RewriteContent);
            }

            foreach (KeyValuePair<int, AbstractValue> pair in IntMap<AbstractValue>.Entries(state.Captures))
            {
                state.Captures = IntMap<AbstractValue>.Set(state.Captures, pair.Key, pair.Value.Rewrite(MapSet, _rewrite, path => _tables.Paths.Rewrite(path, _rewrite)));
            }

            if (!state.Aliases.IsEmpty)
            {
                state.Aliases = state.Aliases.Rebuild(alias => _tables.Paths.Rewrite(alias.Target, _rewrite) is AccessPath target ? new RefAlias(alias.Path, target) : null);
            }

            if (!state.Outcomes.IsEmpty)
            {
                state.Outcomes = state.Outcomes.Rebuild(fact => new OutcomeFact(fact.Path, new Outcome(MapSet(fact.Outcome.WhenTrue), MapSet(fact.Outcome.WhenFalse))));
            }
        }

        private StructContent? RewriteContent(StructContent entry)
        {
            AccessPath? prefix = _tables.Paths.Rewrite(entry.Path, _rewrite);
            if (prefix == null)
            {
                return null;
            }

            var origins = IdSet<Origin>.Empty;
            foreach (Origin origin in entry.Origins)
            {
                if (origin.Target == null)
                {
                    origins = origins.Add(origin);
                    continue;
                }

                AccessPath? target = _tables.Paths.Rewrite(origin.Target, _rewrite);
                IndexExpr? shift = origin.Shift is IndexExpr s && s.Var != null ? _rewrite(s) : origin.Shift;
                origins = origins.Add(target == null || (origin.Shift != null && shift == null)
                    ? _tracker.OriginOf(prefix, new Epoch(EpochKind.Lost, _site))
                    : _tracker.OriginOf(target, origin.Epoch, shift));
            }

            return new StructContent(prefix, origins);
        }

        private ValueId Map(ValueId id)
        {
            if (_cache.TryGetValue(id, out ValueId? mapped))
            {
                return mapped;
            }

            mapped = id;
            if (id is InitialValue initial && initial.Location.HasIndexVars)
            {
                AccessPath? path = _tables.Paths.Rewrite(initial.Location, _rewrite);
                mapped = path == null
                    ? _tables.Values.Opaque(_site, id)
                    : ReferenceEquals(path, initial.Location) ? id : _tracker.Initial(path, initial.Epoch);
            }

            _cache[id] = mapped;
            return mapped;
        }

        private IdSet<ValueId> MapSet(IdSet<ValueId> set)
        {
            IdSet<ValueId> result = set;
            foreach (ValueId id in set)
            {
                ValueId mapped = Map(id);
                if (!ReferenceEquals(mapped, id))
                {
                    result = result.Remove(id).Add(mapped);
                }
            }

            return result;
        }
    }
}
