using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;

namespace ShadowMmu.Analyzers.Dataflow.Worklist
{
    /// <summary>
    /// Which locals and flow captures are live at each block's entry (read later before being overwritten), and for each
    /// edge those that die on it: the solver drops what the state knows of them, so that a state holds what can still
    /// matter and a loop's head does not change each time a dead variable changes (that made a method's cost grow with the
    /// square of its size). Locals that may be reached otherwise (ref locals, locals whose address is taken, locals a
    /// lambda or local function uses) are never dropped. What an integer local is known to equal is dropped only when
    /// the local goes out of scope: while it is in scope, the code fix may still name an index in it (<c>top - 1</c>).
    /// </summary>
    internal sealed class Liveness
    {
        private static readonly int[] None = System.Array.Empty<int>();

        private readonly AnalysisTables _tables;
        private readonly List<ILocalSymbol?> _locals = new();
        private readonly List<int> _captures = new();
        private readonly List<(int First, int Last)> _scopes = new();
        private readonly Dictionary<ILocalSymbol, int> _localIds = new(SymbolEqualityComparer.Default);
        private readonly Dictionary<int, int> _captureIds = new();
        private readonly HashSet<ILocalSymbol> _pinned = new(SymbolEqualityComparer.Default);
        private readonly Dictionary<(int From, int To), int[]> _dying = new();
        private readonly Dictionary<(int From, int To), ILocalSymbol[]> _leavingScope = new();

        public Liveness(AnalysisTables tables, Dictionary<int, List<int>> handlerEdges)
        {
            _tables = tables;
            FindLocals(tables.Cfg.Root);
            FindPinned(tables.Function.Body);
            Compute(handlerEdges);
        }

        /// <summary><paramref name="state"/>, leaving block <paramref name="from"/> for block <paramref name="to"/>, without what it knows of the variables that die there.</summary>
        public FlowState Prune(FlowState state, int from, int to)
        {
            int[] dying = _dying.TryGetValue((from, to), out int[]? dead) ? dead : None;
            ILocalSymbol[]? leaving = _leavingScope.TryGetValue((from, to), out ILocalSymbol[]? locals) ? locals : null;
            if (dying.Length == 0 && leaving == null)
            {
                return state;
            }

            FlowState pruned = state.Fork();
            foreach (ILocalSymbol local in leaving ?? System.Array.Empty<ILocalSymbol>())
            {
                WorkMeter.Count++;
                if (_tables.TryGetRootPath(local, out AccessPath root))
                {
                    foreach (IndexVar var in _tables.Vars.UnderRoot(root))
                    {
                        pruned.RemoveEqual(var);
                    }
                }
            }

            foreach (int variable in dying)
            {
                WorkMeter.Count++;
                if (_locals[variable] is ILocalSymbol local)
                {
                    if (_tables.TryGetRootPath(local, out AccessPath root))
                    {
                        pruned.Locations = pruned.Locations.RemoveRoot(root.RootId);
                        pruned.Contents = pruned.Contents.RemoveRoot(root.RootId);
                        pruned.Outcomes = pruned.Outcomes.RemoveRoot(root.RootId);
                    }
                }
                else
                {
                    pruned.Captures = IntMap<Values.AbstractValue>.Remove(pruned.Captures, _captures[variable]);
                }
            }

            return pruned;
        }

        private void FindLocals(ControlFlowRegion region)
        {
            foreach (ILocalSymbol local in region.Locals)
            {
                if (!_localIds.ContainsKey(local))
                {
                    _localIds[local] = _locals.Count;
                    _locals.Add(local);
                    _captures.Add(-1);
                    _scopes.Add((region.FirstBlockOrdinal, region.LastBlockOrdinal));
                }
            }

            foreach (CaptureId capture in region.CaptureIds)
            {
                int number = _tables.CaptureNumber(capture);
                if (!_captureIds.ContainsKey(number))
                {
                    _captureIds[number] = _locals.Count;
                    _locals.Add(null);
                    _captures.Add(number);
                    _scopes.Add((region.FirstBlockOrdinal, region.LastBlockOrdinal));
                }
            }

            foreach (ControlFlowRegion nested in region.NestedRegions)
            {
                FindLocals(nested);
            }
        }

