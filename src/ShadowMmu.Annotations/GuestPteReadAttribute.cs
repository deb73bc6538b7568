using System;

namespace ShadowMmu.Annotations
{
    /// <summary>
    /// The method's return value is a guest page-table entry read from guest memory. Read outside the mmu_lock, it may
    /// be used under the lock only after a re-validation (<see cref="RevalidatesGuestPteAttribute"/>) in the same lock
    /// region (rule MMU0001); read under the lock, it is trusted in that lock region only.
    /// </summary>
    /// <remarks>
    /// For a method that returns <see cref="bool"/> or nothing (the <c>TryRead(gpa, out pte)</c> shape), the values read
    /// are its <c>out</c> parameters instead.
    /// </remarks>
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
    public sealed class GuestPteReadAttribute : Attribute
    {
    }
}
