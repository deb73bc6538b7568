using System;

namespace ShadowMmu.Annotations
{
    /// <summary>
    /// The method's result is a snapshot of the host's invalidation sequence (KVM's <c>mmu_invalidate_seq</c>, read
    /// before the fault resolves its guest frame). A host frame resolved (<see cref="HostFrameResolveAttribute"/>) after
    /// this snapshot may be used under the mmu_lock once a re-check of the snapshot
    /// (<see cref="RechecksInvalidationSnapshotAttribute"/>) said no invalidation ran since (rule MMU0007).
    /// </summary>
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
    public sealed class InvalidationSnapshotAttribute : Attribute
    {
    }
}
