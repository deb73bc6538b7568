using System;

namespace ShadowMmu.Annotations
{
    /// <summary>
    /// The field or property is the mmu_lock (a <c>System.Threading.Lock</c> or an <see cref="object"/> used with
    /// <c>lock</c> or <c>System.Threading.Monitor</c>); or, on a class or struct, the type is a scope whose lifetime holds
    /// the mmu_lock (taken when it is made, released by <c>Dispose</c>), used as <c>using (new Scope(...))</c>.
    /// </summary>
    /// <remarks>
    /// The rules recognise as lock regions <c>lock (x)</c>, <c>using (x.EnterScope())</c> and <c>Monitor.Enter(x)</c> /
    /// <c>x.Enter()</c> released in a <c>finally</c>, where <c>x</c> is a member carrying this attribute, and the
    /// <c>using</c> of a scope type carrying it.
    /// <para>A lock with two sides (a reader-writer mmu_lock) marks each side's scope type: the exclusive side's with
    /// <c>[MmuLock]</c>, the shared side's with <c>[MmuLock(Shared = true)]</c> (Clang's <c>ACQUIRE_SHARED</c> by a scoped
    /// capability). A shared region counts as the lock for re-validation (MMU0001, MMU0007) and for methods that need
    /// either side (<see cref="RequiresMmuLockAttribute.Shared"/>), not for those that need the exclusive side (MMU0008),
    /// and plain writes to state guarded by the exclusive side (<see cref="GuardedByMmuLockAttribute"/>) are findings in it
    /// (MMU0009).</para>
    /// </remarks>
    [AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = true)]
    public sealed class MmuLockAttribute : Attribute
    {
        /// <summary>On a scope type: the scope holds the lock's shared side (readers run together), not its exclusive side.</summary>
        public bool Shared { get; set; }
    }
}
