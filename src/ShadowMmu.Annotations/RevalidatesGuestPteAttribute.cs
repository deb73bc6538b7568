using System;

namespace ShadowMmu.Annotations
{
    /// <summary>
    /// On a parameter of a method that returns <see cref="bool"/>: the call re-reads guest memory under the mmu_lock and
    /// reports, through its result, whether the value passed to this parameter is unchanged. The value counts as
    /// re-validated (rule MMU0001) only on the path where the result said so, and only until the lock is released.
    /// </summary>
    /// <remarks>
    /// By default a <see langword="true"/> result means "unchanged" (<c>bool IsUnchanged(ulong gpa, [RevalidatesGuestPte] ulong pte)</c>).
    /// For an API that answers the opposite question (KVM's <c>gpte_changed</c>), set
    /// <see cref="UnchangedWhen"/> to <see langword="false"/>.
    /// </remarks>
    [AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = true)]
    public sealed class RevalidatesGuestPteAttribute : Attribute
    {
        /// <summary>The method's result that means "the value is unchanged": <see langword="true"/> (the default) or <see langword="false"/>.</summary>
        public bool UnchangedWhen { get; set; } = true;
    }
}
