using System.Collections.Generic;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;

namespace ShadowMmu.Analyzers.Dataflow.State
{
    /// <summary>
    /// What the state knows integer variables equal: a constant, or another variable plus a constant (a must-fact). Also
    /// indexed the other way, by the variable a value is expressed in, and, for the unroll context, the constants of the
    /// context variables: changing one variable, or telling a block's context, looks only at what concerns it.
    /// </summary>
    internal readonly struct Equalities
    {
        private readonly IntMap<IndexExpr>? _values;
        private readonly IntMap<IdSet<IndexVar>>? _users;
        private readonly IntMap<long>? _constants;

        private Equalities(IntMap<IndexExpr>? values, IntMap<IdSet<IndexVar>>? users, IntMap<long>? constants)
        {
            _values = values;
            _users = users;
            _constants = constants;
        }

        public bool IsEmpty => _values == null;

        /// <summary>The context variables known constant, by variable id (see <see cref="Worklist.UnrollContext"/>).</summary>
        public IntMap<long>? ContextConstants => _constants;

        public bool TryGet(IndexVar var, out IndexExpr value) => IntMap<IndexExpr>.TryGet(_values, var.Id, out value);

        public bool Contains(IndexVar var) => IntMap<IndexExpr>.Contains(_values, var.Id);

        /// <summary>The variables whose value is expressed in <paramref name="var"/> (<c>x == var + c</c>), in id order.</summary>
        public IdSet<IndexVar> UsersOf(IndexVar var) => IntMap<IdSet<IndexVar>>.TryGet(_users, var.Id, out IdSet<IndexVar> users) ? users : IdSet<IndexVar>.Empty;

        public Equalities Set(IndexVar var, IndexExpr value)
        {
            Equalities without = Remove(var);
            IntMap<IdSet<IndexVar>>? users = without._users;
            if (value.Var is IndexVar target)
            {
                users = IntMap<IdSet<IndexVar>>.Set(users, target.Id, without.UsersOf(target).Add(var));
            }

            IntMap<long>? constants = var.IsContextVariable && value.IsConst ? IntMap<long>.Set(without._constants, var.Id, value.Offset) : without._constants;
            return new Equalities(IntMap<IndexExpr>.Set(without._values, var.Id, value), users, constants);
        }

        public Equalities Remove(IndexVar var)
        {
            if (!TryGet(var, out IndexExpr old))
            {
                return this;
            }

            IntMap<IdSet<IndexVar>>? users = _users;
            if (old.Var is IndexVar target)
            {
                IdSet<IndexVar> rest = UsersOf(target).Remove(var);
                users = rest.IsEmpty ? IntMap<IdSet<IndexVar>>.Remove(users, target.Id) : IntMap<IdSet<IndexVar>>.Set(users, target.Id, rest);
            }

            return new Equalities(IntMap<IndexExpr>.Remove(_values, var.Id), users, IntMap<long>.Remove(_constants, var.Id));
        }

        /// <summary>The equalities that hold on both sides; <paramref name="differing"/> gets the variables known on one side only or differently.</summary>
        public static Equalities Merge(Equalities a, Equalities b, IndexVarTable vars, List<IndexVar> differing)
        {
            var dropped = new List<IndexVar>();
            IntMap<IndexExpr>.Merge(
                a._values,
                b._values,
                (key, x, y) =>
                {
                    if (x.Equals(y))
                    {
                        return x;
                    }

                    dropped.Add(vars[key]);
                    return IntMap<IndexExpr>.Optional.None;
                },
                (key, x) =>
                {
                    dropped.Add(vars[key]);
                    return IntMap<IndexExpr>.Optional.None;
                },
                (key, _) =>
                {
                    differing.Add(vars[key]);
                    return IntMap<IndexExpr>.Optional.None;
                });

            // What the left side knows, without what the right side does not know the same.
            Equalities result = a;
            foreach (IndexVar var in dropped)
            {
                result = result.Remove(var);
            }

            differing.AddRange(dropped);
            return result;
        }

        public static bool SameAs(Equalities a, Equalities b) => IntMap<IndexExpr>.SameAs(a._values, b._values, (x, y) => x.Equals(y));
    }
}
