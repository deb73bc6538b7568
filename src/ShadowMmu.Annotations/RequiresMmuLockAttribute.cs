using System;

namespace ShadowMmu.Annotations
{
    /// <summary>
    /// The method may only run with the mmu_lock held: a call where the lock is not held is rule MMU0002, and the
    /// method's own body counts as a lock region for rule MMU0001. Implementations and overrides of a method carrying it
    /// inherit the requirement.
    /// </summary>
    /// <remarks>
    /// By default the method needs the lock's exclusive side (or the only side of a plain lock): a call under the shared
    /// side of a reader-writer mmu_lock is rule MMU0008. With <see cref="Shared"/> set, either side will do (Clang's
    /// <c>REQUIRES_SHARED</c>), and the method's body counts as a shared region.
    /// </remarks>
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
    public sealed class RequiresMmuLockAttribute : Attribute
    {
        /// <summary>Either side of the mmu_lock will do: the method reads shared state and changes it only atomically.</summary>
        public bool Shared { get; set; }
    }
}
