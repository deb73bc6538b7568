using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis.Text;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.IndexVariables
{
    /// <summary>
    /// Keeps what is expressed in index variables true as they change: a step (<c>level--</c>) shifts every index in the
    /// variable; another assignment re-expresses them in a variable that held the old value, or forgets them (their values
    /// become opaque: never re-validated again); a branch on <c>x == c</c> makes them constants.
    /// </summary>
    internal sealed class IndexTracker
    {
        private readonly AnalysisTables _tables;

        public IndexTracker(AnalysisTables tables) => _tables = tables;

        /// <summary>The variable <paramref name="var"/> takes <paramref name="value"/> at <paramref name="site"/>.</summary>
        public void Assign(IndexVar var, IndexExpr? value, FlowState state, TextSpan site)
        {
            if (state.RemoveEqual(var))
            {
                // It was equal to another variable or a constant: nothing is expressed in it.
            }
            else if (value is IndexExpr step && ReferenceEquals(step.Var, var))
            {
                long delta = step.Offset;
                if (delta != 0)
                {
                    RewriteAll(state, index => ReferenceEquals(index.Var, var) ? new IndexExpr(var, index.Offset - delta) : index, site, var);
                    RewriteEqualities(state, var, e => new IndexExpr(var, e.Offset - delta));
                }

                return;
            }
            else if (Substitute(state, var) is (IndexVar sub, long d))
            {
                state.RemoveEqual(sub);
                RewriteAll(state, index => ReferenceEquals(index.Var, var) ? new IndexExpr(sub, index.Offset - d) : index, site, var);
                _tables.Vars.Mention(sub);
                RewriteEqualities(state, var, e => new IndexExpr(sub, e.Offset - d));
            }
            else
            {
                RewriteAll(state, index => ReferenceEquals(index.Var, var) ? null : index, site, var);
                foreach (IndexVar user in state.Equalities.UsersOf(var))
                {
                    state.RemoveEqual(user);
                }
            }

            if (value is IndexExpr known && !ReferenceEquals(known.Var, var) && var.TracksValue)
            {
                state.SetEqual(var, known);
            }
        }

        /// <summary>Every variable stored under <paramref name="path"/> (a struct being overwritten) takes an unknown value.</summary>
        public void KillUnder(AccessPath path, FlowState state, TextSpan site)
        {
            IReadOnlyList<IndexVar> candidates = _tables.Vars.UnderRoot(path);
            for (int i = 0; i < candidates.Count; i++)
            {
                IndexVar var = candidates[i];
                if (var.Path != null && var.Path.Length > path.Length && path.IsPrefixOf(var.Path))
                {
                    Assign(var, null, state, site);
                }
            }
        }

        /// <summary>On the outcome where a test says <paramref name="var"/> == <paramref name="value"/>, the state learns it.</summary>
        public void Learn(FlowState state, IndexVar var, long value, TextSpan site)
        {
            if (state.HasEqual(var))
            {
                return;
            }

            RewriteAll(state, index => ReferenceEquals(index.Var, var) ? IndexExpr.Const(value + index.Offset) : index, site, var);
            RewriteEqualities(state, var, e => IndexExpr.Const(value + e.Offset));
            state.SetEqual(var, IndexExpr.Const(value));
        }

        /// <summary>
        /// Adds to a must-set the same facts expressed in the variables whose equalities a merge loses: with
        /// <c>level == 4</c>, <c>ptes[3]</c> is also <c>ptes[level - 1]</c>, which is what the loop body's facts say.
        /// </summary>
        public IdSet<ValueId> Saturate(IdSet<ValueId> validated, Equalities equalities, List<IndexVar> variables)
        {
            IdSet<ValueId> result = validated;
            foreach (IndexVar var in variables)
            {
                if (!equalities.TryGet(var, out IndexExpr equal))
                {
                    continue;
                }

                foreach (ValueId id in validated)
                {
                    if (id is not InitialValue initial)
                    {
                        continue;
                    }

                    Step[] steps = initial.Location.Steps;
                    for (int s = 0; s < steps.Length; s++)
                    {
                        if (!steps[s].IsIndex)
                        {
                            continue;
                        }

                        IndexExpr index = steps[s].Index;
                        bool matches = equal.IsConst ? index.IsConst : ReferenceEquals(index.Var, equal.Var);
                        if (matches)
                        {
                            AccessPath rewritten = _tables.Paths.Replace(initial.Location, s, steps[s].WithIndex(new IndexExpr(var, index.Offset - equal.Offset)));
                            _tables.Vars.Mention(var);
                            result = result.Add(Initial(rewritten, initial.Epoch));
                        }
                    }
                }
            }

            return result;
        }

        /// <summary>The value an [UnlockedGuestPte] location held at <paramref name="epoch"/> (its index variables noted as used).</summary>
        public InitialValue Initial(AccessPath path, Epoch epoch)
        {
            _tables.Vars.Mention(path);
            return _tables.Values.Initial(path, epoch);
        }

        /// <summary>The origin "what <paramref name="target"/> held at <paramref name="epoch"/>" (its index variables noted as used).</summary>
        public Origin OriginOf(AccessPath? target, Epoch epoch, IndexExpr? shift = null)
        {
            if (target != null)
            {
                _tables.Vars.Mention(target);
            }

            if (shift?.Var is IndexVar var)
            {
                _tables.Vars.Mention(var);
            }

            return _tables.Values.OriginOf(target, epoch, shift);
        }

        /// <summary>A variable that equals <paramref name="var"/> plus a constant (the first one), to re-express it in.</summary>
        private static (IndexVar Var, long Offset)? Substitute(FlowState state, IndexVar var)
        {
            foreach (IndexVar user in state.Equalities.UsersOf(var))
            {
                state.TryGetEqual(user, out IndexExpr value);
                return (user, value.Offset);
            }

            return null;
        }

        private static void RewriteEqualities(FlowState state, IndexVar var, Func<IndexExpr, IndexExpr> rewrite)
        {
            foreach (IndexVar user in state.Equalities.UsersOf(var))
            {
                state.TryGetEqual(user, out IndexExpr value);
                state.SetEqual(user, rewrite(value));
            }
        }

        /// <summary>Applies an index rewrite to everything in the state; values whose index is lost become opaque.</summary>
        private void RewriteAll(FlowState state, Func<IndexExpr, IndexExpr?> rewrite, TextSpan site, IndexVar variable)
        {
            if (!_tables.Vars.IsMentioned(variable) && !CapturesMention(state, variable))
            {
                // Nothing was ever expressed in this variable: nothing to rewrite.
                return;
            }

            var rewriter = new StateRewriter(this, _tables, rewrite, site);
            rewriter.Apply(state);
        }

        private static bool CapturesMention(FlowState state, IndexVar variable)
        {
            foreach (KeyValuePair<int, AbstractValue> pair in IntMap<AbstractValue>.Entries(state.Captures))
            {
                if (ReferenceEquals(pair.Value.Int?.Var, variable))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
