using System;

namespace ShadowMmu.Annotations
{
    /// <summary>
    /// The method may only run with the mmu_lock held: a call where the lock is not held is rule MMU0002, and the
    /// method's own body counts as a lock region for rule MMU0001. Implementations and overrides of a method carrying it
    /// inherit the requirement.
    /// </summary>
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
    public sealed class RequiresMmuLockAttribute : Attribute
    {
    }
}