        /// <summary>Ref locals, locals whose address is taken, and locals a nested function uses.</summary>
        private void FindPinned(IOperation body)
        {
            foreach (IOperation operation in OperationTree.DescendantsAndSelf(body))
            {
                switch (operation)
                {
                    case ILocalReferenceOperation { Local.IsRef: true } reference:
                        _pinned.Add(reference.Local);
                        break;
                    case IAddressOfOperation addressOf:
                        PinAll(addressOf.Reference);
                        break;
                    case IAnonymousFunctionOperation lambda:
                        PinAll(lambda.Body);
                        break;
                    case ILocalFunctionOperation function when (function.Body ?? function.IgnoredBody) is IOperation localBody:
                        PinAll(localBody);
                        break;
                }
            }
        }

        private void PinAll(IOperation operation)
        {
            foreach (IOperation inner in OperationTree.DescendantsAndSelf(operation))
            {
                if (inner is ILocalReferenceOperation reference)
                {
                    _pinned.Add(reference.Local);
                }
            }
        }

        private int VariableOf(IOperation operation)
        {
            switch (operation)
            {
                case ILocalReferenceOperation reference when !_pinned.Contains(reference.Local) && _localIds.TryGetValue(reference.Local, out int local):
                    return local;
                case IFlowCaptureOperation capture when _captureIds.TryGetValue(_tables.CaptureNumber(capture.Id), out int id):
                    return id;
                case IFlowCaptureReferenceOperation reference when _captureIds.TryGetValue(_tables.CaptureNumber(reference.Id), out int id):
                    return id;
                default:
                    return -1;
            }
        }

        /// <summary>A whole-value write: the target of a plain assignment, an out argument, a deconstruction's target, a capture.</summary>
        private static bool IsDefinition(IOperation operation)
        {
            if (operation is IFlowCaptureOperation)
            {
                return true;
            }

            IOperation? parent = operation.Parent;
            while (parent is IDeclarationExpressionOperation or ITupleOperation)
            {
                if (parent.Parent is IDeconstructionAssignmentOperation deconstruction && deconstruction.Target == parent)
                {
                    return true;
                }

                operation = parent;
                parent = parent.Parent;
            }

            return parent switch
            {
                ISimpleAssignmentOperation { IsRef: false } assignment => assignment.Target == operation,
                IArgumentOperation { Parameter.RefKind: RefKind.Out } => true,
                _ => false,
            };
        }

