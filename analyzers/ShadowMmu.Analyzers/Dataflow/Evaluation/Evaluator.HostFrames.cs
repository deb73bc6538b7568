using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Evaluation
{
    /// <summary>
    /// KVM's second "read outside the lock, validate inside" protocol (MMU0007): the fault snapshots the host's
    /// invalidation sequence ([InvalidationSnapshot]), resolves the guest frame to a host frame without the lock
    /// ([HostFrameResolve]), and under the lock re-checks the snapshot ([RechecksInvalidationSnapshot]) before it trusts
    /// the frame. A frame is covered by the re-check of a snapshot taken before it was resolved, never by one taken
    /// after: each frame value records the snapshots taken on the way to its resolution.
    /// </summary>
    internal sealed partial class Evaluator
    {
        private ValueId TakeSnapshot(IMethodSymbol method, IOperation call, FlowState state)
        {
            SnapshotValue snapshot = _tables.Values.Snapshot(call.Syntax);
            AccessPath takenPath = _tables.SnapshotsTaken ??= RootPath(method);
            IdSet<ValueId> taken = _memory.Read(takenPath, state).Add(snapshot);
            _memory.Store(takenPath, AbstractValue.FromIds(taken), null, state, call.Syntax.Span);
            return snapshot;
        }

        /// <summary>A host frame resolved here: trusted in this lock region if resolved under the lock, else covered by the snapshots taken before.</summary>
        private ValueId ResolveHostFrame(IOperation call, FlowState state)
        {
            IdSet<ValueId> before = _tables.SnapshotsTaken is AccessPath takenPath ? _memory.Read(takenPath, state) : IdSet<ValueId>.Empty;
            HostFrameValue frame = _tables.Values.HostFrame(call.Syntax, before);
            if (state.InRegion)
            {
                state.Validated = state.Validated.Add(frame);
            }

            return frame;
        }

        /// <summary>A read of a [RecheckSwitch] member: the analysis takes it as on.</summary>
        private bool IsRecheckSwitch(IOperation operation) => operation switch
        {
            IPropertyReferenceOperation property => _tables.Known.IsRecheckSwitch(property.Property),
            IFieldReferenceOperation field => _tables.Known.IsRecheckSwitch(field.Field),
            _ => false,
        };
    }
}
