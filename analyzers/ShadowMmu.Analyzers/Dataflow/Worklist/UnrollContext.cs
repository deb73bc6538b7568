using System;
using System.Collections.Generic;
using ShadowMmu.Analyzers.Dataflow.State;

namespace ShadowMmu.Analyzers.Dataflow.Worklist
{
    /// <summary>
    /// The constants that the context variables hold at a block's entry: a block keeps one state per context, so that a
    /// loop with constant bounds is followed iteration by iteration (unrolled). <see cref="Collapsed"/> stands for every
    /// context once a block has had too many: its states are merged and its indexes stay symbolic.
    /// </summary>
    internal sealed class UnrollContext : IEquatable<UnrollContext>
    {
        private readonly (int Var, long Value)[] _constants;
        private readonly bool _collapsed;

        private UnrollContext((int Var, long Value)[] constants, bool collapsed)
        {
            _constants = constants;
            _collapsed = collapsed;
        }

        public static UnrollContext Empty { get; } = new(Array.Empty<(int, long)>(), false);

        public static UnrollContext Collapsed { get; } = new(Array.Empty<(int, long)>(), true);

        /// <summary>The context of <paramref name="state"/>: the context variables it knows constant values for.</summary>
        public static UnrollContext Of(FlowState state)
        {
            IntMap<long>? constants = state.Equalities.ContextConstants;
            if (constants == null)
            {
                return Empty;
            }

            var pairs = new (int, long)[constants.Count];
            int i = 0;
            foreach (KeyValuePair<int, long> pair in IntMap<long>.Entries(constants))
            {
                pairs[i++] = (pair.Key, pair.Value);
            }

            return new UnrollContext(pairs, false);
        }

        public bool Equals(UnrollContext? other)
        {
            if (other == null || other._collapsed != _collapsed || other._constants.Length != _constants.Length)
            {
                return false;
            }

            for (int i = 0; i < _constants.Length; i++)
            {
                if (_constants[i] != other._constants[i])
                {
                    return false;
                }
            }

            return true;
        }

        public override bool Equals(object? obj) => Equals(obj as UnrollContext);

        public override int GetHashCode()
        {
            int hash = _collapsed ? 1 : 0;
            foreach ((int var, long value) in _constants)
            {
                hash = (hash * 31) ^ var ^ value.GetHashCode();
            }

            return hash;
        }
    }
}
