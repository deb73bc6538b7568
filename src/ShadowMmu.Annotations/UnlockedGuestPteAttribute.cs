using System;

namespace ShadowMmu.Annotations
{
    /// <summary>
    /// The field, property or parameter holds guest page-table entries that were read without the mmu_lock: a value read
    /// from it may be used under the lock only after a re-validation of that same value in the same lock region (rule
    /// MMU0001).
    /// </summary>
    /// <remarks>
    /// On an array, span or inline array (KVM's per-level <c>ptes[]</c> in the walker record), each element with a
    /// constant (or loop-tracked) index is its own value: re-validating <c>Ptes[2]</c> says nothing about <c>Ptes[3]</c>.
    /// On an <c>out</c> or <c>ref</c> parameter, the caller's argument holds such a value after the call.
    /// </remarks>
    [AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Parameter, AllowMultiple = false, Inherited = true)]
    public sealed class UnlockedGuestPteAttribute : Attribute
    {
    }
}
