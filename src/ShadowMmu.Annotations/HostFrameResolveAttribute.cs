using System;

namespace ShadowMmu.Annotations
{
    /// <summary>
    /// The method's result is a host frame resolved from a guest frame without the mmu_lock (KVM's
    /// <c>kvm_faultin_pfn</c>): the host may take the frame away or move it at any time. Resolved outside the lock, it
    /// may be used under the lock only after a re-check (<see cref="RechecksInvalidationSnapshotAttribute"/>), in the same
    /// lock region, of an invalidation-sequence snapshot (<see cref="InvalidationSnapshotAttribute"/>) taken
    /// <em>before</em> it was resolved (rule MMU0007). Resolved under the lock, it is trusted in that lock region.
    /// </summary>
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
    public sealed class HostFrameResolveAttribute : Attribute
    {
    }
}