        private void Compute(Dictionary<int, List<int>> handlerEdges)
        {
            ImmutableArray<BasicBlock> blocks = _tables.Cfg.Blocks;
            int n = blocks.Length;
            var gen = new List<int>?[n];
            var kill = new HashSet<int>?[n];
            for (int b = 0; b < n; b++)
            {
                BasicBlock block = blocks[b];
                foreach (IOperation operation in block.Operations)
                {
                    Collect(operation, ref gen[b], ref kill[b]);
                }

                if (block.BranchValue != null)
                {
                    Collect(block.BranchValue, ref gen[b], ref kill[b]);
                }
            }

            // Predecessors, the exceptional edges included.
            var predecessors = new List<int>[n];
            var successors = new List<int>[n];
            for (int b = 0; b < n; b++)
            {
                predecessors[b] = new List<int>();
                successors[b] = new List<int>();
            }

            for (int b = 0; b < n; b++)
            {
                AddEdge(b, blocks[b].ConditionalSuccessor?.Destination?.Ordinal);
                AddEdge(b, blocks[b].FallThroughSuccessor?.Destination?.Ordinal);
                if (handlerEdges.TryGetValue(b, out List<int>? handlers))
                {
                    foreach (int handler in handlers)
                    {
                        AddEdge(b, handler);
                    }
                }
            }

            void AddEdge(int from, int? to)
            {
                if (to is int target && !successors[from].Contains(target))
                {
                    successors[from].Add(target);
                    predecessors[target].Add(from);
                }
            }

            // Backward from each upward-exposed use, until a block that overwrites the variable or the start of its scope
            // (a local is not live before the region that declares it: the lock statement's flag is never assigned).
            var liveIn = new HashSet<int>?[n];
            var pending = new Stack<(int Block, int Variable)>();
            for (int b = 0; b < n; b++)
            {
                if (gen[b] is List<int> uses)
                {
                    foreach (int variable in uses)
                    {
                        pending.Push((b, variable));
                    }
                }
            }

            while (pending.Count > 0)
            {
                (int b, int variable) = pending.Pop();
                if (!(liveIn[b] ??= new HashSet<int>()).Add(variable))
                {
                    continue;
                }

                WorkMeter.Count++;
                (int first, int last) = _scopes[variable];
                foreach (int p in predecessors[b])
                {
                    if (p >= first && p <= last && kill[p]?.Contains(variable) != true && liveIn[p]?.Contains(variable) != true)
                    {
                        pending.Push((p, variable));
                    }
                }
            }

            // What dies on each edge: what may be known leaving the block and is not live entering its successor.
            for (int b = 0; b < n; b++)
            {
                foreach (int s in successors[b])
                {
                    // What may be known leaving b: what was live entering it, and what it wrote.
                    List<int>? dying = null;
                    HashSet<int>? liveAfter = liveIn[s];
                    if (liveIn[b] != null)
                    {
                        foreach (int variable in liveIn[b]!)
                        {
                            WorkMeter.Count++;
                            if (liveAfter?.Contains(variable) != true)
                            {
                                (dying ??= new List<int>()).Add(variable);
                            }
                        }
                    }

                    if (kill[b] != null)
                    {
                        foreach (int variable in kill[b]!)
                        {
                            WorkMeter.Count++;
                            if (liveAfter?.Contains(variable) != true && liveIn[b]?.Contains(variable) != true)
                            {
                                (dying ??= new List<int>()).Add(variable);
                            }
                        }
                    }

                    if (dying != null)
                    {
                        _dying[(b, s)] = dying.ToArray();
                    }

                    // The locals of the regions the edge leaves.
                    List<ILocalSymbol>? leaving = null;
                    for (ControlFlowRegion? region = blocks[b].EnclosingRegion; region != null && (s < region.FirstBlockOrdinal || s > region.LastBlockOrdinal); region = region.EnclosingRegion)
                    {
                        foreach (ILocalSymbol local in region.Locals)
                        {
                            if (!_pinned.Contains(local))
                            {
                                (leaving ??= new List<ILocalSymbol>()).Add(local);
                            }
                        }
                    }

                    if (leaving != null)
                    {
                        _leavingScope[(b, s)] = leaving.ToArray();
                    }
                }
            }
        }

        /// <summary>The operation's reads (unless the block overwrote them before) and whole-value writes.</summary>
        private void Collect(IOperation operation, ref List<int>? gen, ref HashSet<int>? kill)
        {
            List<int>? writes = null;
            foreach (IOperation part in OperationTree.DescendantsAndSelf(operation))
            {
                int variable = VariableOf(part);
                if (variable < 0)
                {
                    continue;
                }

                if (IsDefinition(part))
                {
                    (writes ??= new List<int>()).Add(variable);
                }
                else if (kill?.Contains(variable) != true)
                {
                    (gen ??= new List<int>()).Add(variable);
                }
            }

            if (writes != null)
            {
                foreach (int variable in writes)
                {
                    (kill ??= new HashSet<int>()).Add(variable);
                }
            }
        }
    }
}
