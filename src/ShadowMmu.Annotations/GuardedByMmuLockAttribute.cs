using System;

namespace ShadowMmu.Annotations
{
    /// <summary>
    /// The field or property is guarded by the mmu_lock's exclusive side (Clang's <c>GUARDED_BY</c>): a plain write to it
    /// (an assignment, a compound assignment, an increment, an element store into it when it is an array, or passing it
    /// by <c>ref</c> to anything but an atomic operation of <c>System.Threading.Interlocked</c> or <c>Volatile.Write</c>)
    /// under the lock's shared side is rule MMU0009. Readers on the shared side may run together, so what they change
    /// they change atomically.
    /// </summary>
    [AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
    public sealed class GuardedByMmuLockAttribute : Attribute
    {
    }
}
