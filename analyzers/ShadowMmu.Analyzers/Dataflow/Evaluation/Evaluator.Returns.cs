using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Evaluation
{
    /// <summary>
    /// What a call returns when the analysis can see the callee's body: a local function, a lambda held in a local
    /// delegate, or a non-virtual method declared in the same file. When every value the body returns is an access the
    /// caller can name (<c>ptes[1]</c> of a captured array, <c>w.Ptes[4]</c> of the argument passed as <c>w</c>, what a
    /// <c>[GuestPteRead]</c> call returns, or what is computed from those), the call's result is those values read in the
    /// caller's state: a guest PTE value the caller did not re-validate is MMU0001 where the result is used, and
    /// re-validating it (or the entry it came from) clears it. A body that returns another way but may read guest PTE
    /// values gives a value the analysis says it does not follow (MMU0005); one that reads none gives a clean result.
    /// </summary>
    internal sealed partial class Evaluator
    {
        private const string ThroughBody = "it is returned by '{0}', whose body the analysis does not follow value by value; re-validate the value itself under the lock, or mark '{0}' [GuestPteRead]";

        /// <summary>How many calls deep a returned value is followed into callees' bodies.</summary>
        private const int MaxReturnDepth = 3;

        /// <summary>Past this many operations a callee's body is not followed value by value.</summary>
        private const int MaxCalleeOperations = 400;

        private readonly Dictionary<IMethodSymbol, Callee?> _callees = new(SymbolEqualityComparer.Default);
        private readonly Dictionary<ILocalSymbol, IMethodSymbol?> _delegates = new(SymbolEqualityComparer.Default);
        private readonly HashSet<ILocalSymbol> _followedLocals = new(SymbolEqualityComparer.Default);

        /// <summary>A function whose body the analysis can see: its returned values and whether it may read a guest PTE value.</summary>
        private sealed class Callee
        {
            public Callee(IMethodSymbol method, List<IOperation> returned, bool readsGuestPtes, List<ISymbol>? captured, Dictionary<ILocalSymbol, List<IOperation>?> locals)
            {
                Method = method;
                Locals = locals;
                Returned = returned;
                ReadsGuestPtes = readsGuestPtes;
                Captured = captured;
            }

            public IMethodSymbol Method { get; }

            /// <summary>The expressions its return statements return (empty when there are too many operations to follow).</summary>
            public List<IOperation> Returned { get; }

            /// <summary>Its body mentions an [UnlockedGuestPte] member or parameter, or a [GuestPteRead] call.</summary>
            public bool ReadsGuestPtes { get; }

            /// <summary>The caller's locals and parameters it reads (a lambda or local function of this member).</summary>
            public List<ISymbol>? Captured { get; }

            /// <summary>A lambda or local function of this member (its captured locals are the caller's).</summary>
            public bool Nested => Captured != null;

            /// <summary>
            /// Its own locals and the values assigned to them anywhere in the body (null for one written another way: an
            /// out argument, a pattern, a foreach, a ref).
            /// </summary>
            public Dictionary<ILocalSymbol, List<IOperation>?> Locals { get; }
        }

        /// <summary>What a call binds: its receiver's value and each parameter's argument value (default when not given).</summary>
        private readonly struct Binding
        {
            public Binding(AbstractValue receiver, AbstractValue[] arguments, bool[] given)
            {
                Receiver = receiver;
                Arguments = arguments;
                Given = given;
            }

            public AbstractValue Receiver { get; }

            public AbstractValue[] Arguments { get; }

            public bool[] Given { get; }
        }

        /// <summary>
        /// The result of calling <paramref name="method"/> at <paramref name="call"/> when its body is seen; null when it is
        /// not (a method of another file, a virtual one, one from a reference): its result then carries its arguments' values.
        /// </summary>
        private AbstractValue? EvalReturned(IMethodSymbol method, IOperation call, AbstractValue receiver, AbstractValue[] arguments, bool[] given, FlowState state)
        {
            if (!KnownSymbols.IsIntegral(method.ReturnType) || CalleeOf(method, call) is not Callee callee)
            {
                return null;
            }

            var binding = new Binding(receiver, arguments, given);
            if (Returned(callee, binding, call, state, 0) is IdSet<ValueId> ids)
            {
                return AbstractValue.FromIds(ids);
            }

            if (!callee.ReadsGuestPtes && !MayBeGiven(binding, state) && !CapturesGuestPtes(callee, state))
            {
                return AbstractValue.Empty;
            }

            string reason = string.Format(System.Globalization.CultureInfo.InvariantCulture, ThroughBody, method.Name);
            return AbstractValue.FromIds(IdSet<ValueId>.Of(_tables.Values.Unfollowed(call.Syntax, reason)));
        }

        /// <summary>The values every return of <paramref name="callee"/> may give, read in the caller's state; null when one is not followed.</summary>
        private IdSet<ValueId>? Returned(Callee callee, Binding binding, IOperation call, FlowState state, int depth)
        {
            if (callee.Returned.Count == 0)
            {
                return null;
            }

            var ids = IdSet<ValueId>.Empty;
            foreach (IOperation returned in callee.Returned)
            {
                if (returned is IInvocationOperation read && _tables.Known.IsGuestPteRead(read.TargetMethod) && callee.Returned.Count == 1 && depth == 0)
                {
                    // The callee returns what a [GuestPteRead] call reads: a read at this call, trusted if it is under the lock.
                    ValueId fresh = _tables.Values.Read(call.Syntax, -1);
                    if (state.InRegion)
                    {
                        state.Validated = state.Validated.Add(fresh);
                    }

                    return IdSet<ValueId>.Of(fresh);
                }

                if (returned is IInvocationOperation host && callee.Returned.Count == 1 && depth == 0
                    && (_tables.Known.IsHostFrameResolve(host.TargetMethod) || _tables.Known.IsInvalidationSnapshot(host.TargetMethod)))
                {
                    // A host frame resolved, or a sequence snapshot taken, at this call (MMU0007).
                    return IdSet<ValueId>.Of(_tables.Known.IsHostFrameResolve(host.TargetMethod) ? ResolveHostFrame(call, state) : TakeSnapshot(host.TargetMethod, call, state));
                }

                if (ReturnedValue(returned, callee, binding, call, state, depth) is not AbstractValue value)
                {
                    return null;
                }

                ids = ids.Union(value.Ids);
            }

            return ids;
        }

        /// <summary>
        /// The value of <paramref name="operation"/>, an expression of <paramref name="callee"/>'s body, in the caller's
        /// state; null when it is not an access the caller can name.
        /// </summary>
        private AbstractValue? ReturnedValue(IOperation operation, Callee callee, Binding binding, IOperation call, FlowState state, int depth)
        {
            // As in Eval: too deep for the thread's stack is MMU0006, never a stack overflow.
            System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
            if (operation.ConstantValue.HasValue)
            {
                return AbstractValue.Empty;
            }

            switch (operation)
            {
                case IConversionOperation conversion:
                    return ReturnedValue(conversion.Operand, callee, binding, call, state, depth);
                case IParenthesizedOperation parenthesized:
                    return ReturnedValue(parenthesized.Operand, callee, binding, call, state, depth);
                case IParameterReferenceOperation parameter when SymbolEqualityComparer.Default.Equals(parameter.Parameter.ContainingSymbol, callee.Method):
                    return binding.Given[parameter.Parameter.Ordinal] ? binding.Arguments[parameter.Parameter.Ordinal] : null;
                case IParameterReferenceOperation captured when callee.Nested:
                    return ReadPath(RootPath(captured.Parameter), state);
                case ILocalReferenceOperation own when SymbolEqualityComparer.Default.Equals(own.Local.ContainingSymbol, callee.Method):
                    return OwnLocal(own.Local, callee, binding, call, state, depth);
                case ILocalReferenceOperation local when callee.Nested && !local.Local.IsRef:
                    return ReadPath(RootPath(local.Local), state);
                case IInstanceReferenceOperation instance:
                    return callee.Nested ? ReadPath(ThisPath(instance), state) : binding.Receiver;
                case IFieldReferenceOperation { Field.IsStatic: true } field:
                    return ReadPath(RootPath(field.Field), state);
                case IFieldReferenceOperation field:
                    return Member(ReturnedValue(field.Instance!, callee, binding, call, state, depth), field.Field, field.Field.Type, field.Instance!.Type, state);
                case IPropertyReferenceOperation { Arguments.IsEmpty: true, Property.IsStatic: false } property:
                    return Member(ReturnedValue(property.Instance!, callee, binding, call, state, depth), property.Property, property.Property.Type, property.Instance!.Type, state);
                case IPropertyReferenceOperation { Arguments.Length: 1 } indexer when _tables.Known.IsSpan(indexer.Instance?.Type):
                    return Element(indexer.Instance!, indexer.Arguments[0].Value, indexer.Type, callee, binding, call, state, depth);
                case IArrayElementReferenceOperation { Indices.Length: 1 } element:
                    return Element(element.ArrayReference, element.Indices[0], element.Type, callee, binding, call, state, depth);
                case IInlineArrayAccessOperation inline:
                    return Element(inline.Instance, inline.Argument, inline.Type, callee, binding, call, state, depth);
                case IBinaryOperation binary:
                    return ReturnedValue(binary.LeftOperand, callee, binding, call, state, depth) is AbstractValue left
                        && ReturnedValue(binary.RightOperand, callee, binding, call, state, depth) is AbstractValue right
                        ? AbstractValue.FromIds(left.Ids.Union(right.Ids))
                        : null;
                case IUnaryOperation unary:
                    return ReturnedValue(unary.Operand, callee, binding, call, state, depth) is AbstractValue operand ? AbstractValue.FromIds(operand.Ids) : null;
                case IInvocationOperation invocation when depth < MaxReturnDepth && !_tables.Known.IsGuestPteRead(invocation.TargetMethod):
                    return NestedCall(invocation, callee, binding, call, state, depth);
                default:
                    return null;
            }
        }

        /// <summary>
        /// A local of the callee's body: what every assignment to it gives (flow-insensitive). With one assignment that is
        /// its value; with more, which one reaches the return is not followed, so it is null unless none holds a guest PTE value.
        /// </summary>
        private AbstractValue? OwnLocal(ILocalSymbol local, Callee callee, Binding binding, IOperation call, FlowState state, int depth)
        {
            if (!callee.Locals.TryGetValue(local, out List<IOperation>? assigned) || assigned == null)
            {
                return null;
            }

            if (!_followedLocals.Add(local))
            {
                // Assigned from itself (access = access | w): its values are those of its other assignments.
                return AbstractValue.Empty;
            }

            var ids = IdSet<ValueId>.Empty;
            try
            {
                foreach (IOperation value in assigned)
                {
                    if (ReturnedValue(value, callee, binding, call, state, depth) is not AbstractValue part)
                    {
                        return null;
                    }

                    ids = ids.Union(part.Ids);
                }
            }
            finally
            {
                _followedLocals.Remove(local);
            }

            return assigned.Count > 1 && !ids.IsEmpty ? null : AbstractValue.FromIds(ids);
        }

        /// <summary>A call in a callee's body: followed into its own body when seen, else its result carries its arguments' values.</summary>
        private AbstractValue? NestedCall(IInvocationOperation invocation, Callee callee, Binding binding, IOperation call, FlowState state, int depth)
        {
            IMethodSymbol method = invocation.TargetMethod;
            AbstractValue receiver = invocation.Instance == null ? AbstractValue.Empty
                : ReturnedValue(invocation.Instance, callee, binding, call, state, depth) is AbstractValue r ? r : default;
            var arguments = new AbstractValue[method.Parameters.Length];
            var given = new bool[method.Parameters.Length];
            var ids = receiver.Ids;
            foreach (IArgumentOperation argument in invocation.Arguments)
            {
                if (argument.Parameter == null || ReturnedValue(argument.Value, callee, binding, call, state, depth) is not AbstractValue value)
                {
                    return null;
                }

                arguments[argument.Parameter.Ordinal] = value;
                given[argument.Parameter.Ordinal] = true;
                ids = ids.Union(value.Ids);
            }

            if (KnownSymbols.IsIntegral(method.ReturnType) && CalleeOf(method, invocation) is Callee inner)
            {
                return Returned(inner, new Binding(receiver, arguments, given), call, state, depth + 1) is IdSet<ValueId> returned ? AbstractValue.FromIds(returned) : null;
            }

            // A method of this compilation whose body is not seen may return what it reads itself; one from a reference is
            // taken at its annotations, as at a call in the caller.
            return method.Locations.Length > 0 && method.Locations[0].IsInSource ? null : AbstractValue.FromIds(ids);
        }

        private AbstractValue? Member(AbstractValue? instance, ISymbol member, ITypeSymbol type, ITypeSymbol? receiverType, FlowState state)
        {
            if (instance is not AbstractValue value)
            {
                return null;
            }

            return value.Location != null && !value.IsView
                ? ReadPath(_tables.Paths.Append(value.Location, MemberStep(member, type, receiverType)), state)
                : MemberOf(value, member);
        }

        /// <summary>An element at a constant index of a container the caller can name (or a view of one).</summary>
        private AbstractValue? Element(IOperation container, IOperation index, ITypeSymbol? elementType, Callee callee, Binding binding, IOperation call, FlowState state, int depth)
        {
            if (ReturnedValue(container, callee, binding, call, state, depth) is not AbstractValue value || index.ConstantValue.Value is not int at)
            {
                return null;
            }

            if (AsView(value) is (AccessPath path, IndexExpr offset) && IndexExpr.Plus(offset, IndexExpr.Const(at)) is IndexExpr position)
            {
                return ReadPath(_tables.Paths.Append(path, Step.ForIndex(position, elementType)), state);
            }

            return AbstractValue.FromIds(value.Ids);
        }

        /// <summary>An argument or the receiver holds guest PTE values, or a type whose members do.</summary>
        private bool MayBeGiven(Binding binding, FlowState state)
        {
            if (MayHold(binding.Receiver, state))
            {
                return true;
            }

            foreach (AbstractValue argument in binding.Arguments)
            {
                if (MayHold(argument, state))
                {
                    return true;
                }
            }

            return false;
        }

        private bool MayHold(AbstractValue value, FlowState state) =>
            value.HasIds || (value.Location != null && _memory.MayHoldIds(value.Location, state, byType: true));

        /// <summary>A local the callee captures may hold guest PTE values here.</summary>
        private bool CapturesGuestPtes(Callee callee, FlowState state)
        {
            foreach (ISymbol symbol in callee.Captured ?? new List<ISymbol>())
            {
                if (_memory.MayHoldIds(RootPath(symbol), state, byType: true))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The function a call runs whose body the analysis can see, or null.</summary>
        private Callee? CalleeOf(IMethodSymbol method, IOperation call)
        {
            if (method.MethodKind == MethodKind.DelegateInvoke)
            {
                if (call is not IInvocationOperation { Instance: ILocalReferenceOperation local } || DelegateLambda(local.Local) is not IMethodSymbol lambda)
                {
                    return null;
                }

                method = lambda;
            }

            if (_callees.TryGetValue(method, out Callee? known))
            {
                return known;
            }

            Callee? callee = null;
            if (_tables.Nested.TryGetValue(method, out FunctionInfo? nested))
            {
                callee = Describe(method, nested.Body, nested: true);
            }
            else if (method.MethodKind == MethodKind.Ordinary && !method.IsVirtual && !method.IsAbstract && !method.IsOverride && !method.IsExtern
                && method.DeclaringSyntaxReferences.Length == 1 && _tables.Function.Body.SemanticModel is SemanticModel model
                && method.DeclaringSyntaxReferences[0].SyntaxTree == model.SyntaxTree
                && method.DeclaringSyntaxReferences[0].GetSyntax(_tables.Cancellation) is MethodDeclarationSyntax declaration
                && model.GetOperation(declaration, _tables.Cancellation) is IOperation body)
            {
                callee = Describe(method, body, nested: false);
            }

            _callees[method] = callee;
            return callee;
        }

        /// <summary>The lambda a local delegate holds: the one it is declared with, when nothing else is ever assigned to it.</summary>
        private IMethodSymbol? DelegateLambda(ILocalSymbol local)
        {
            if (_delegates.TryGetValue(local, out IMethodSymbol? known))
            {
                return known;
            }

            IMethodSymbol? lambda = null;
            int assignments = 0;
            foreach (IOperation operation in OperationTree.Descendants(_tables.Function.Body))
            {
                IOperation? value = operation switch
                {
                    IVariableDeclaratorOperation declarator when SymbolEqualityComparer.Default.Equals(declarator.Symbol, local) => declarator.Initializer?.Value,
                    ISimpleAssignmentOperation { Target: ILocalReferenceOperation target } assignment when SymbolEqualityComparer.Default.Equals(target.Local, local) => assignment.Value,
                    IAddressOfOperation or IArgumentOperation { Value: ILocalReferenceOperation } when IsRefTo(operation, local) => operation,
                    _ => null,
                };
                if (value == null)
                {
                    continue;
                }

                assignments++;
                while (value is IConversionOperation or IDelegateCreationOperation)
                {
                    value = value is IConversionOperation conversion ? conversion.Operand : ((IDelegateCreationOperation)value).Target;
                }

                lambda = value is IAnonymousFunctionOperation function ? function.Symbol : null;
            }

            _delegates[local] = lambda = assignments == 1 ? lambda : null;
            return lambda;
        }

        private static bool IsRefTo(IOperation operation, ILocalSymbol local) => operation switch
        {
            IArgumentOperation { Parameter.RefKind: RefKind.Ref or RefKind.Out, Value: ILocalReferenceOperation reference } => SymbolEqualityComparer.Default.Equals(reference.Local, local),
            IAddressOfOperation { Reference: ILocalReferenceOperation reference } => SymbolEqualityComparer.Default.Equals(reference.Local, local),
            _ => false,
        };

        /// <summary>The returned expressions of a body (not those of functions nested in it), and whether it may read guest PTE values.</summary>
        private Callee Describe(IMethodSymbol method, IOperation body, bool nested)
        {
            var returned = new List<IOperation>();
            var captured = new List<ISymbol>();
            var locals = new Dictionary<ILocalSymbol, List<IOperation>?>(SymbolEqualityComparer.Default);
            var declared = new HashSet<ILocalSymbol>(SymbolEqualityComparer.Default);
            bool reads = false, revalidates = false;
            int count = 0;
            var pending = new Stack<IOperation>();
            pending.Push(body);
            while (pending.Count > 0)
            {
                IOperation operation = pending.Pop();
                count++;
                switch (operation)
                {
                    case IAnonymousFunctionOperation or ILocalFunctionOperation when operation != body:
                        continue;
                    case IReturnOperation { Kind: OperationKind.Return, ReturnedValue: IOperation value }:
                        returned.Add(value);
                        break;
                    case IVariableDeclaratorOperation { Parent: IVariableDeclarationOperation } declarator when !declarator.Symbol.IsRef:
                        declared.Add(declarator.Symbol);
                        Assigned(locals, declarator.Symbol, declarator.Initializer?.Value);
                        break;
                    case ISimpleAssignmentOperation { IsRef: false, Target: ILocalReferenceOperation target } assignment:
                        Assigned(locals, target.Local, assignment.Value);
                        break;
                    case ICompoundAssignmentOperation { Target: ILocalReferenceOperation target } compound:
                        Assigned(locals, target.Local, compound.Value);
                        break;
                    case IDeclarationExpressionOperation or IAddressOfOperation or IDeconstructionAssignmentOperation
                        or IArgumentOperation { Parameter.RefKind: RefKind.Out or RefKind.Ref } or ISimpleAssignmentOperation { IsRef: true }:
                        foreach (IOperation written in OperationTree.DescendantsAndSelf(operation))
                        {
                            if (written is ILocalReferenceOperation { Parent: not IArgumentOperation { Parameter.RefKind: RefKind.None or RefKind.In } } reference)
                            {
                                locals[reference.Local] = null;
                            }
                        }

                        break;
                    case IParameterReferenceOperation parameter when nested && !SymbolEqualityComparer.Default.Equals(parameter.Parameter.ContainingSymbol, method):
                        captured.Add(parameter.Parameter);
                        reads |= _tables.Known.IsUnlocked(parameter.Parameter);
                        break;
                    case ILocalReferenceOperation local when nested && !SymbolEqualityComparer.Default.Equals(local.Local.ContainingSymbol, method):
                        captured.Add(local.Local);
                        break;
                    case IArgumentOperation { Parameter: IParameterSymbol checks } when _tables.Known.IsRevalidating(checks, out _) || _tables.Known.IsRecheckingSnapshot(checks, out _):
                        // It re-validates what it may return: which path reaches the return is not followed value by value.
                        revalidates = true;
                        break;
                    case IFieldReferenceOperation field when _tables.Known.IsUnlocked(field.Field):
                    case IPropertyReferenceOperation property when _tables.Known.IsUnlocked(property.Property):
                    case IParameterReferenceOperation parameter when _tables.Known.IsUnlocked(parameter.Parameter):
                    case IInvocationOperation invocation when _tables.Known.IsGuestPteRead(invocation.TargetMethod):
                        reads = true;
                        break;
                }

                foreach (IOperation child in operation.ChildOperations)
                {
                    pending.Push(child);
                }
            }

            foreach (ILocalSymbol local in new List<ILocalSymbol>(locals.Keys))
            {
                if (!declared.Contains(local))
                {
                    // Declared by a pattern, a foreach, a catch, an out variable: not followed.
                    locals[local] = null;
                }
            }

            bool followed = count <= MaxCalleeOperations && !revalidates;
            return new Callee(method, followed ? returned : new List<IOperation>(), reads, nested ? captured : null, locals);
        }

        /// <summary>Records <paramref name="value"/> assigned to <paramref name="local"/> (unless it is already not followed).</summary>
        private static void Assigned(Dictionary<ILocalSymbol, List<IOperation>?> locals, ILocalSymbol local, IOperation? value)
        {
            if (!locals.TryGetValue(local, out List<IOperation>? values))
            {
                values = new List<IOperation>();
                locals[local] = values;
            }

            if (values != null && value != null)
            {
                values.Add(value);
            }
        }
    }
}
