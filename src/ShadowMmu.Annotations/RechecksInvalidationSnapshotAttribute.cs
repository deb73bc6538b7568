using System;

namespace ShadowMmu.Annotations
{
    /// <summary>
    /// On a parameter of a method that returns <see cref="bool"/>: the call checks, under the mmu_lock, whether an
    /// invalidation ran (or is running) since the snapshot passed to this parameter was taken (KVM's
    /// <c>mmu_invalidate_retry_gfn</c>). On the path where it says none did, every host frame resolved after that
    /// snapshot counts as re-checked (rule MMU0007), until the lock is released.
    /// </summary>
    /// <remarks>
    /// By default a <see langword="true"/> result means "no invalidation since the snapshot". KVM's API answers "retry",
    /// true when one ran: set <see cref="UnchangedWhen"/> to <see langword="false"/>.
    /// </remarks>
    [AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = true)]
    public sealed class RechecksInvalidationSnapshotAttribute : Attribute
    {
        /// <summary>The method's result that means "no invalidation since the snapshot": <see langword="true"/> (the default) or <see langword="false"/>.</summary>
        public bool UnchangedWhen { get; set; } = true;
    }
}
