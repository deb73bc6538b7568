using System.Collections.Generic;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Reporting
{
    /// <summary>
    /// What both passes learn along the way: every re-validation call seen in a lock region (for the messages' "the
    /// re-validation nearby checks ..."), and for each use site the first value found unchecked there and how the
    /// function's locals named it then (for the code fix's expression).
    /// </summary>
    internal sealed class RevalidationLog
    {
        private readonly HashSet<(int Region, int Position, ValueId Value)> _revalidations = new();
        private readonly Dictionary<int, List<(int Position, ValueId Value)>> _byRegion = new();

        public void Add(int region, int position, ValueId value)
        {
            if (_revalidations.Add((region, position, value)))
            {
                if (!_byRegion.TryGetValue(region, out List<(int, ValueId)>? list))
                {
                    _byRegion[region] = list = new List<(int, ValueId)>();
                }

                list.Add((position, value));
            }
        }

        /// <summary>The re-validations seen in <paramref name="region"/>.</summary>
        public IReadOnlyList<(int Position, ValueId Value)> In(int region) =>
            _byRegion.TryGetValue(region, out List<(int, ValueId)>? list) ? list : (IReadOnlyList<(int, ValueId)>)System.Array.Empty<(int, ValueId)>();

        public bool Revalidates(int region, ValueId value)
        {
            foreach ((int _, ValueId seen) in In(region))
            {
                if (ReferenceEquals(seen, value))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The first unchecked value seen at each use site, and its location in the function's locals then.</summary>
        public Dictionary<Microsoft.CodeAnalysis.Text.TextSpan, (ValueId Value, Locations.AccessPath? InLocals)> FirstUnchecked { get; } = new();
    }
}
