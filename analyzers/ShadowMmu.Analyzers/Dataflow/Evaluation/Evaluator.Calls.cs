using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Evaluation
{
    /// <summary>Calls: re-validations, guest PTE reads, out and ref arguments, mutating calls on struct locations.</summary>
    internal sealed partial class Evaluator
    {
        private AbstractValue EvalCall(IMethodSymbol method, IOperation? instance, ImmutableArray<IArgumentOperation> arguments, IOperation call, FlowState state)
        {
            if (TryEvalViewCall(method, instance, arguments, call, state, out AbstractValue view))
            {
                return view;
            }

            if (method.MethodKind == MethodKind.LocalFunction)
            {
                Captured(method, state);
            }

            KnownSymbols known = _tables.Known;
            bool inRegion = state.InRegion;
            var derived = IdSet<ValueId>.Empty;
            AccessPath? receiver = null;
            AbstractValue receiverValue = AbstractValue.Empty;
            var argumentValues = new AbstractValue[method.Parameters.Length];
            var given = new bool[method.Parameters.Length];
            if (instance != null)
            {
                AbstractValue target = receiverValue = Eval(instance, state);
                receiver = target.Location;
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

            var revalidated = IdSet<ValueId>.Empty;
            bool revalidates = false, unchangedWhen = true;
            List<(IParameterSymbol Parameter, AccessPath? Path, int Ordinal)>? byRef = null;
            foreach (IArgumentOperation argument in arguments)
            {
                IParameterSymbol? parameter = argument.Parameter;
                if (parameter != null && known.IsRevalidating(parameter, out bool when))
                {
                    AbstractValue checkedValue = Eval(argument.Value, state);
                    Bind(parameter, checkedValue);
                    revalidates = true;
                    unchangedWhen = when;
                    revalidated = revalidated.Union(checkedValue.Ids);
                    if (state.InRegion)
                    {
                        foreach (ValueId id in checkedValue.Ids)
                        {
                            _listener.Revalidation(state.Region, argument.Syntax.SpanStart, id);
                        }
                    }

                    continue;
                }

                if (parameter != null && known.IsRecheckingSnapshot(parameter, out bool noInvalidationWhen))
                {
                    // The invalidation sequence re-checked: the host frames resolved after this snapshot was taken.
                    AbstractValue snapshot = Eval(argument.Value, state);
                    IdSet<ValueId> frames = _tables.Values.HostFramesAfter(snapshot.Ids);
                    Bind(parameter, snapshot);
                    revalidates = true;
                    unchangedWhen = noInvalidationWhen;
                    revalidated = revalidated.Union(frames);
                    if (state.InRegion)
                    {
                        foreach (ValueId id in frames.Union(snapshot.Ids))
                        {
                            _listener.Revalidation(state.Region, argument.Syntax.SpanStart, id);
                        }
                    }

                    continue;
                }

                if (parameter?.RefKind == RefKind.Out)
                {
                    (byRef ??= new()).Add((parameter, PathOf(argument.Value, state), parameter.Ordinal));
                    continue;
                }

                AbstractValue value = Eval(argument.Value, state);
                if (parameter != null)
                {
                    Bind(parameter, value);
                }

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
                    (byRef ??= new()).Add((parameter, value.Location, parameter.Ordinal));
                }
            }

            TextSpan site = call.Syntax.Span;

            // A mutating call on a struct location may rewrite what it holds.
            if (receiver != null && receiver.Storable && !revalidates && instance!.Type?.IsValueType == true && !method.IsStatic
                && !method.IsReadOnly && !(method.ContainingType?.IsReadOnly ?? false) && method.MethodKind == MethodKind.Ordinary)
            {
                _memory.Invalidate(receiver, state, site);
            }

            bool returnsValue = !method.ReturnsVoid && method.ReturnType.SpecialType != SpecialType.System_Boolean;
            bool reads = known.IsGuestPteRead(method);
            if (byRef != null)
            {
                foreach ((IParameterSymbol parameter, AccessPath? path, int ordinal) in byRef)
                {
                    if (path == null || !path.Storable)
                    {
                        continue;
                    }

                    bool unlocked = known.IsUnlocked(parameter);
                    bool readHere = reads && !returnsValue && parameter.RefKind == RefKind.Out;
                    if (AbstractMemory.IsStructValue(path.Type) && !unlocked && !readHere)
                    {
                        _memory.Invalidate(path, state, site);
                        continue;
                    }

                    IdSet<ValueId> ids = parameter.RefKind == RefKind.Ref ? _memory.Read(path, state) : IdSet<ValueId>.Empty;
                    if (unlocked || readHere)
                    {
                        ValueId fresh = _tables.Values.Read(call.Syntax, ordinal);
                        ids = ids.Add(fresh);
                        if (readHere && inRegion)
                        {
                            state.Validated = state.Validated.Add(fresh);
                        }
                    }

                    _memory.Store(path, AbstractValue.FromIds(ids), null, state, site);
                }
            }

            if (returnsValue && known.IsInvalidationSnapshot(method))
            {
                return AbstractValue.FromIds(IdSet<ValueId>.Of(TakeSnapshot(method, call, state)));
            }

            if (returnsValue && known.IsHostFrameResolve(method))
            {
                return AbstractValue.FromIds(derived.Add(ResolveHostFrame(call, state)));
            }

            if (reads && returnsValue)
            {
                ValueId read = _tables.Values.Read(call.Syntax, -1);
                if (inRegion)
                {
                    state.Validated = state.Validated.Add(read);
                }

                return AbstractValue.FromIds(IdSet<ValueId>.Of(read));
            }

            if (returnsValue && !reads && EvalReturned(method, call, receiverValue, argumentValues, given, state) is AbstractValue returned)
            {
                // A function whose body is seen returns values the caller can name, or says it does not follow them.
                return returned;
            }

            if (revalidates && method.ReturnType.SpecialType == SpecialType.System_Boolean)
            {
                return new AbstractValue(IdSet<ValueId>.Empty, null, unchangedWhen ? new Outcome(revalidated, IdSet<ValueId>.Empty) : new Outcome(IdSet<ValueId>.Empty, revalidated), null);
            }

            return inRegion || derived.IsEmpty ? AbstractValue.Empty : AbstractValue.FromIds(derived);

            // What each parameter was given, for a callee whose body is seen (EvalReturned).
            void Bind(IParameterSymbol parameter, AbstractValue value)
            {
                if (parameter.Ordinal < argumentValues.Length)
                {
                    (argumentValues[parameter.Ordinal], given[parameter.Ordinal]) = (value, true);
                }
            }
        }
    }
}
