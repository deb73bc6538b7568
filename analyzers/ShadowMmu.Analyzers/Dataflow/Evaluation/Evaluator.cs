using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.Reporting;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Evaluation
{
    /// <summary>
    /// The transfer function of one operation: what it evaluates to, what it stores, and, under the lock, which guest PTE
    /// values it uses (each use goes to the <see cref="IUseListener"/> of the pass that runs the evaluation).
    /// </summary>
    internal sealed partial class Evaluator
    {
        private readonly AnalysisTables _tables;
        private readonly IndexTracker _indexes;
        private readonly AbstractMemory _memory;
        private readonly IUseListener _listener;

        public Evaluator(AnalysisTables tables, IndexTracker indexes, AbstractMemory memory, IUseListener listener)
        {
            _tables = tables;
            _indexes = indexes;
            _memory = memory;
            _listener = listener;
        }

        public AbstractValue Eval(IOperation? operation, FlowState state)
        {
            if (operation == null)
            {
                return AbstractValue.Empty;
            }

            if (operation.ConstantValue.HasValue)
            {
                return Constant(operation.ConstantValue.Value);
            }

            // Deeper than the thread's stack allows (a nesting generated code can write): a catchable exception, which
            // leaves the function unchecked (MMU0006), instead of a stack overflow, which would end the compiler.
            System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();

            if (IsNewElements(operation))
            {
                return EvalNewElements(operation, state);
            }

            if (EvalView(operation, state) is AbstractValue view)
            {
                return view;
            }

            switch (operation)
            {
                case IFlowCaptureOperation capture:
                    state.Captures = IntMap<AbstractValue>.Set(state.Captures, _tables.CaptureNumber(capture.Id), Eval(capture.Value, state));
                    return AbstractValue.Empty;

                case IFlowCaptureReferenceOperation reference:
                    return IntMap<AbstractValue>.TryGet(state.Captures, _tables.CaptureNumber(reference.Id), out AbstractValue captured) ? captured : AbstractValue.Empty;

                case ILocalReferenceOperation:
                case IParameterReferenceOperation:
                case IInstanceReferenceOperation:
                case IDeclarationExpressionOperation:
                case IFieldReferenceOperation:
                case IPropertyReferenceOperation:
                case IArrayElementReferenceOperation:
                case IInlineArrayAccessOperation:
                case IImplicitIndexerReferenceOperation:
                case { Kind: OperationKind.None, Type: not null } when PointerElementSyntax(operation):
                    if (IsRecheckSwitch(operation))
                    {
                        return new AbstractValue(IdSet<ValueId>.Empty, null, Outcome.Switch, null, true);
                    }

                    AccessPath? path = PathOf(operation, state);
                    return path != null ? ReadPath(path, state) : EvalNonPathAccess(operation, state);

                case IFlowAnonymousFunctionOperation lambda:
                    Captured(lambda.Symbol, state);
                    return AbstractValue.Empty;

                case ITupleOperation tuple:
                    return EvalTuple(tuple, state);

                case IDeconstructionAssignmentOperation deconstruction:
                    return EvalDeconstruction(deconstruction, state);

                case IIsPatternOperation isPattern:
                    return EvalIsPattern(isPattern, state);

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
                    return EvalConversion(conversion, state);

                case IParenthesizedOperation parenthesized:
                    return Eval(parenthesized.Operand, state);

                case IArgumentOperation argument:
                    return Eval(argument.Value, state);

                case IExpressionStatementOperation statement:
                    Eval(statement.Operation, state);
                    return AbstractValue.Empty;

                case IInvocationOperation invocation:
                    return EvalCall(invocation.TargetMethod, invocation.Instance, invocation.Arguments, invocation, state);

                case IObjectCreationOperation creation when creation.Constructor != null:
                    return EvalCreation(creation, state);

                case IIsNullOperation isNull:
                    Eval(isNull.Operand, state);
                    return AbstractValue.Empty;

                case IDefaultValueOperation when operation.Type?.IsValueType == true:
                    return AbstractValue.Composite(System.Collections.Immutable.ImmutableArray<MemberValue>.Empty);

                case ILiteralOperation:
                case IDefaultValueOperation:
                case ITypeOfOperation:
                case ISizeOfOperation:
                case INameOfOperation:
                case ICaughtExceptionOperation:
                case IStaticLocalInitializationSemaphoreOperation:
                case IDiscardOperation:
                    return AbstractValue.Empty;

                default:
                    return Fallback(operation, state);
            }
        }

        /// <summary>
        /// <paramref name="operand"/>, whose value is <paramref name="value"/>, is used (passed, compared, stored, computed
        /// with, returned). Under the lock, every guest PTE value it may be must have been re-validated in this region.
        /// </summary>
        public void Use(IOperation operand, AbstractValue value, FlowState state)
        {
            if (!state.InRegion || !value.HasIds)
            {
                return;
            }

            ValueId? unfollowed = null;
            foreach (ValueId id in value.Ids)
            {
                if (state.Validated.Contains(id) || id is SnapshotValue)
                {
                    // A sequence snapshot is no value to trust: it only says which host frames a re-check covers.
                    continue;
                }

                if (id is not UnfollowedValue)
                {
                    _listener.UncheckedUse(operand, value, id, state);
                    return;
                }

                unfollowed ??= id;
            }

            if (unfollowed != null)
            {
                // Only values the analysis lost track of are unchecked: it cannot tell, and says so (MMU0005), rather than blame.
                _listener.UncheckedUse(operand, value, unfollowed, state);
            }
        }

        private static AbstractValue Constant(object? constant) => constant switch
        {
            int i => AbstractValue.FromInt(IndexExpr.Const(i)),
            long l => AbstractValue.FromInt(IndexExpr.Const(l)),
            uint u => AbstractValue.FromInt(IndexExpr.Const(u)),
            short s => AbstractValue.FromInt(IndexExpr.Const(s)),
            ushort us => AbstractValue.FromInt(IndexExpr.Const(us)),
            byte b => AbstractValue.FromInt(IndexExpr.Const(b)),
            sbyte sb => AbstractValue.FromInt(IndexExpr.Const(sb)),
            ulong ul when ul <= long.MaxValue => AbstractValue.FromInt(IndexExpr.Const((long)ul)),
            _ => AbstractValue.Empty,
        };

        /// <summary>
        /// A conversion keeps what it does not change: a container seen as a span, an array or an interface still names its
        /// elements (a view keeps its offset); a tuple converted to a tuple type keeps its members; an integer its value.
        /// </summary>
        private AbstractValue EvalConversion(IConversionOperation conversion, FlowState state)
        {
            AbstractValue value = Eval(conversion.Operand, state);
            ITypeSymbol? type = conversion.Type;
            bool container = _tables.Known.IsContainer(conversion.Operand.Type) || value.IsView;
            if (container && (_tables.Known.IsContainer(type) || type?.IsReferenceType == true))
            {
                return value;
            }

            if (!value.Members.IsDefault && type is INamedTypeSymbol { IsTupleType: true })
            {
                return value.WithoutLocation();
            }

            return new AbstractValue(value.Ids, KnownSymbols.IsIntegral(type) ? value.Int : null, value.Outcome, null);
        }

        /// <summary>Any other operation: its operands are used as they are (a use under the lock); outside, what it makes derives from them.</summary>
        private AbstractValue Fallback(IOperation operation, FlowState state)
        {
            var ids = IdSet<ValueId>.Empty;
            foreach (IOperation child in operation.ChildOperations)
            {
                AbstractValue value = Eval(child, state);
                if (value.HasIds)
                {
                    if (state.InRegion)
                    {
                        Use(child, value, state);
                    }
                    else
                    {
                        ids = ids.Union(value.Ids);
                    }
                }
            }

            return state.InRegion ? AbstractValue.Empty : AbstractValue.FromIds(ids);
        }

        /// <summary>A member or element access whose receiver is not a tracked location: a member of a value derives from it.</summary>
        private AbstractValue EvalNonPathAccess(IOperation operation, FlowState state) => operation switch
        {
            IFieldReferenceOperation field => MemberOf(Eval(field.Instance, state), field.Field),
            IPropertyReferenceOperation property when property.Arguments.IsEmpty => MemberOf(Eval(property.Instance, state), property.Property),
            _ => Fallback(operation, state),
        };

        /// <summary>A member of a value that is no location: its own value in a struct made member by member, else what derives from the value.</summary>
        private static AbstractValue MemberOf(AbstractValue instance, ISymbol member) =>
            instance.TryGetMember(Step.Identity(member), out AbstractValue value) ? value : AbstractValue.FromIds(instance.Ids);

        private static bool PointerElementSyntax(IOperation operation) =>
            operation.Syntax is Microsoft.CodeAnalysis.CSharp.Syntax.ElementAccessExpressionSyntax
            || operation.Syntax is Microsoft.CodeAnalysis.CSharp.Syntax.PrefixUnaryExpressionSyntax { RawKind: (int)Microsoft.CodeAnalysis.CSharp.SyntaxKind.PointerIndirectionExpression };

        private AbstractValue EvalAssignment(ISimpleAssignmentOperation assignment, FlowState state)
        {
            if (assignment.IsRef && assignment.Target is ILocalReferenceOperation refLocal)
            {
                // ref T r = ref x: r refers to x from now on (a ref local whose target the analysis cannot name refers to nothing known).
                AccessPath local = RootPath(refLocal.Local);
                state.Aliases = PathOf(assignment.Value, state) is AccessPath bound
                    ? state.Aliases.Set(new RefAlias(local, bound))
                    : state.Aliases.RemoveRoot(local.RootId);
                return AbstractValue.Empty;
            }

            AbstractValue value = Eval(assignment.Value, state);
            if (InitializedMember(assignment.Target, state) is (int capture, ISymbol member, AbstractValue created))
            {
                // new S { M = v }: the struct being made takes the member's value.
                state.Captures = IntMap<AbstractValue>.Set(state.Captures, capture, created.WithMember(Step.Identity(member), value));
                return value.WithoutLocation();
            }

            AccessPath? target = PathOf(assignment.Target, state);
            if (target != null && target.Storable)
            {
                _memory.Store(target, value, assignment.Value, state, assignment.Syntax.Span);
                return value.WithoutLocation();
            }

            if (target == null)
            {
                // Evaluate the target's receiver and arguments for what they use.
                foreach (IOperation child in assignment.Target.ChildOperations)
                {
                    AbstractValue part = Eval(child, state);
                    if (part.HasIds && state.InRegion)
                    {
                        Use(child, part, state);
                    }
                }
            }

            if (value.HasIds)
            {
                Use(assignment.Value, value, state);
                NotFollowedStore(assignment.Target, assignment.Value, value, state);
            }

            return value.WithoutLocation();
        }

        /// <summary>
        /// For the assignment of an object initializer to a member of the struct being made (the graph holds that struct in a
        /// capture): the capture, the member, and the struct's value so far.
        /// </summary>
        private (int Capture, ISymbol Member, AbstractValue Created)? InitializedMember(IOperation target, FlowState state)
        {
            (IOperation? instance, ISymbol? member) = target switch
            {
                IFieldReferenceOperation field => (field.Instance, (ISymbol)field.Field),
                IPropertyReferenceOperation { Arguments.IsEmpty: true } property => (property.Instance, property.Property),
                _ => (null, null),
            };
            if (instance is IFlowCaptureReferenceOperation reference && member != null
                && IntMap<AbstractValue>.TryGet(state.Captures, _tables.CaptureNumber(reference.Id), out AbstractValue created) && !created.Members.IsDefault)
            {
                return (_tables.CaptureNumber(reference.Id), member, created);
            }

            return null;
        }

        private AbstractValue EvalCompound(IOperation targetOperation, IOperation? valueOperation, BinaryOperatorKind kind, IOperation operation, FlowState state)
        {
            AbstractValue target = Eval(targetOperation, state);
            AbstractValue value = valueOperation == null ? AbstractValue.FromInt(IndexExpr.Const(1)) : Eval(valueOperation, state);
            bool inRegion = state.InRegion;
            if (inRegion)
            {
                Use(targetOperation, target, state);
                if (valueOperation != null)
                {
                    Use(valueOperation, value, state);
                }
            }

            IdSet<ValueId> ids = inRegion ? IdSet<ValueId>.Empty : target.Ids.Union(value.Ids);
            var result = new AbstractValue(ids, IndexExpr.Linear(kind, target.Int, value.Int), null, null);
            if (target.Location != null && target.Location.Storable)
            {
                _memory.Store(target.Location, result, null, state, operation.Syntax.Span);
            }

            return result;
        }

        /// <summary>
        /// A binary operation, and the chain of binary operations nested in its left operand, innermost first: a loop, not
        /// a recursion, since generated code writes sums of tens of thousands of terms (as deep a tree).
        /// </summary>
        private AbstractValue EvalBinary(IBinaryOperation binary, FlowState state)
        {
            var chain = new Stack<IBinaryOperation>();
            chain.Push(binary);
            while (chain.Peek().LeftOperand is IBinaryOperation inner && IsPlainBinary(inner))
            {
                chain.Push(inner);
            }

            AbstractValue left = Eval(chain.Peek().LeftOperand, state);
            while (chain.Count > 0)
            {
                left = CombineBinary(chain.Pop(), left, state);
            }

            return left;
        }

        /// <summary>A binary operation that <see cref="Eval"/> would hand to <see cref="EvalBinary"/> (not a constant, not pointer arithmetic).</summary>
        private static bool IsPlainBinary(IBinaryOperation binary) =>
            !binary.ConstantValue.HasValue && !(binary.Type is IPointerTypeSymbol && binary.OperatorKind is BinaryOperatorKind.Add or BinaryOperatorKind.Subtract);

        /// <summary>The value of <paramref name="binary"/> from its left operand's value (already evaluated) and its right operand.</summary>
        private AbstractValue CombineBinary(IBinaryOperation binary, AbstractValue left, FlowState state)
        {
            AbstractValue right = Eval(binary.RightOperand, state);
            bool inRegion = state.InRegion;
            if (inRegion)
            {
                Use(binary.LeftOperand, left, state);
                Use(binary.RightOperand, right, state);
            }

            Outcome? outcome = null;
            if (binary.OperatorKind is BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals)
            {
                // Revalidate(x) == false, and the like.
                bool equals = binary.OperatorKind == BinaryOperatorKind.Equals;
                if (binary.RightOperand.ConstantValue.Value is bool rb && left.Outcome != null)
                {
                    outcome = rb == equals ? left.Outcome : left.Outcome.Negate();
                }
                else if (binary.LeftOperand.ConstantValue.Value is bool lb && right.Outcome != null)
                {
                    outcome = lb == equals ? right.Outcome : right.Outcome.Negate();
                }
            }
            else if (binary.OperatorKind is BinaryOperatorKind.And or BinaryOperatorKind.ConditionalAnd && left.Outcome != null && right.Outcome != null)
            {
                outcome = new Outcome(left.Outcome.WhenTrue.Union(right.Outcome.WhenTrue), IdSet<ValueId>.Empty);
            }
            else if (binary.OperatorKind is BinaryOperatorKind.Or or BinaryOperatorKind.ConditionalOr && left.Outcome != null && right.Outcome != null)
            {
                outcome = new Outcome(IdSet<ValueId>.Empty, left.Outcome.WhenFalse.Union(right.Outcome.WhenFalse));
            }

            IdSet<ValueId> ids = inRegion ? IdSet<ValueId>.Empty : left.Ids.Union(right.Ids);
            return new AbstractValue(ids, IndexExpr.Linear(binary.OperatorKind, left.Int, right.Int), outcome, null, IndexExpr.Compare(binary.OperatorKind, left.Int, right.Int));
        }

        private AbstractValue EvalUnary(IUnaryOperation unary, FlowState state)
        {
            AbstractValue operand = Eval(unary.Operand, state);
            switch (unary.OperatorKind)
            {
                case UnaryOperatorKind.Not:
                    return new AbstractValue(IdSet<ValueId>.Empty, null, operand.Outcome?.Negate(), null, !operand.Bool);
                case UnaryOperatorKind.Plus:
                    return operand.WithoutLocation();
            }

            if (state.InRegion)
            {
                Use(unary.Operand, operand, state);
                return AbstractValue.Empty;
            }

            IndexExpr? integer = unary.OperatorKind == UnaryOperatorKind.Minus && operand.Int is IndexExpr i && i.IsConst ? IndexExpr.Const(-i.Offset) : null;
            return new AbstractValue(operand.Ids, integer, null, null);
        }
    }
}
