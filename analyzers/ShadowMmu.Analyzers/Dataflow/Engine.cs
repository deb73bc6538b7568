using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace ShadowMmu.Analyzers.Dataflow
{
    /// <summary>A use, under the lock, of a guest PTE value not re-validated in that lock region (becomes MMU0001).</summary>
    internal sealed class Finding
    {
        public Finding(IOperation operand, ValueId id, int region, string detail, string? fixValue)
        {
            Operand = operand;
            Id = id;
            Region = region;
            Detail = detail;
            FixValue = fixValue;
        }

        public IOperation Operand { get; }

        public ValueId Id { get; }

        public int Region { get; }

        public string Detail { get; }

        public string? FixValue { get; }
    }

    /// <summary>
    /// The MMU0001 dataflow over one function's control-flow graph. A forward analysis to a fixed point whose state holds
    /// which guest PTE values (read without the lock) each tracked location may hold (a may-analysis: locals, struct
    /// fields, elements with constant or loop-variable indexes) and which values were re-validated in the current lock
    /// region on every path (a must-analysis). Indexes are kept symbolic (<c>level - 1</c>) and shifted when the loop
    /// variable steps, so KVM's loop over levels is followed across iterations without unrolling.
    /// </summary>
    internal sealed class Engine
    {
        private const int MaxIdsPerLocation = 24;

        private static readonly ImmutableSortedSet<string> NoIds = Cond.None;

        private readonly ControlFlowGraph _cfg;
        private readonly FunctionInfo _fn;
        private readonly KnownSymbols _known;
        private readonly CancellationToken _cancellation;
        private readonly Dictionary<string, ValueId> _ids = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Origin> _origins = new(StringComparer.Ordinal);
        private readonly Dictionary<string, VarRef> _vars = new(StringComparer.Ordinal);
        private readonly Dictionary<TextSpan, (string Key, Path? Local)> _firstUnvalidated = new();
        private readonly HashSet<TextSpan> _reported = new();
        private readonly HashSet<(int Region, int Position, string Key)> _revalidations = new();
        private readonly List<Finding> _findings = new();
        private readonly HashSet<string> _mentioned = new(StringComparer.Ordinal);
        private readonly HashSet<string> _contextVariables = new(StringComparer.Ordinal);
        private bool _final;

        public Engine(ControlFlowGraph cfg, FunctionInfo fn, KnownSymbols known, CancellationToken cancellation)
        {
            _cfg = cfg;
            _fn = fn;
            _known = known;
            _cancellation = cancellation;
            FindContextVariables();
        }

        /// <summary>
        /// The integer variables whose constant values split states into contexts (loop unrolling): locals and parameters
        /// used in element indexes, and variables compared with constants.
        /// </summary>
        private void FindContextVariables()
        {
            foreach (IOperation operation in _fn.Body.Descendants())
            {
                IOperation? index = operation switch
                {
                    IArrayElementReferenceOperation element when element.Indices.Length == 1 => element.Indices[0],
                    IInlineArrayAccessOperation inline => inline.Argument,
                    IPropertyReferenceOperation indexer when indexer.Arguments.Length == 1 && _known.IsSpan(indexer.Instance?.Type) => indexer.Arguments[0].Value,
                    IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } binary when binary.RightOperand.ConstantValue.HasValue => binary.LeftOperand,
                    IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } binary when binary.LeftOperand.ConstantValue.HasValue => binary.RightOperand,
                    _ => null,
                };
                if (index == null)
                {
                    continue;
                }

                foreach (IOperation part in index.DescendantsAndSelf())
                {
                    if (StaticKey(part) is string key)
                    {
                        _contextVariables.Add(key);
                    }
                }
            }
        }

        /// <summary>The key a local, parameter or field path of one would get, without a state.</summary>
        private string? StaticKey(IOperation operation) => operation switch
        {
            ILocalReferenceOperation local => RootOf(local.Local).Key,
            IParameterReferenceOperation parameter => RootOf(parameter.Parameter).Key,
            IFieldReferenceOperation { Field.IsStatic: false, Instance: IOperation instance } field when StaticKey(instance) is string receiver => receiver + "." + field.Field.Name,
            _ => null,
        };

        private void Mention(Path path)
        {
            foreach (Sel sel in path.Sels)
            {
                if (sel.IsIndex && sel.Index.Var != null)
                {
                    _mentioned.Add(sel.Index.Var.Key);
                }
            }
        }

        /// <summary>Runs the analysis; the findings, or an empty list when the function is too irregular to finish in budget.</summary>
        public List<Finding> Run()
        {
            ImmutableArray<BasicBlock> blocks = _cfg.Blocks;
            int n = blocks.Length;

            // States per block and context: a context is the constants the integer variables hold, so that a loop with
            // constant bounds is followed iteration by iteration (unrolled); past MaxContexts a block keeps one merged
            // state and indexes stay symbolic.
            var inStates = new Dictionary<string, State>?[n];
            Dictionary<int, List<int>> handlersOf = HandlerEntries();
            var worklist = new SortedSet<(int Block, string Context)>();
            inStates[0] = new Dictionary<string, State>(StringComparer.Ordinal) { [string.Empty] = new State() };
            worklist.Add((0, string.Empty));
            long budget = 1000L + (60L * n);

            while (worklist.Count > 0)
            {
                _cancellation.ThrowIfCancellationRequested();
                (int i, string context) = worklist.Min;
                worklist.Remove(worklist.Min);
                if (--budget < 0)
                {
                    return new List<Finding>();
                }

                if (inStates[i] is not Dictionary<string, State> contexts || !contexts.TryGetValue(context, out State? input))
                {
                    continue;
                }

                BasicBlock block = blocks[i];
                State state = input.Clone();
                ProcessOperations(block, state);
                State after = state.Clone();
                foreach ((BasicBlock? destination, State successor) in Branch(block, state))
                {
                    Propagate(destination?.Ordinal ?? -1, successor, inStates, worklist);
                }

                if (handlersOf.TryGetValue(i, out List<int>? handlers))
                {
                    foreach (int handler in handlers)
                    {
                        Propagate(handler, input, inStates, worklist);
                        Propagate(handler, after, inStates, worklist);
                    }
                }
            }

            // Report from the states at the fixed point.
            _final = true;
            for (int i = 0; i < n; i++)
            {
                if (inStates[i] is Dictionary<string, State> contexts)
                {
                    foreach (string context in contexts.Keys.ToList())
                    {
                        State state = contexts[context].Clone();
                        ProcessOperations(blocks[i], state);
                        Branch(blocks[i], state);
                    }
                }
            }

            return _findings;
        }

        private const int MaxContexts = 8;
        private const string Collapsed = "*";

        private string ContextOf(State state)
        {
            if (state.Eq.Count == 0)
            {
                return string.Empty;
            }

            var parts = new List<string>();
            foreach (var pair in state.Eq)
            {
                if (pair.Value.IsConst && _contextVariables.Contains(pair.Key))
                {
                    parts.Add(pair.Key + "=" + pair.Value.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            parts.Sort(StringComparer.Ordinal);
            return string.Join(";", parts);
        }

        private void Propagate(int destination, State state, Dictionary<string, State>?[] inStates, SortedSet<(int Block, string Context)> worklist)
        {
            if (destination < 0)
            {
                return;
            }

            Dictionary<string, State> contexts = inStates[destination] ??= new Dictionary<string, State>(StringComparer.Ordinal);
            string context = contexts.ContainsKey(Collapsed) ? Collapsed : ContextOf(state);
            if (!contexts.ContainsKey(context) && contexts.Count >= MaxContexts)
            {
                // Too many contexts: merge them all into one and go on symbolically.
                State all = state.Clone();
                foreach (string key in contexts.Keys.ToList())
                {
                    all = Merge(all, contexts[key]);
                    worklist.Remove((destination, key));
                }

                contexts.Clear();
                contexts[Collapsed] = all;
                worklist.Add((destination, Collapsed));
                return;
            }

            State? old = contexts.TryGetValue(context, out State? existing) ? existing : null;
            State merged = old == null ? state.Clone() : Merge(old, state);
            if (old == null || !merged.SameAs(old))
            {
                contexts[context] = merged;
                worklist.Add((destination, context));
            }
        }

        /// <summary>For each block inside a try region: the entry blocks of its catch and finally handlers.</summary>
        private Dictionary<int, List<int>> HandlerEntries()
        {
            var result = new Dictionary<int, List<int>>();
            var pending = new Stack<ControlFlowRegion>();
            pending.Push(_cfg.Root);
            while (pending.Count > 0)
            {
                ControlFlowRegion region = pending.Pop();
                foreach (ControlFlowRegion nested in region.NestedRegions)
                {
                    pending.Push(nested);
                }

                if (region.Kind is not (ControlFlowRegionKind.TryAndCatch or ControlFlowRegionKind.TryAndFinally) || region.NestedRegions.Length < 2)
                {
                    continue;
                }

                ControlFlowRegion tryRegion = region.NestedRegions[0];
                for (int h = 1; h < region.NestedRegions.Length; h++)
                {
                    int entry = region.NestedRegions[h].FirstBlockOrdinal;
                    for (int b = tryRegion.FirstBlockOrdinal; b <= tryRegion.LastBlockOrdinal; b++)
                    {
                        if (!result.TryGetValue(b, out List<int>? list))
                        {
                            result[b] = list = new List<int>();
                        }

                        list.Add(entry);
                    }
                }
            }

            return result;
        }

        private void ProcessOperations(BasicBlock block, State state)
        {
            foreach (IOperation operation in block.Operations)
            {
                Enter(operation, state);
                Eval(operation, state);
            }
        }

        /// <summary>The block's successors with their states (a conditional branch adds what its outcome re-validated).</summary>
        private IEnumerable<(BasicBlock? Destination, State State)> Branch(BasicBlock block, State state)
        {
            IOperation? branchValue = block.BranchValue;
            if (block.ConditionKind != ControlFlowConditionKind.None && branchValue != null)
            {
                Enter(branchValue, state);
                AbsVal value = Eval(branchValue, state);
                bool jumpWhen = block.ConditionKind == ControlFlowConditionKind.WhenTrue;
                bool? constant = branchValue.ConstantValue.HasValue && branchValue.ConstantValue.Value is bool b ? b : value.Bool;
                var results = new List<(BasicBlock?, State)>(2);
                (VarRef Var, long Value, bool WhenEqual)? test = EqualityTest(branchValue, state);
                if (constant != !jumpWhen && block.ConditionalSuccessor != null)
                {
                    results.Add((block.ConditionalSuccessor.Destination, Refine(WithFacts(state.Clone(), value.Cond, jumpWhen), test, jumpWhen, branchValue)));
                }

                if (constant != jumpWhen && block.FallThroughSuccessor != null)
                {
                    results.Add((block.FallThroughSuccessor.Destination, Refine(WithFacts(state, value.Cond, !jumpWhen), test, !jumpWhen, branchValue)));
                }

                return results;
            }

            if (branchValue != null)
            {
                Enter(branchValue, state);
                AbsVal value = Eval(branchValue, state);
                if (block.FallThroughSuccessor?.Semantics == ControlFlowBranchSemantics.Return)
                {
                    Use(branchValue, value, state);
                }
            }

            return block.FallThroughSuccessor?.Destination is BasicBlock next
                ? new (BasicBlock?, State)[] { (next, state) }
                : Array.Empty<(BasicBlock?, State)>();
        }

        /// <summary>A branch on <c>x == c</c> or <c>x != c</c> for an integer variable: which outcome makes <c>x</c> equal to <c>c</c>.</summary>
        private (VarRef Var, long Value, bool WhenEqual)? EqualityTest(IOperation condition, State state)
        {
            if (condition is not IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } binary)
            {
                return null;
            }

            IOperation? variable = binary.RightOperand.ConstantValue.HasValue ? binary.LeftOperand : binary.LeftOperand.ConstantValue.HasValue ? binary.RightOperand : null;
            IOperation? constant = variable == binary.LeftOperand ? binary.RightOperand : binary.LeftOperand;
            while (variable is IConversionOperation conversion)
            {
                variable = conversion.Operand;
            }

            if (variable == null || !KnownSymbols.IsIntegral(variable.Type) || Eval(constant, state.Clone()).Int is not IndexExpr { IsConst: true } value)
            {
                return null;
            }

            Path? path = PathOf(variable, state.Clone());
            if (path == null || state.Eq.ContainsKey(path.Key))
            {
                return null;
            }

            return (VarFor(path), value.Offset, binary.OperatorKind == BinaryOperatorKind.Equals);
        }

        /// <summary>On the outcome where the test says <c>x == c</c>, the state learns it (indexes in <c>x</c> become constants).</summary>
        private State Refine(State state, (VarRef Var, long Value, bool WhenEqual)? test, bool outcome, IOperation condition)
        {
            if (test is not (VarRef var, long value, bool whenEqual) || outcome != whenEqual || state.Eq.ContainsKey(var.Key))
            {
                return state;
            }

            RewriteAll(state, index => index.Var?.Key == var.Key ? IndexExpr.Const(value + index.Offset) : index, Site(condition), var.Key);
            foreach (string other in state.Eq.Keys.ToList())
            {
                IndexExpr e = state.Eq[other];
                if (e.Var?.Key == var.Key)
                {
                    state.Eq[other] = IndexExpr.Const(value + e.Offset);
                }
            }

            state.Eq[var.Key] = IndexExpr.Const(value);
            return state;
        }

        private static State WithFacts(State state, Cond? cond, bool outcome)
        {
            if (cond != null && state.Region >= 0)
            {
                state.Validated.UnionWith(outcome ? cond.WhenTrue : cond.WhenFalse);
            }

            return state;
        }

        /// <summary>Moves the state into the lock region of <paramref name="operation"/>: entering or leaving one forgets what was re-validated.</summary>
        private void Enter(IOperation operation, State state)
        {
            int region = _fn.RegionOf(operation.Syntax.Span);
            if (region != state.Region)
            {
                state.Validated.Clear();
                state.BoolFacts.Clear();
                state.Region = region;
            }
        }

        // ---------------------------------------------------------------- merge

        private State Merge(State a, State b)
        {
            var result = new State { Region = a.Region == b.Region ? a.Region : State.Mixed };

            // Equalities that hold on both sides survive; the variables that differ are where loop indexes live.
            var differing = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var pair in a.Eq)
            {
                if (b.Eq.TryGetValue(pair.Key, out IndexExpr other) && other.Equals(pair.Value))
                {
                    result.Eq[pair.Key] = pair.Value;
                }
                else
                {
                    differing.Add(pair.Key);
                }
            }

            foreach (string key in b.Eq.Keys)
            {
                if (!a.Eq.ContainsKey(key))
                {
                    differing.Add(key);
                }
            }

            if (result.Region != State.Mixed)
            {
                HashSet<string> left = differing.Count == 0 ? a.Validated : Saturate(a.Validated, a.Eq, differing);
                HashSet<string> right = differing.Count == 0 ? b.Validated : Saturate(b.Validated, b.Eq, differing);
                result.Validated = new HashSet<string>(left, StringComparer.Ordinal);
                result.Validated.IntersectWith(right);
            }

            foreach (string key in a.Locs.Keys.Union(b.Locs.Keys))
            {
                Path path = a.Locs.TryGetValue(key, out LocEntry? ea) ? ea.Path : b.Locs[key].Path;
                ImmutableSortedSet<string> ids = (ea != null ? ea.Ids : ReadIds(path, a))
                    .Union(b.Locs.TryGetValue(key, out LocEntry? eb) ? eb.Ids : ReadIds(path, b));
                result.Locs[key] = new LocEntry(path, Widen(ids, key));
            }

            foreach (string key in a.Defaults.Keys.Union(b.Defaults.Keys))
            {
                Path prefix = a.Defaults.TryGetValue(key, out DefEntry? da) ? da.Prefix : b.Defaults[key].Prefix;
                ImmutableSortedSet<string> origins = (da != null ? da.Origins : OriginsOf(prefix, a))
                    .Union(b.Defaults.TryGetValue(key, out DefEntry? db) ? db.Origins : OriginsOf(prefix, b));
                result.Defaults[key] = new DefEntry(prefix, origins);
            }

            foreach (var pair in a.Captures)
            {
                result.Captures[pair.Key] = b.Captures.TryGetValue(pair.Key, out AbsVal other) ? MergeValues(pair.Value, other) : pair.Value;
            }

            foreach (var pair in b.Captures)
            {
                if (!result.Captures.ContainsKey(pair.Key))
                {
                    result.Captures[pair.Key] = pair.Value;
                }
            }

            if (result.Region != State.Mixed)
            {
                foreach (var pair in a.BoolFacts)
                {
                    if (b.BoolFacts.TryGetValue(pair.Key, out Cond? other))
                    {
                        result.BoolFacts[pair.Key] = pair.Value.Intersect(other);
                    }
                }
            }

            return result;
        }

        private static AbsVal MergeValues(AbsVal a, AbsVal b) => new(
            (a.Ids ?? NoIds).Union(b.Ids ?? NoIds),
            Nullable.Equals(a.Int, b.Int) ? a.Int : null,
            a.Cond != null && b.Cond != null ? a.Cond.Intersect(b.Cond) : null,
            a.Loc?.Key == b.Loc?.Key ? a.Loc : null);

        private ImmutableSortedSet<string> Widen(ImmutableSortedSet<string> ids, string locationKey)
        {
            if (ids.Count <= MaxIdsPerLocation)
            {
                return ids;
            }

            ValueId first = _ids[ids[0]];
            return ImmutableSortedSet.Create(StringComparer.Ordinal, Register(new ValueId(IdKind.Opaque, "W:" + locationKey, first.Display, null)).Key);
        }

        /// <summary>
        /// Adds to a must-set the same facts expressed in the variables whose equalities the merge loses: with
        /// <c>level == 4</c>, <c>ptes[3]</c> is also <c>ptes[level - 1]</c>, which is what the loop body's facts say.
        /// </summary>
        private HashSet<string> Saturate(HashSet<string> validated, Dictionary<string, IndexExpr> eq, SortedSet<string> variables)
        {
            var result = new HashSet<string>(validated, StringComparer.Ordinal);
            foreach (string variable in variables)
            {
                if (!eq.TryGetValue(variable, out IndexExpr equal) || !_vars.TryGetValue(variable, out VarRef? var))
                {
                    continue;
                }

                foreach (string key in validated)
                {
                    ValueId id = _ids[key];
                    if (id.Kind != IdKind.Initial || id.Path == null)
                    {
                        continue;
                    }

                    ImmutableArray<Sel> sels = id.Path.Sels;
                    for (int s = 0; s < sels.Length; s++)
                    {
                        if (!sels[s].IsIndex)
                        {
                            continue;
                        }

                        IndexExpr index = sels[s].Index;
                        bool matches = equal.IsConst ? index.IsConst : index.Var?.Key == equal.Var!.Key;
                        if (matches)
                        {
                            Path rewritten = new(id.Path.Root, sels.SetItem(s, sels[s].WithIndex(new IndexExpr(var, index.Offset - equal.Offset))));
                            _mentioned.Add(var.Key);
                            result.Add(InitialId(rewritten, EpochOf(id)).Key);
                        }
                    }
                }
            }

            return result;
        }

        // ---------------------------------------------------------------- ids and origins

        private ValueId Register(ValueId id)
        {
            if (_ids.TryGetValue(id.Key, out ValueId? existing))
            {
                return existing;
            }

            _ids[id.Key] = id;
            return id;
        }

        private ValueId InitialId(Path valuePath, string epoch)
        {
            string key = "I" + epoch + ":" + valuePath.Key;
            if (_ids.TryGetValue(key, out ValueId? existing))
            {
                return existing;
            }

            Mention(valuePath);
            return Register(new ValueId(IdKind.Initial, key, valuePath.Display, valuePath));
        }

        private static string EpochOf(ValueId id) => id.Key.Substring(1, id.Key.IndexOf(':') - 1);

        private ValueId ReadId(IOperation call, int ordinal) => Register(new ValueId(
            IdKind.Read,
            "R" + Site(call) + (ordinal >= 0 ? "#" + ordinal : string.Empty),
            Text(call.Syntax),
            null));

        private Origin OriginFor(Path? target, string epoch)
        {
            if (target != null)
            {
                Mention(target);
            }

            var origin = new Origin(target, epoch);
            if (_origins.TryGetValue(origin.Key, out Origin? existing))
            {
                return existing;
            }

            _origins[origin.Key] = origin;
            return origin;
        }

        private VarRef VarFor(Path path)
        {
            if (!_vars.TryGetValue(path.Key, out VarRef? var))
            {
                _vars[path.Key] = var = new VarRef(path.Key, path.Display, path);
            }

            return var;
        }

        private static string Site(IOperation operation) => operation.Syntax.SpanStart + "." + operation.Syntax.Span.Length;

        private static string Text(SyntaxNode node)
        {
            string text = string.Join(" ", node.ToString().Split(new[] { ' ', '\t', '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries));
            return text.Length <= 80 ? text : text.Substring(0, 77) + "...";
        }

        private static ImmutableSortedSet<string> Ids(params string[] keys) => ImmutableSortedSet.Create(StringComparer.Ordinal, keys);

        // ---------------------------------------------------------------- locations

        /// <summary>
        /// The guest PTE values reading <paramref name="path"/> may give: what was stored there (or in a location that may
        /// be the same), what was stored in a value it is part of, or else what its struct prefix's origin held.
        /// </summary>
        private ImmutableSortedSet<string> ReadIds(Path path, State state)
        {
            ImmutableSortedSet<string> result = NoIds;
            if (state.Locs.Count > 0)
            {
                for (int k = path.Sels.Length; k >= 0; k--)
                {
                    Path prefix = path.Prefix(k);
                    if (state.Locs.TryGetValue(prefix.Key, out LocEntry? exact))
                    {
                        return result.Union(exact.Ids);
                    }

                    foreach (LocEntry entry in state.Locs.Values)
                    {
                        if (entry.Path.Sels.Length == k && entry.Path.MayAlias(prefix))
                        {
                            result = result.Union(entry.Ids);
                        }
                    }
                }
            }

            return result.Union(DefaultIds(path, state));
        }

        private ImmutableSortedSet<string> DefaultIds(Path path, State state)
        {
            ImmutableSortedSet<string> origins = DefaultOrigins(path, state, out int skip);
            ImmutableSortedSet<string> result = NoIds;
            foreach (string key in origins)
            {
                Origin origin = _origins[key];
                if (origin.Target == null)
                {
                    continue;
                }

                Path target = origin.Target.Concat(path, skip);
                int length = ValuePathLength(target);
                if (length >= 0)
                {
                    result = result.Add(InitialId(target.Prefix(length), origin.Epoch).Key);
                }
            }

            return result;
        }

        /// <summary>The origins recorded for the longest prefix of <paramref name="path"/>, and that prefix's length.</summary>
        private ImmutableSortedSet<string> DefaultOrigins(Path path, State state, out int skip)
        {
            if (state.Defaults.Count > 0)
            {
                for (int k = path.Sels.Length; k >= 0; k--)
                {
                    if (state.Defaults.TryGetValue(path.Prefix(k).Key, out DefEntry? entry))
                    {
                        skip = k;
                        return entry.Origins;
                    }
                }
            }

            skip = path.Sels.Length;
            return Ids(OriginFor(path, "0").Key);
        }

        /// <summary>What the content at <paramref name="path"/> comes from, as origins targeting that content itself.</summary>
        private ImmutableSortedSet<string> OriginsOf(Path path, State state)
        {
            ImmutableSortedSet<string> origins = DefaultOrigins(path, state, out int skip);
            if (skip == path.Sels.Length)
            {
                return origins;
            }

            ImmutableSortedSet<string> result = NoIds;
            foreach (string key in origins)
            {
                Origin origin = _origins[key];
                result = result.Add(origin.Target == null ? key : OriginFor(origin.Target.Concat(path, skip), origin.Epoch).Key);
            }

            return result;
        }

        /// <summary>
        /// How many steps of <paramref name="path"/> name the guest PTE value it reads: up to the first [UnlockedGuestPte]
        /// member (or an annotated parameter), then through the element indexes of containers; -1 when it reads no such
        /// value (nothing annotated, or a whole container).
        /// </summary>
        private int ValuePathLength(Path path)
        {
            int position = -1;
            if (path.Root.Annotated)
            {
                position = 0;
            }
            else
            {
                for (int i = 0; i < path.Sels.Length; i++)
                {
                    if (path.Sels[i].Annotated)
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

            while (position < path.Sels.Length && path.Sels[position].IsIndex && _known.IsContainer(path.TypeAt(position)))
            {
                position++;
            }

            return _known.IsContainer(path.TypeAt(position)) ? -1 : position;
        }

        private static bool IsStructValue(ITypeSymbol? type) =>
            type != null && type.IsValueType && type.SpecialType == SpecialType.None && type.TypeKind is TypeKind.Struct;

        private void RemoveUnder(Path path, State state)
        {
            foreach (string key in state.Locs.Where(p => path.IsPrefixOf(p.Value.Path)).Select(p => p.Key).ToList())
            {
                state.Locs.Remove(key);
            }

            foreach (string key in state.Defaults.Where(p => path.IsPrefixOf(p.Value.Prefix)).Select(p => p.Key).ToList())
            {
                state.Defaults.Remove(key);
            }

            state.BoolFacts.Remove(path.Key);
        }

        /// <summary>Stores <paramref name="value"/> at <paramref name="path"/> (a strong update).</summary>
        private void Store(Path path, AbsVal value, IOperation? source, State state, string site)
        {
            ITypeSymbol? type = path.Type;
            bool structValue = IsStructValue(type) && !value.HasIds;
            if (structValue)
            {
                KillVariablesUnder(path, state, site);
            }

            ImmutableSortedSet<string> copiedOrigins = structValue && value.Loc != null ? OriginsOf(value.Loc, state) : NoIds;
            List<LocEntry>? copied = null;
            if (structValue && value.Loc != null)
            {
                copied = state.Locs.Values.Where(e => value.Loc.IsPrefixOf(e.Path)).ToList();
            }

            RemoveUnder(path, state);
            if (structValue)
            {
                if (value.Loc != null)
                {
                    Mention(path);
                    state.Defaults[path.Key] = new DefEntry(path, copiedOrigins);
                    foreach (LocEntry entry in copied!)
                    {
                        Path rebased = path.Concat(entry.Path, value.Loc.Sels.Length);
                        state.Locs[rebased.Key] = new LocEntry(rebased, entry.Ids);
                    }
                }
                else
                {
                    bool clean = Unwrap(source) is null or IObjectCreationOperation or IDefaultValueOperation or ILiteralOperation;
                    state.Defaults[path.Key] = new DefEntry(path, Ids(OriginFor(clean ? null : path, "F" + site).Key));
                }
            }
            else if (value.HasIds || !DefaultIds(path, state).IsEmpty || state.Locs.Values.Any(e => e.Path.MayAlias(path)))
            {
                Mention(path);
                state.Locs[path.Key] = new LocEntry(path, Widen(value.Ids ?? NoIds, path.Key));
            }

            if (KnownSymbols.IsIntegral(type))
            {
                AssignVar(VarFor(path), value.Int, state, site);
            }
            else if (type?.SpecialType == SpecialType.System_Boolean && value.Cond != null && !value.Cond.IsEmpty)
            {
                state.BoolFacts[path.Key] = value.Cond;
            }
        }

        /// <summary>A call may have rewritten the struct at <paramref name="path"/>: its annotated parts hold new unlocked values.</summary>
        private void Invalidate(Path path, State state, string site)
        {
            KillVariablesUnder(path, state, site);
            RemoveUnder(path, state);
            Mention(path);
            state.Defaults[path.Key] = new DefEntry(path, Ids(OriginFor(path, "E" + site).Key));
        }

        private static IOperation? Unwrap(IOperation? operation)
        {
            while (operation is IConversionOperation conversion)
            {
                operation = conversion.Operand;
            }

            return operation;
        }

        // ---------------------------------------------------------------- index variables

        /// <summary>
        /// The variable <paramref name="var"/> takes <paramref name="value"/>. A step (<c>level--</c>) shifts every index in
        /// it; any other change re-expresses its indexes in a variable that held the old value, or forgets them.
        /// </summary>
        private void AssignVar(VarRef var, IndexExpr? value, State state, string site)
        {
            string key = var.Key;
            if (state.Eq.Remove(key))
            {
                // It was equal to another variable or a constant: nothing is expressed in it.
            }
            else if (value is IndexExpr step && step.Var?.Key == key)
            {
                long delta = step.Offset;
                if (delta != 0)
                {
                    RewriteAll(state, index => index.Var?.Key == key ? new IndexExpr(index.Var, index.Offset - delta) : index, site, key);
                    foreach (string other in state.Eq.Keys.ToList())
                    {
                        IndexExpr e = state.Eq[other];
                        if (e.Var?.Key == key)
                        {
                            state.Eq[other] = new IndexExpr(e.Var, e.Offset - delta);
                        }
                    }
                }

                return;
            }
            else
            {
                string? substitute = state.Eq.Where(p => p.Value.Var?.Key == key).Select(p => p.Key).OrderBy(k => k, StringComparer.Ordinal).FirstOrDefault();
                if (substitute != null && _vars.TryGetValue(substitute, out VarRef? sub))
                {
                    long d = state.Eq[substitute].Offset;
                    state.Eq.Remove(substitute);
                    RewriteAll(state, index => index.Var?.Key == key ? new IndexExpr(sub, index.Offset - d) : index, site, key);
                    _mentioned.Add(substitute);
                    foreach (string other in state.Eq.Keys.ToList())
                    {
                        IndexExpr e = state.Eq[other];
                        if (e.Var?.Key == key)
                        {
                            state.Eq[other] = new IndexExpr(sub, e.Offset - d);
                        }
                    }
                }
                else
                {
                    RewriteAll(state, index => index.Var?.Key == key ? null : index, site, key);
                    foreach (string other in state.Eq.Where(p => p.Value.Var?.Key == key).Select(p => p.Key).ToList())
                    {
                        state.Eq.Remove(other);
                    }
                }
            }

            if (value is IndexExpr known && known.Var?.Key != key)
            {
                state.Eq[key] = known;
            }
        }

        private void KillVariablesUnder(Path path, State state, string site)
        {
            var keys = new HashSet<string>(StringComparer.Ordinal);
            foreach (string key in state.Eq.Keys)
            {
                keys.Add(key);
            }

            foreach (var pair in _vars)
            {
                keys.Add(pair.Key);
            }

            foreach (string key in keys)
            {
                if (key.Length > path.Key.Length && key.StartsWith(path.Key, StringComparison.Ordinal) && (key[path.Key.Length] is '.' or '[')
                    && _vars.TryGetValue(key, out VarRef? var))
                {
                    AssignVar(var, null, state, site);
                }
            }
        }

        /// <summary>Applies an index rewrite to everything in the state; ids whose index is lost become opaque (never re-validated again).</summary>
        private void RewriteAll(State state, Func<IndexExpr, IndexExpr?> rewrite, string site, string variable)
        {
            if (!_mentioned.Contains(variable))
            {
                // No id, location or capture was ever expressed in this variable: nothing to rewrite.
                bool inCaptures = false;
                foreach (AbsVal captured in state.Captures.Values)
                {
                    inCaptures |= captured.Int?.Var?.Key == variable;
                }

                if (!inCaptures)
                {
                    return;
                }
            }

            var cache = new Dictionary<string, string>(StringComparer.Ordinal);
            string Map(string key)
            {
                if (cache.TryGetValue(key, out string? mapped))
                {
                    return mapped;
                }

                ValueId id = _ids[key];
                mapped = key;
                if (id.Kind == IdKind.Initial && id.Path != null && id.Path.HasIndexVars())
                {
                    Path? path = id.Path.Rewrite(rewrite);
                    mapped = path == null
                        ? Register(new ValueId(IdKind.Opaque, "O" + site + ":" + key, id.Display, null)).Key
                        : ReferenceEquals(path, id.Path) ? key : InitialId(path, EpochOf(id)).Key;
                }

                cache[key] = mapped;
                return mapped;
            }

            ImmutableSortedSet<string> MapSet(ImmutableSortedSet<string> set)
            {
                ImmutableSortedSet<string> result = set;
                foreach (string key in set)
                {
                    string mapped = Map(key);
                    if (mapped != key)
                    {
                        result = result.Remove(key).Add(mapped);
                    }
                }

                return result;
            }

            if (state.Validated.Count > 0)
            {
                var validated = new HashSet<string>(StringComparer.Ordinal);
                foreach (string key in state.Validated)
                {
                    validated.Add(Map(key));
                }

                state.Validated = validated;
            }

            if (state.Locs.Count > 0)
            {
                var locs = new Dictionary<string, LocEntry>(StringComparer.Ordinal);
                foreach (LocEntry entry in state.Locs.Values)
                {
                    Path? path = entry.Path.Rewrite(rewrite);
                    if (path != null)
                    {
                        locs[path.Key] = new LocEntry(path, MapSet(entry.Ids));
                    }
                }

                state.Locs = locs;
            }

            if (state.Defaults.Count > 0)
            {
                var defaults = new Dictionary<string, DefEntry>(StringComparer.Ordinal);
                foreach (DefEntry entry in state.Defaults.Values)
                {
                    Path? prefix = entry.Prefix.Rewrite(rewrite);
                    if (prefix == null)
                    {
                        continue;
                    }

                    ImmutableSortedSet<string> origins = NoIds;
                    foreach (string key in entry.Origins)
                    {
                        Origin origin = _origins[key];
                        Path? target = origin.Target?.Rewrite(rewrite);
                        origins = origins.Add(origin.Target == null ? key : target == null ? OriginFor(prefix, "O" + site).Key : OriginFor(target, origin.Epoch).Key);
                    }

                    defaults[prefix.Key] = new DefEntry(prefix, origins);
                }

                state.Defaults = defaults;
            }

            foreach (var pair in state.Captures.ToList())
            {
                AbsVal value = pair.Value;
                IndexExpr? integer = value.Int is IndexExpr i && i.Var != null ? rewrite(i) : value.Int;
                Path? loc = value.Loc?.Rewrite(rewrite);
                state.Captures[pair.Key] = new AbsVal(MapSet(value.Ids ?? NoIds), integer, value.Cond == null ? null : new Cond(MapSet(value.Cond.WhenTrue), MapSet(value.Cond.WhenFalse)), loc);
            }

            foreach (var pair in state.BoolFacts.ToList())
            {
                state.BoolFacts[pair.Key] = new Cond(MapSet(pair.Value.WhenTrue), MapSet(pair.Value.WhenFalse));
            }
        }

        // ---------------------------------------------------------------- evaluation

        private Root RootOf(ISymbol symbol)
        {
            switch (symbol)
            {
                case ILocalSymbol local:
                    return new Root(RootKind.Local, local, "L:" + local.Name + "@" + (local.Locations.Length > 0 ? local.Locations[0].SourceSpan.Start : 0), local.Name, local.Type, false, true);
                case IParameterSymbol parameter:
                    return new Root(RootKind.Parameter, parameter, "P:" + parameter.Name + "@" + parameter.Ordinal + ":" + parameter.ContainingSymbol?.Name, parameter.Name, parameter.Type, _known.IsUnlocked(parameter), true);
                default:
                    ITypeSymbol? type = symbol switch { IFieldSymbol f => f.Type, IPropertySymbol p => p.Type, _ => null };
                    string name = KnownSymbols.MemberName(symbol);
                    return new Root(RootKind.Static, symbol, "S:" + name, name, type, _known.IsUnlocked(symbol), false);
            }
        }

        /// <summary>The location <paramref name="operation"/> denotes, or null when it is not a tracked access path.</summary>
        private Path? PathOf(IOperation? operation, State state)
        {
            switch (operation)
            {
                case ILocalReferenceOperation local:
                    return new Path(RootOf(local.Local), ImmutableArray<Sel>.Empty);
                case IParameterReferenceOperation parameter:
                    return new Path(RootOf(parameter.Parameter), ImmutableArray<Sel>.Empty);
                case IInstanceReferenceOperation instance:
                    return new Path(new Root(RootKind.This, null, "T", string.Empty, instance.Type, false, instance.Type?.IsValueType == true), ImmutableArray<Sel>.Empty);
                case IDeclarationExpressionOperation declaration:
                    return PathOf(declaration.Expression, state);
                case IFlowCaptureReferenceOperation capture:
                    return state.Captures.TryGetValue(capture.Id, out AbsVal captured) ? captured.Loc : null;
                case IFieldReferenceOperation field:
                    return MemberPath(field.Field, field.Field.Type, field.Instance, state);
                case IPropertyReferenceOperation property when property.Arguments.IsEmpty:
                    return MemberPath(property.Property, property.Property.Type, property.Instance, state);
                case IPropertyReferenceOperation indexer when indexer.Arguments.Length == 1 && _known.IsSpan(indexer.Instance?.Type):
                    return ElementPath(indexer.Instance, indexer.Arguments[0].Value, indexer.Type, state);
                case IArrayElementReferenceOperation element when element.Indices.Length == 1:
                    return ElementPath(element.ArrayReference, element.Indices[0], element.Type, state);
                case IInlineArrayAccessOperation inline when KnownSymbols.IsIntegral(inline.Argument.Type):
                    return ElementPath(inline.Instance, inline.Argument, inline.Type, state);
                case IConversionOperation conversion when _known.IsSpan(conversion.Type) && _known.IsContainer(conversion.Operand.Type):
                    return PathOf(conversion.Operand, state);
                default:
                    return null;
            }
        }

        private Path? MemberPath(ISymbol member, ITypeSymbol type, IOperation? instance, State state)
        {
            if (member.IsStatic || instance == null)
            {
                return member.IsStatic ? new Path(RootOf(member), ImmutableArray<Sel>.Empty) : null;
            }

            Path? receiver = PathOf(instance, state);
            return receiver?.Append(Sel.ForMember(member, type, _known.IsUnlocked(member), instance.Type?.IsValueType == true && member is IFieldSymbol or IPropertySymbol));
        }

        private Path? ElementPath(IOperation? container, IOperation index, ITypeSymbol? elementType, State state)
        {
            Path? receiver = PathOf(container, state);
            if (receiver == null)
            {
                return null;
            }

            AbsVal value = Eval(index, state);
            IndexExpr expr;
            if (value.Int is IndexExpr known)
            {
                expr = known;
            }
            else
            {
                // An index the analysis cannot follow: a variable of its own, forgotten each time the site runs again.
                string key = "?" + Site(index);
                if (!_vars.TryGetValue(key, out VarRef? pseudo))
                {
                    _vars[key] = pseudo = new VarRef(key, Text(index.Syntax), null);
                }

                AssignVar(pseudo, null, state, Site(index));
                expr = new IndexExpr(pseudo, 0);
            }

            return receiver.Append(Sel.ForIndex(expr, elementType));
        }

        private AbsVal ReadPath(Path path, State state)
        {
            ImmutableSortedSet<string> ids = ReadIds(path, state);
            IndexExpr? integer = null;
            if (KnownSymbols.IsIntegral(path.Type))
            {
                integer = state.Eq.TryGetValue(path.Key, out IndexExpr equal) ? equal : new IndexExpr(VarFor(path), 0);
            }

            Cond? cond = state.BoolFacts.TryGetValue(path.Key, out Cond? facts) ? facts : null;
            return new AbsVal(ids, integer, cond, path);
        }

        private AbsVal Eval(IOperation? operation, State state)
        {
            if (operation == null)
            {
                return AbsVal.Empty;
            }

            if (operation.ConstantValue.HasValue)
            {
                object? constant = operation.ConstantValue.Value;
                return constant switch
                {
                    int i => AbsVal.FromInt(IndexExpr.Const(i)),
                    long l => AbsVal.FromInt(IndexExpr.Const(l)),
                    uint u => AbsVal.FromInt(IndexExpr.Const(u)),
                    short s => AbsVal.FromInt(IndexExpr.Const(s)),
                    ushort us => AbsVal.FromInt(IndexExpr.Const(us)),
                    byte b => AbsVal.FromInt(IndexExpr.Const(b)),
                    sbyte sb => AbsVal.FromInt(IndexExpr.Const(sb)),
                    ulong ul when ul <= long.MaxValue => AbsVal.FromInt(IndexExpr.Const((long)ul)),
                    _ => AbsVal.Empty,
                };
            }

            switch (operation)
            {
                case IFlowCaptureOperation capture:
                    state.Captures[capture.Id] = Eval(capture.Value, state);
                    return AbsVal.Empty;

                case IFlowCaptureReferenceOperation reference:
                    return state.Captures.TryGetValue(reference.Id, out AbsVal captured) ? captured : AbsVal.Empty;

                case ILocalReferenceOperation:
                case IParameterReferenceOperation:
                case IInstanceReferenceOperation:
                case IDeclarationExpressionOperation:
                case IFieldReferenceOperation:
                case IPropertyReferenceOperation:
                case IArrayElementReferenceOperation:
                case IInlineArrayAccessOperation:
                    Path? path = PathOf(operation, state);
                    if (path != null)
                    {
                        return ReadPath(path, state);
                    }

                    return EvalNonPathAccess(operation, state);

                case ISimpleAssignmentOperation assignment:
                    return EvalAssignment(assignment, state);

                case ICompoundAssignmentOperation compound:
                    return EvalCompound(compound.Target, compound.Value, compound.OperatorKind, compound, state);

                case IIncrementOrDecrementOperation increment:
                    return EvalCompound(increment.Target, null, increment.Kind == OperationKind.Increment ? BinaryOperatorKind.Add : BinaryOperatorKind.Subtract, increment, state);

                case IBinaryOperation binary:
                    return EvalBinary(binary, state);

                case IUnaryOperation unary:
                    return EvalUnary(unary, state);

                case IConversionOperation conversion:
                {
                    AbsVal value = Eval(conversion.Operand, state);
                    bool keepLoc = _known.IsSpan(conversion.Type) && _known.IsContainer(conversion.Operand.Type);
                    return new AbsVal(value.Ids ?? NoIds, KnownSymbols.IsIntegral(conversion.Type) ? value.Int : null, value.Cond, keepLoc ? value.Loc : null);
                }

                case IParenthesizedOperation parenthesized:
                    return Eval(parenthesized.Operand, state);

                case IArgumentOperation argument:
                    return Eval(argument.Value, state);

                case IExpressionStatementOperation statement:
                    Eval(statement.Operation, state);
                    return AbsVal.Empty;

                case IInvocationOperation invocation:
                    return EvalCall(invocation.TargetMethod, invocation.Instance, invocation.Arguments, invocation, state);

                case IObjectCreationOperation creation when creation.Constructor != null:
                    return EvalCall(creation.Constructor, null, creation.Arguments, creation, state);

                case IIsNullOperation isNull:
                    Eval(isNull.Operand, state);
                    return AbsVal.Empty;

                case ILiteralOperation:
                case IDefaultValueOperation:
                case ITypeOfOperation:
                case ISizeOfOperation:
                case INameOfOperation:
                case IFlowAnonymousFunctionOperation:
                case ICaughtExceptionOperation:
                case IStaticLocalInitializationSemaphoreOperation:
                case IDiscardOperation:
                    return AbsVal.Empty;

                default:
                    return Fallback(operation, state);
            }
        }

        /// <summary>Any other operation: its operands are used as they are (a use under the lock); outside, what it makes derives from them.</summary>
        private AbsVal Fallback(IOperation operation, State state)
        {
            ImmutableSortedSet<string> ids = NoIds;
            foreach (IOperation child in operation.ChildOperations)
            {
                AbsVal value = Eval(child, state);
                if (value.HasIds)
                {
                    if (state.Region >= 0)
                    {
                        Use(child, value, state);
                    }
                    else
                    {
                        ids = ids.Union(value.Ids);
                    }
                }
            }

            return state.Region >= 0 ? AbsVal.Empty : AbsVal.FromIds(ids);
        }

        /// <summary>A member or element access whose receiver is not a tracked location: a member of a value derives from it.</summary>
        private AbsVal EvalNonPathAccess(IOperation operation, State state)
        {
            switch (operation)
            {
                case IFieldReferenceOperation field:
                    return AbsVal.FromIds(Eval(field.Instance, state).Ids ?? NoIds);
                case IPropertyReferenceOperation property when property.Arguments.IsEmpty:
                    return AbsVal.FromIds(Eval(property.Instance, state).Ids ?? NoIds);
                default:
                    return Fallback(operation, state);
            }
        }

        private AbsVal EvalAssignment(ISimpleAssignmentOperation assignment, State state)
        {
            AbsVal value = Eval(assignment.Value, state);
            Path? target = PathOf(assignment.Target, state);
            if (target != null && target.Storable)
            {
                Store(target, value, assignment.Value, state, Site(assignment));
                return value.WithoutLoc();
            }

            if (target == null)
            {
                // Evaluate the target's receiver and arguments for what they use.
                foreach (IOperation child in assignment.Target.ChildOperations)
                {
                    AbsVal part = Eval(child, state);
                    if (part.HasIds && state.Region >= 0)
                    {
                        Use(child, part, state);
                    }
                }
            }

            if (value.HasIds)
            {
                Use(assignment.Value, value, state);
            }

            return value.WithoutLoc();
        }

        private AbsVal EvalCompound(IOperation targetOperation, IOperation? valueOperation, BinaryOperatorKind kind, IOperation operation, State state)
        {
            AbsVal target = Eval(targetOperation, state);
            AbsVal value = valueOperation == null ? AbsVal.FromInt(IndexExpr.Const(1)) : Eval(valueOperation, state);
            bool inRegion = state.Region >= 0;
            if (inRegion)
            {
                Use(targetOperation, target, state);
                if (valueOperation != null)
                {
                    Use(valueOperation, value, state);
                }
            }

            ImmutableSortedSet<string> ids = inRegion ? NoIds : (target.Ids ?? NoIds).Union(value.Ids ?? NoIds);
            IndexExpr? integer = Linear(kind, target.Int, value.Int);
            var result = new AbsVal(ids, integer, null, null);
            if (target.Loc != null && target.Loc.Storable)
            {
                Store(target.Loc, result, null, state, Site(operation));
            }

            return result;
        }

        private static IndexExpr? Linear(BinaryOperatorKind kind, IndexExpr? left, IndexExpr? right)
        {
            if (left is not IndexExpr l || right is not IndexExpr r)
            {
                return null;
            }

            switch (kind)
            {
                case BinaryOperatorKind.Add when r.IsConst:
                    return l.Add(r.Offset);
                case BinaryOperatorKind.Add when l.IsConst:
                    return r.Add(l.Offset);
                case BinaryOperatorKind.Subtract when r.IsConst:
                    return l.Add(-r.Offset);
                case BinaryOperatorKind.Multiply when l.IsConst && r.IsConst:
                    return IndexExpr.Const(unchecked(l.Offset * r.Offset));
                default:
                    return null;
            }
        }

        private AbsVal EvalBinary(IBinaryOperation binary, State state)
        {
            AbsVal left = Eval(binary.LeftOperand, state);
            AbsVal right = Eval(binary.RightOperand, state);
            bool inRegion = state.Region >= 0;
            if (inRegion)
            {
                Use(binary.LeftOperand, left, state);
                Use(binary.RightOperand, right, state);
            }

            Cond? cond = null;
            if (binary.OperatorKind is BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals)
            {
                // Reval(x) == false, and the like.
                bool equals = binary.OperatorKind == BinaryOperatorKind.Equals;
                if (binary.RightOperand.ConstantValue.Value is bool rb && left.Cond != null)
                {
                    cond = rb == equals ? left.Cond : left.Cond.Negate();
                }
                else if (binary.LeftOperand.ConstantValue.Value is bool lb && right.Cond != null)
                {
                    cond = lb == equals ? right.Cond : right.Cond.Negate();
                }
            }
            else if (binary.OperatorKind is BinaryOperatorKind.And or BinaryOperatorKind.ConditionalAnd && left.Cond != null && right.Cond != null)
            {
                cond = new Cond(left.Cond.WhenTrue.Union(right.Cond.WhenTrue), NoIds);
            }
            else if (binary.OperatorKind is BinaryOperatorKind.Or or BinaryOperatorKind.ConditionalOr && left.Cond != null && right.Cond != null)
            {
                cond = new Cond(NoIds, left.Cond.WhenFalse.Union(right.Cond.WhenFalse));
            }

            ImmutableSortedSet<string> ids = inRegion ? NoIds : (left.Ids ?? NoIds).Union(right.Ids ?? NoIds);
            return new AbsVal(ids, Linear(binary.OperatorKind, left.Int, right.Int), cond, null, Compare(binary.OperatorKind, left.Int, right.Int));
        }

        /// <summary>A comparison the analysis can decide: both sides constants, or the same variable with constant offsets.</summary>
        private static bool? Compare(BinaryOperatorKind kind, IndexExpr? left, IndexExpr? right)
        {
            if (left is not IndexExpr l || right is not IndexExpr r || l.Var?.Key != r.Var?.Key)
            {
                return null;
            }

            long a = l.Offset, b = r.Offset;
            return kind switch
            {
                BinaryOperatorKind.Equals => a == b,
                BinaryOperatorKind.NotEquals => a != b,
                BinaryOperatorKind.LessThan => a < b,
                BinaryOperatorKind.LessThanOrEqual => a <= b,
                BinaryOperatorKind.GreaterThan => a > b,
                BinaryOperatorKind.GreaterThanOrEqual => a >= b,
                _ => null,
            };
        }

        private AbsVal EvalUnary(IUnaryOperation unary, State state)
        {
            AbsVal operand = Eval(unary.Operand, state);
            switch (unary.OperatorKind)
            {
                case UnaryOperatorKind.Not:
                    return new AbsVal(NoIds, null, operand.Cond?.Negate(), null, !operand.Bool);
                case UnaryOperatorKind.Plus:
                    return operand.WithoutLoc();
            }

            if (state.Region >= 0)
            {
                Use(unary.Operand, operand, state);
                return AbsVal.Empty;
            }

            IndexExpr? integer = unary.OperatorKind == UnaryOperatorKind.Minus && operand.Int is IndexExpr i && i.IsConst ? IndexExpr.Const(-i.Offset) : null;
            return new AbsVal(operand.Ids ?? NoIds, integer, null, null);
        }

        private AbsVal EvalCall(IMethodSymbol method, IOperation? instance, ImmutableArray<IArgumentOperation> arguments, IOperation call, State state)
        {
            bool inRegion = state.Region >= 0;
            ImmutableSortedSet<string> derived = NoIds;
            Path? receiver = null;
            if (instance != null)
            {
                AbsVal target = Eval(instance, state);
                receiver = target.Loc;
                if (target.HasIds)
                {
                    if (inRegion)
                    {
                        Use(instance, target, state);
                    }
                    else
                    {
                        derived = derived.Union(target.Ids);
                    }
                }
            }

            ImmutableSortedSet<string> revalidated = NoIds;
            bool revalidates = false, unchangedWhen = true;
            List<(IParameterSymbol Parameter, Path? Path, int Ordinal)>? byRef = null;
            foreach (IArgumentOperation argument in arguments)
            {
                IParameterSymbol? parameter = argument.Parameter;
                if (parameter != null && _known.IsRevalidating(parameter, out bool when))
                {
                    AbsVal checkedValue = Eval(argument.Value, state);
                    revalidates = true;
                    unchangedWhen = when;
                    revalidated = revalidated.Union(checkedValue.Ids ?? NoIds);
                    if (state.Region >= 0)
                    {
                        foreach (string key in checkedValue.Ids ?? NoIds)
                        {
                            _revalidations.Add((state.Region, argument.Syntax.SpanStart, key));
                        }
                    }

                    continue;
                }

                if (parameter?.RefKind == RefKind.Out)
                {
                    (byRef ??= new()).Add((parameter, PathOf(argument.Value, state), parameter.Ordinal));
                    continue;
                }

                AbsVal value = Eval(argument.Value, state);
                if (value.HasIds)
                {
                    if (inRegion)
                    {
                        Use(argument.Value, value, state);
                    }
                    else
                    {
                        derived = derived.Union(value.Ids);
                    }
                }

                if (parameter?.RefKind == RefKind.Ref)
                {
                    (byRef ??= new()).Add((parameter, value.Loc, parameter.Ordinal));
                }
            }

            string site = Site(call);

            // A mutating call on a struct location may rewrite what it holds.
            if (receiver != null && receiver.Storable && !revalidates && instance!.Type?.IsValueType == true && !method.IsStatic
                && !method.IsReadOnly && !(method.ContainingType?.IsReadOnly ?? false) && method.MethodKind == MethodKind.Ordinary)
            {
                Invalidate(receiver, state, site);
            }

            bool returnsValue = !method.ReturnsVoid && method.ReturnType.SpecialType != SpecialType.System_Boolean;
            bool reads = _known.IsGuestPteRead(method);
            if (byRef != null)
            {
                foreach ((IParameterSymbol parameter, Path? path, int ordinal) in byRef)
                {
                    if (path == null || !path.Storable)
                    {
                        continue;
                    }

                    bool unlocked = _known.IsUnlocked(parameter);
                    bool readHere = reads && !returnsValue && parameter.RefKind == RefKind.Out;
                    if (IsStructValue(path.Type) && !unlocked && !readHere)
                    {
                        Invalidate(path, state, site);
                        continue;
                    }

                    ImmutableSortedSet<string> ids = parameter.RefKind == RefKind.Ref ? ReadIds(path, state) : NoIds;
                    if (unlocked || readHere)
                    {
                        ValueId fresh = ReadId(call, ordinal);
                        ids = ids.Add(fresh.Key);
                        if (readHere && inRegion)
                        {
                            state.Validated.Add(fresh.Key);
                        }
                    }

                    Store(path, AbsVal.FromIds(ids), null, state, site);
                }
            }

            if (reads && returnsValue)
            {
                ValueId read = ReadId(call, -1);
                if (inRegion)
                {
                    state.Validated.Add(read.Key);
                }

                return AbsVal.FromIds(Ids(read.Key));
            }

            if (revalidates && method.ReturnType.SpecialType == SpecialType.System_Boolean)
            {
                return new AbsVal(NoIds, null, unchangedWhen ? new Cond(revalidated, NoIds) : new Cond(NoIds, revalidated), null);
            }

            return inRegion || derived.IsEmpty ? AbsVal.Empty : AbsVal.FromIds(derived);
        }

        // ---------------------------------------------------------------- uses

        /// <summary>
        /// <paramref name="operand"/>, whose value is <paramref name="value"/>, is used (passed, compared, stored, computed
        /// with, returned). Under the lock, every guest PTE value it may be must have been re-validated in this region.
        /// </summary>
        private void Use(IOperation operand, AbsVal value, State state)
        {
            if (state.Region < 0 || !value.HasIds)
            {
                return;
            }

            string? unvalidated = null;
            foreach (string key in value.Ids)
            {
                if (!state.Validated.Contains(key))
                {
                    unvalidated = key;
                    break;
                }
            }

            if (unvalidated == null)
            {
                return;
            }

            TextSpan span = operand.Syntax.Span;
            if (!_final)
            {
                if (!_firstUnvalidated.ContainsKey(span))
                {
                    _firstUnvalidated[span] = (unvalidated, InLocals(_ids[unvalidated].Path, state));
                }

                return;
            }

            if (!_reported.Add(span))
            {
                return;
            }

            ValueId id = _ids[unvalidated];
            _findings.Add(new Finding(operand, id, state.Region, Detail(id, operand, state), FixValue(value.Loc, id, state.Region, span)));
        }

        /// <summary>The end of the message: which other entry was re-validated instead, when one was.</summary>
        private string Detail(ValueId id, IOperation operand, State state)
        {
            Path? path = id.Path;
            string? baseKey = path != null && path.Sels.Length > 0 && path.Sels[path.Sels.Length - 1].IsIndex ? path.Prefix(path.Sels.Length - 1).Key : null;
            if (_revalidations.Any(r => r.Region == state.Region && r.Key == id.Key))
            {
                return "; it is re-validated only on some paths, or after this use";
            }

            if (path != null && state.Validated.Any(k => _ids[k].Path?.Key == path.Key))
            {
                return "; the value re-validated earlier may have been rewritten since (passed by reference, or a mutating call)";
            }

            if (baseKey != null)
            {
                foreach (string key in state.Validated.OrderBy(k => k, StringComparer.Ordinal))
                {
                    ValueId other = _ids[key];
                    if (other.Path is Path p && p.Sels.Length == path!.Sels.Length && p.Prefix(p.Sels.Length - 1).Key == baseKey && p.Key != path.Key)
                    {
                        return "; the re-validation on this path checks '" + other.Display + "', a different entry";
                    }
                }
            }

            if (baseKey != null)
            {
                int position = operand.Syntax.SpanStart;
                ValueId? nearest = null;
                int distance = int.MaxValue;
                foreach ((int region, int at, string key) in _revalidations)
                {
                    if (region != state.Region || _ids[key].Path is not Path p || p.Sels.Length != path!.Sels.Length || p.Prefix(p.Sels.Length - 1).Key != baseKey)
                    {
                        continue;
                    }

                    int d = Math.Abs(at - position);
                    if (d < distance || (d == distance && string.CompareOrdinal(key, nearest!.Key) < 0))
                    {
                        distance = d;
                        nearest = _ids[key];
                    }
                }

                if (nearest != null)
                {
                    return "; the re-validation nearby checks '" + nearest.Display + "', a different entry";
                }
            }

            return string.Empty;
        }

        /// <summary>
        /// An expression for the code fix to re-validate at the start of the region: the operand's location, or the value's
        /// location on the first pass (where a loop's first iteration still names it in constants), or now; only one that
        /// means the same at the start of the region as at the use.
        /// </summary>
        private string? FixValue(Path? operandPath, ValueId id, int region, TextSpan span)
        {
            LockRegion lockRegion = _fn.Regions[region];
            if (lockRegion.BlockStart < 0)
            {
                return null;
            }

            var candidates = new List<Path?> { operandPath };
            if (_firstUnvalidated.TryGetValue(span, out var first) && _ids.TryGetValue(first.Key, out ValueId? firstId))
            {
                candidates.Add(first.Local);
                candidates.Add(firstId.Path);
            }

            candidates.Add(id.Path);
            foreach (Path? candidate in candidates)
            {
                if (candidate != null && candidate.Display.Length > 0 && IsStable(candidate, lockRegion))
                {
                    return candidate.Display;
                }
            }

            return null;
        }

        /// <summary>The path with each index variable that a local equals written in that local (<c>top - 1</c>, not <c>walk.MaxLevel - 1</c>).</summary>
        private Path? InLocals(Path? path, State state)
        {
            if (path == null || !path.HasIndexVars())
            {
                return null;
            }

            return path.Rewrite(index =>
            {
                foreach (var pair in state.Eq.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (pair.Value.Var?.Key == index.Var!.Key && _vars.TryGetValue(pair.Key, out VarRef? local) && local.Path?.Root.Kind == RootKind.Local && local.Path.Sels.IsEmpty
                        && state.Region >= 0 && IsStable(local.Path, _fn.Regions[state.Region]))
                    {
                        return new IndexExpr(local, index.Offset - pair.Value.Offset);
                    }
                }

                return index;
            });
        }

        private bool IsStable(Path path, LockRegion region)
        {
            switch (path.Root.Kind)
            {
                case RootKind.Local:
                    if (path.Root.Symbol is not ILocalSymbol local || local.Locations.Length == 0 || local.Locations[0].SourceSpan.End > region.Span.Start)
                    {
                        return false;
                    }

                    goto case RootKind.Parameter;
                case RootKind.Parameter:
                    if (path.Root.Symbol == null || Written(region).Contains(path.Root.Symbol))
                    {
                        return false;
                    }

                    break;
            }

            foreach (Sel sel in path.Sels)
            {
                if (sel.IsIndex && sel.Index.Var != null && (sel.Index.Var.Path == null || !IsStable(sel.Index.Var.Path, region)))
                {
                    return false;
                }
            }

            return true;
        }

        private HashSet<ISymbol> Written(LockRegion region)
        {
            if (region.Written != null)
            {
                return region.Written;
            }

            var written = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
            foreach (IOperation operation in _fn.Body.DescendantsAndSelf())
            {
                if (!region.Span.Contains(operation.Syntax.Span))
                {
                    continue;
                }

                IOperation? target = operation switch
                {
                    IAssignmentOperation assignment => assignment.Target,
                    IIncrementOrDecrementOperation increment => increment.Target,
                    IArgumentOperation argument when argument.Parameter?.RefKind is RefKind.Ref or RefKind.Out => argument.Value,
                    IInvocationOperation invocation when invocation.Instance?.Type?.IsValueType == true && !invocation.TargetMethod.IsReadOnly => invocation.Instance,
                    _ => null,
                };
                if (RootSymbol(target) is ISymbol symbol)
                {
                    written.Add(symbol);
                }
            }

            region.Written = written;
            return written;
        }

        private static ISymbol? RootSymbol(IOperation? operation)
        {
            while (true)
            {
                switch (operation)
                {
                    case ILocalReferenceOperation local:
                        return local.Local;
                    case IParameterReferenceOperation parameter:
                        return parameter.Parameter;
                    case IFieldReferenceOperation field:
                        operation = field.Instance;
                        break;
                    case IPropertyReferenceOperation property:
                        operation = property.Instance;
                        break;
                    case IArrayElementReferenceOperation element:
                        operation = element.ArrayReference;
                        break;
                    case IInlineArrayAccessOperation inline:
                        operation = inline.Instance;
                        break;
                    case IConversionOperation conversion:
                        operation = conversion.Operand;
                        break;
                    case IDeclarationExpressionOperation declaration:
                        operation = declaration.Expression;
                        break;
                    default:
                        return null;
                }
            }
        }
    }
}
