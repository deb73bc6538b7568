using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Locations
{
    /// <summary>
    /// Reads and writes of tracked locations: what reading a location may give (what was stored there or in a location
    /// that may be the same, or what its struct prefix's origin held), and what a store, a struct copy or a call that may
    /// rewrite a struct does to the state.
    /// </summary>
    internal sealed class AbstractMemory
    {
        /// <summary>Past this many values one location holds one stand-in value that is never re-validated.</summary>
        private const int MaxIdsPerLocation = 24;

        private readonly AnalysisTables _tables;
        private readonly IndexTracker _indexes;

        public AbstractMemory(AnalysisTables tables, IndexTracker indexes)
        {
            _tables = tables;
            _indexes = indexes;
        }

        /// <summary>The guest PTE values reading <paramref name="path"/> may give.</summary>
        public IdSet<ValueId> Read(AccessPath path, FlowState state)
        {
            var result = IdSet<ValueId>.Empty;
            if (state.Locations.HasRoot(path))
            {
                for (int k = path.Length; k >= 0; k--)
                {
                    AccessPath prefix = path.Prefix(k);
                    if (state.Locations.TryGet(prefix, out StoredValues exact))
                    {
                        return result.Union(exact.Ids);
                    }

                    foreach (StoredValues entry in state.Locations.Under(path))
                    {
                        if (entry.Path.Length == k && entry.Path.MayAlias(prefix))
                        {
                            result = result.Union(entry.Ids);
                        }
                    }
                }
            }

            return result.Union(DefaultIds(path, state));
        }

        /// <summary>What <paramref name="path"/> holds by its struct prefix's origins (the location itself at entry when none is recorded).</summary>
        public IdSet<ValueId> DefaultIds(AccessPath path, FlowState state)
        {
            if (!state.Contents.HasRoot(path))
            {
                // Nothing copied into or rewritten under its root: what it held at entry (the same for every state).
                return path.AtEntry ??= DefaultIds(path, IdSet<Origin>.Of(_indexes.OriginOf(path, Epoch.AtEntry)), path.Length);
            }

            IdSet<Origin> origins = DefaultOrigins(path, state, out int skip);
            return DefaultIds(path, origins, skip);
        }

        private IdSet<ValueId> DefaultIds(AccessPath path, IdSet<Origin> origins, int skip)
        {
            var result = IdSet<ValueId>.Empty;
            foreach (Origin origin in origins)
            {
                if (origin.Unfollowed != null)
                {
                    result = result.Add(origin.Unfollowed);
                    continue;
                }

                if (origin.Target == null || _tables.Paths.Concat(origin.Target, path, skip, origin.Shift) is not AccessPath target)
                {
                    continue;
                }

                int length = ValuePathLength(target);
                if (length >= 0)
                {
                    result = result.Add(_indexes.Initial(target.Prefix(length), origin.Epoch));
                }
            }

            return result;
        }

        /// <summary>What the content at <paramref name="path"/> comes from, as origins targeting that content itself.</summary>
        public IdSet<Origin> OriginsOf(AccessPath path, FlowState state)
        {
            IdSet<Origin> origins = DefaultOrigins(path, state, out int skip);
            if (skip == path.Length)
            {
                return origins;
            }

            var result = IdSet<Origin>.Empty;
            foreach (Origin origin in origins)
            {
                if (origin.Target == null)
                {
                    result = result.Add(origin);
                }
                else if (_tables.Paths.Concat(origin.Target, path, skip, origin.Shift) is AccessPath target)
                {
                    result = result.Add(_indexes.OriginOf(target, origin.Epoch));
                }
            }

            return result;
        }

        /// <summary>The origins recorded for the longest prefix of <paramref name="path"/>, and that prefix's length.</summary>
        private IdSet<Origin> DefaultOrigins(AccessPath path, FlowState state, out int skip)
        {
            if (state.Contents.HasRoot(path))
            {
                for (int k = path.Length; k >= 0; k--)
                {
                    if (state.Contents.TryGet(path.Prefix(k), out StructContent entry))
                    {
                        skip = k;
                        return entry.Origins;
                    }
                }
            }

            skip = path.Length;
            return IdSet<Origin>.Of(_indexes.OriginOf(path, Epoch.AtEntry));
        }

        /// <summary>
        /// How many steps of <paramref name="path"/> name the guest PTE value it reads: up to the first [UnlockedGuestPte]
        /// member (or an annotated root), then through the element indexes of containers; -1 when it reads no such value
        /// (nothing annotated, or a whole container).
        /// </summary>
        public int ValuePathLength(AccessPath path)
        {
            Step[] steps = path.Steps;
            int position = -1;
            if (path.Root.Annotated)
            {
                position = 0;
            }
            else
            {
                for (int i = 0; i < steps.Length; i++)
                {
                    if (steps[i].Annotated)
                    {
                        position = i + 1;
                        break;
                    }
                }
            }

            if (position < 0)
            {
                return -1;
            }

            while (position < steps.Length && steps[position].IsIndex && _tables.Known.IsContainer(path.TypeAt(position)))
            {
                position++;
            }

            return _tables.Known.IsContainer(path.TypeAt(position)) ? -1 : position;
        }

        /// <summary>
        /// Stores <paramref name="value"/> at <paramref name="path"/> (a strong update). A struct, or a span, array or
        /// pointer, takes its source's content (a view from its offset on); a struct made member by member takes each
        /// member's value.
        /// </summary>
        public void Store(AccessPath path, AbstractValue value, IOperation? source, FlowState state, TextSpan site)
        {
            ITypeSymbol? type = path.Type;
            bool container = _tables.Known.IsContainer(type);
            if (!value.Members.IsDefault && !container)
            {
                StoreMembers(path, value, state, site);
                return;
            }

            if (value.Elements != null && container && type is not IPointerTypeSymbol)
            {
                StoreElements(path, value.Elements, state, site);
                return;
            }

            bool structValue = (IsStructValue(type) || container) && !value.HasIds;
            if (structValue)
            {
                _indexes.KillUnder(path, state, site);
            }

            AccessPath? from = structValue ? value.Location : null;
            IndexExpr? shift = value.ElementOffset;
            IdSet<Origin> copiedOrigins = from != null ? Shifted(OriginsOf(from, state), shift, site) : IdSet<Origin>.Empty;
            List<StoredValues>? copied = null;
            if (from != null)
            {
                copied = new List<StoredValues>();
                foreach (StoredValues entry in state.Locations.Under(from))
                {
                    if (from.IsPrefixOf(entry.Path))
                    {
                        copied.Add(entry);
                    }
                }
            }

            RemoveUnder(path, state);
            if (structValue)
            {
                if (from != null)
                {
                    _tables.Vars.Mention(path);
                    state.Contents = state.Contents.Set(new StructContent(path, copiedOrigins));
                    IndexExpr? back = shift is IndexExpr s ? new IndexExpr(s.Var, -s.Offset) : null;
                    foreach (StoredValues entry in copied!)
                    {
                        // The source's element i is the view's element i - shift (a variable shift cannot be undone: not copied).
                        if ((back == null || back.Value.IsConst) && _tables.Paths.Concat(path, entry.Path, from.Length, back) is AccessPath rebased)
                        {
                            state.Locations = state.Locations.Set(new StoredValues(rebased, entry.Ids));
                        }
                    }
                }
                else
                {
                    bool clean = Unwrap(source) is null or IObjectCreationOperation or IDefaultValueOperation or ILiteralOperation or IArrayCreationOperation
                        || source is { Kind: OperationKind.None, Syntax: StackAllocArrayCreationExpressionSyntax };
                    Origin origin = _indexes.OriginOf(clean ? null : path, new Epoch(EpochKind.Built, site));
                    state.Contents = state.Contents.Set(new StructContent(path, IdSet<Origin>.Of(origin)));
                }
            }
            else if (value.HasIds || !DefaultIds(path, state).IsEmpty || AnyAlias(path, state))
            {
                _tables.Vars.Mention(path);
                state.Locations = state.Locations.Set(new StoredValues(path, Widen(value.Ids, path)));
            }

            if (KnownSymbols.IsIntegral(type))
            {
                _indexes.Assign(_tables.Vars.For(path), value.Int, state, site);
            }
            else if (type?.SpecialType == SpecialType.System_Boolean && value.Outcome != null && (!value.Outcome.IsEmpty || value.Outcome.IsSwitch))
            {
                state.Outcomes = state.Outcomes.Set(new OutcomeFact(path, value.Outcome));
            }
        }

        /// <summary>The content at <paramref name="path"/> went through code the analysis does not follow: reading it gives <paramref name="value"/>.</summary>
        public void StoreUnfollowed(AccessPath path, UnfollowedValue value, FlowState state, TextSpan site)
        {
            _indexes.KillUnder(path, state, site);
            RemoveUnder(path, state);
            state.Contents = state.Contents.Set(new StructContent(path, IdSet<Origin>.Of(_tables.Values.UnfollowedOrigin(value))));
        }

        /// <summary>A struct made member by member: fresh (clean) but for each member's value.</summary>
        private void StoreMembers(AccessPath path, AbstractValue value, FlowState state, TextSpan site)
        {
            _indexes.KillUnder(path, state, site);
            RemoveUnder(path, state);
            state.Contents = state.Contents.Set(new StructContent(path, IdSet<Origin>.Of(_tables.Values.Clean)));
            foreach (MemberValue member in value.Members)
            {
                var step = Step.ForMember(member.Member, KnownSymbols.TypeOf(member.Member), _tables.Known.IsUnlocked(member.Member), path.Type?.IsValueType == true);
                Store(_tables.Paths.Append(path, step), member.Value, null, state, site);
            }
        }

        /// <summary>A new array or span made from its elements: fresh (clean) but for each element's value at its constant index.</summary>
        private void StoreElements(AccessPath path, ElementValues elements, FlowState state, TextSpan site)
        {
            _indexes.KillUnder(path, state, site);
            RemoveUnder(path, state);
            state.Contents = state.Contents.Set(new StructContent(path, IdSet<Origin>.Of(_tables.Values.Clean)));
            ITypeSymbol? elementType = KnownSymbols.ElementType(path.Type);
            for (int i = 0; i < elements.Values.Length; i++)
            {
                Store(_tables.Paths.Append(path, Step.ForIndex(IndexExpr.Const(i), elementType)), elements.Values[i], null, state, site);
            }
        }

        /// <summary>The origins of a view's source moved by the view's offset (two variable offsets cannot be added: not followed).</summary>
        private IdSet<Origin> Shifted(IdSet<Origin> origins, IndexExpr? shift, TextSpan site)
        {
            if (shift == null)
            {
                return origins;
            }

            var result = IdSet<Origin>.Empty;
            foreach (Origin origin in origins)
            {
                if (origin.Target == null)
                {
                    result = result.Add(origin);
                    continue;
                }

                IndexExpr? total = origin.Shift is IndexExpr own ? IndexExpr.Plus(own, shift.Value) : shift;
                result = result.Add(total != null
                    ? _indexes.OriginOf(origin.Target, origin.Epoch, total)
                    : _tables.Values.UnfollowedOrigin(_tables.Values.Unfollowed(site, "it is read through a view of a view, both at offsets in variables, which the analysis does not add up", origin.Target.Display)));
            }

            return result;
        }

        /// <summary>A call may have rewritten the struct at <paramref name="path"/>: its annotated parts hold new unlocked values.</summary>
        public void Invalidate(AccessPath path, FlowState state, TextSpan site)
        {
            _indexes.KillUnder(path, state, site);
            RemoveUnder(path, state);
            _tables.Vars.Mention(path);
            Origin origin = _indexes.OriginOf(path, new Epoch(EpochKind.Rewritten, site));
            state.Contents = state.Contents.Set(new StructContent(path, IdSet<Origin>.Of(origin)));
        }

        /// <summary>
        /// Whether anything under <paramref name="location"/> may hold a guest PTE value: values stored there or in its
        /// members, content the analysis does not follow, and, with <paramref name="byType"/>, what its type's
        /// [UnlockedGuestPte] members or a copy's source hold (values that any code reading it sees by annotation).
        /// </summary>
        public bool MayHoldIds(AccessPath location, FlowState state, bool byType)
        {
            if (!Read(location, state).IsEmpty)
            {
                return true;
            }

            foreach (StoredValues entry in state.Locations.Under(location))
            {
                if (location.IsPrefixOf(entry.Path) && !entry.Ids.IsEmpty)
                {
                    return true;
                }
            }

            foreach (StructContent entry in state.Contents.Under(location))
            {
                foreach (Origin origin in entry.Origins)
                {
                    if (location.IsPrefixOf(entry.Path) && (origin.Unfollowed != null || (byType && origin.Target != null && !ReferenceEquals(origin.Target, entry.Path))))
                    {
                        return true;
                    }
                }
            }

            if (byType && location.Type is INamedTypeSymbol type)
            {
                foreach (ISymbol member in type.GetMembers())
                {
                    if (member is IFieldSymbol or IPropertySymbol && _tables.Known.IsUnlocked(member))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        /// <summary>The values a location may hold, or one stand-in when there are too many to keep apart.</summary>
        public IdSet<ValueId> Widen(IdSet<ValueId> ids, AccessPath location) =>
            ids.Count <= MaxIdsPerLocation ? ids : IdSet<ValueId>.Of(_tables.Values.Widened(location, ids.First.Display));

        public static bool IsStructValue(ITypeSymbol? type) =>
            type != null && type.IsValueType && type.SpecialType == SpecialType.None && type.TypeKind is TypeKind.Struct;

        private static void RemoveUnder(AccessPath path, FlowState state)
        {
            state.Locations = state.Locations.RemoveUnder(path, entry => path.IsPrefixOf(entry.Path));
            state.Contents = state.Contents.RemoveUnder(path, entry => path.IsPrefixOf(entry.Path));
            state.Outcomes = state.Outcomes.RemoveUnder(path, fact => ReferenceEquals(fact.Path, path));
        }

        private static bool AnyAlias(AccessPath path, FlowState state)
        {
            foreach (StoredValues entry in state.Locations.Under(path))
            {
                if (entry.Path.MayAlias(path))
                {
                    return true;
                }
            }

            return false;
        }

        private static IOperation? Unwrap(IOperation? operation)
        {
            while (operation is IConversionOperation conversion)
            {
                operation = conversion.Operand;
            }

            return operation;
        }
    }
}
