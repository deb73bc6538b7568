using Microsoft.CodeAnalysis;

namespace ShadowMmu.Analyzers
{
    /// <summary>Every rule's descriptor (static readonly fields, as release tracking requires).</summary>
    internal static class DiagnosticDescriptors
    {
        /// <summary>MMU0001.</summary>
        public static readonly DiagnosticDescriptor UncheckedGuestPte = new(
            DiagnosticIds.UncheckedGuestPte,
            title: "Re-validate a guest PTE read without the mmu_lock before using it under the lock",
            messageFormat: "Guest PTE value {0}, read without the mmu_lock, is used under {1} before a re-validation of that value in this lock region{2}",
            category: DiagnosticIds.Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true,
            description: "A guest page-table entry read while the mmu_lock was not held may have been rewritten by the guest since. Under the lock, it may be passed on, compared, stored or used to compute a frame or rights only after a call re-read it ([RevalidatesGuestPte]) and said it is unchanged, in the same lock region and on every path to the use. Re-checking another entry (another level's PTE) does not count.",
            helpLinkUri: DiagnosticIds.HelpLink(DiagnosticIds.UncheckedGuestPte));

        /// <summary>MMU0002.</summary>
        public static readonly DiagnosticDescriptor LockNotHeld = new(
            DiagnosticIds.LockNotHeld,
            title: "Hold the mmu_lock when calling a method that requires it",
            messageFormat: "'{0}' requires the mmu_lock ([RequiresMmuLock]) but is called where the lock is not held{1}",
            category: DiagnosticIds.Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "A method marked [RequiresMmuLock] (or implementing or overriding one) may only be called inside a lock region of a member marked [MmuLock], or from another method that requires the lock.",
            helpLinkUri: DiagnosticIds.HelpLink(DiagnosticIds.LockNotHeld));

        /// <summary>MMU0003.</summary>
        public static readonly DiagnosticDescriptor LockNotReleased = new(
            DiagnosticIds.LockNotReleased,
            title: "Release the mmu_lock on every path",
            messageFormat: "The mmu_lock {0} taken here is not released on every path: release it in a finally block, or use 'lock' or 'using'",
            category: DiagnosticIds.Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "Monitor.Enter, Lock.Enter, Lock.EnterScope() or an [MmuLock] scope must be released on every path, exceptions included: by a finally block that follows the acquisition (or whose try block contains it), or by 'lock' / 'using'.",
            helpLinkUri: DiagnosticIds.HelpLink(DiagnosticIds.LockNotReleased));

        /// <summary>MMU0004.</summary>
        public static readonly DiagnosticDescriptor MonitorOnScopedLock = new(
            DiagnosticIds.MonitorOnScopedLock,
            title: "Take a scoped mmu_lock with its scope, not with 'lock'",
            messageFormat: "'{0}' is taken with 'using ({1})': 'lock' takes the lock object's monitor instead, which no holder of the mmu_lock takes",
            category: DiagnosticIds.Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true,
            description: "An [MmuLock] member whose type has a method returning an [MmuLock] scope (a spin lock's Enter()) is held only through that scope. The 'lock' statement compiles for any object but takes its monitor, which excludes no one who takes the mmu_lock: the body runs without the lock, and is not a lock region.",
            helpLinkUri: DiagnosticIds.HelpLink(DiagnosticIds.MonitorOnScopedLock));
    }
}
