using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Evaluation
{
    /// <summary>
    /// The transfer function of one basic block: its operations in order, each in its lock region (entering or leaving a
    /// region forgets what was re-validated), then its branch, whose outcomes learn what the condition re-validated and,
    /// for <c>x == c</c>, the value of <c>x</c>.
    /// </summary>
    internal sealed class BlockTransfer
    {
        private readonly AnalysisTables _tables;
        private readonly IndexTracker _indexes;

        public BlockTransfer(AnalysisTables tables, IndexTracker indexes, Evaluator evaluator)
        {
            _tables = tables;
            _indexes = indexes;
            Evaluator = evaluator;
        }

        public Evaluator Evaluator { get; }

        /// <summary>Runs the block's operations on <paramref name="state"/>.</summary>
        public void Operations(BasicBlock block, FlowState state)
        {
            foreach (IOperation operation in block.Operations)
            {
                WorkMeter.Count++;
                Enter(operation, state);
                Evaluator.Eval(operation, state);
            }
        }

        private readonly List<(BasicBlock? Destination, FlowState State)> _successors = new(2);

        /// <summary>
        /// The block's successors with their states (<paramref name="state"/> becomes one of them); the list is this
        /// transfer's own, valid until its next call.
        /// </summary>
        public List<(BasicBlock? Destination, FlowState State)> Branch(BasicBlock block, FlowState state)
        {
            List<(BasicBlock? Destination, FlowState State)> results = _successors;
            results.Clear();
            IOperation? branchValue = block.BranchValue;
            if (block.ConditionKind != ControlFlowConditionKind.None && branchValue != null)
            {
                Enter(branchValue, state);
                AbstractValue value = Evaluator.Eval(branchValue, state);
                bool jumpWhen = block.ConditionKind == ControlFlowConditionKind.WhenTrue;
                bool? constant = branchValue.ConstantValue.HasValue && branchValue.ConstantValue.Value is bool b ? b : value.Bool;
                (IndexVar Var, long Value, bool WhenEqual)? test = EqualityTest(branchValue, state);
                if (constant != !jumpWhen && block.ConditionalSuccessor != null)
                {
                    results.Add((block.ConditionalSuccessor.Destination, Outcome(state.Fork(), value.Outcome, test, jumpWhen, branchValue)));
                }

                if (constant != jumpWhen && block.FallThroughSuccessor != null)
                {
                    results.Add((block.FallThroughSuccessor.Destination, Outcome(state, value.Outcome, test, !jumpWhen, branchValue)));
                }

                return results;
            }

            if (branchValue != null)
            {
                Enter(branchValue, state);
                AbstractValue value = Evaluator.Eval(branchValue, state);
                if (block.FallThroughSuccessor?.Semantics == ControlFlowBranchSemantics.Return)
                {
                    Evaluator.Use(branchValue, value, state);
                }
            }

            if (block.FallThroughSuccessor?.Destination is BasicBlock next)
            {
                results.Add((next, state));
            }

            return results;
        }

        /// <summary>Moves the state into the lock region of <paramref name="operation"/>: entering or leaving one forgets what was re-validated.</summary>
        private void Enter(IOperation operation, FlowState state)
        {
            int region = _tables.Function.RegionOf(operation.Syntax.Span);
            if (region != state.Region)
            {
                state.Validated = IdSet<ValueId>.Empty;
                state.Outcomes = default;
                state.Region = region;
            }
        }

        /// <summary>The state on one outcome of the branch: what the condition re-validated there, and <c>x == c</c> when it says so.</summary>
        private FlowState Outcome(FlowState state, Outcome? outcome, (IndexVar Var, long Value, bool WhenEqual)? test, bool taken, IOperation condition)
        {
            if (outcome != null && state.InRegion)
            {
                state.Validated = state.Validated.Union(taken ? outcome.WhenTrue : outcome.WhenFalse);
            }

            if (test is (IndexVar var, long value, bool whenEqual) && taken == whenEqual)
            {
                _indexes.Learn(state, var, value, condition.Syntax.Span);
            }

            return state;
        }

        /// <summary>A branch on <c>x == c</c> or <c>x != c</c> for an integer variable: which outcome makes <c>x</c> equal to <c>c</c>.</summary>
        private (IndexVar Var, long Value, bool WhenEqual)? EqualityTest(IOperation condition, FlowState state)
        {
            if (condition is not IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals or BinaryOperatorKind.NotEquals } binary)
            {
                return null;
            }

            IOperation? variable = binary.RightOperand.ConstantValue.HasValue ? binary.LeftOperand : binary.LeftOperand.ConstantValue.HasValue ? binary.RightOperand : null;
            IOperation constant = variable == binary.LeftOperand ? binary.RightOperand : binary.LeftOperand;
            while (variable is IConversionOperation conversion)
            {
                variable = conversion.Operand;
            }

            // The constant side evaluates without a change to the state; the variable's path may (an unknown index), so on a fork.
            if (variable == null || !KnownSymbols.IsIntegral(variable.Type) || Evaluator.Eval(constant, state).Int is not IndexExpr { IsConst: true } value)
            {
                return null;
            }

            AccessPath? path = Evaluator.PathOf(variable, variable is ILocalReferenceOperation or IParameterReferenceOperation ? state : state.Fork());
            if (path == null || state.HasEqual(_tables.Vars.For(path)))
            {
                return null;
            }

            return (_tables.Vars.For(path), value.Offset, binary.OperatorKind == BinaryOperatorKind.Equals);
        }
    }
}
