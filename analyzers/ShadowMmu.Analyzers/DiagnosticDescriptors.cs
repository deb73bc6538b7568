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
    
        /// <summary>MMU0005.</summary>
        public static readonly DiagnosticDescriptor ValueNotFollowed = new(
            DiagnosticIds.ValueNotFollowed,
            title: "A guest PTE value read without the mmu_lock is not followed here",
            messageFormat: "Guest PTE value {0}, read without the mmu_lock, is not followed here: {1}",
            category: DiagnosticIds.Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "MMU0001 follows guest PTE values through locals, struct fields, elements, copies, slices, patterns and calls. Where a value goes somewhere the analysis cannot follow (a field of a class, a closure, memory it cannot name), it does not guess: it says so here, so that a use under the lock cannot go unchecked silently. Re-read or re-validate the value where it is used under the lock, or keep it where the analysis can follow it (a local, a struct, an [UnlockedGuestPte] member).",
            helpLinkUri: DiagnosticIds.HelpLink(DiagnosticIds.ValueNotFollowed));

        /// <summary>MMU0006.</summary>
        public static readonly DiagnosticDescriptor NotChecked = new(
            DiagnosticIds.NotChecked,
            title: "A function too costly to analyse was not checked for MMU0001",
            messageFormat: "'{0}' was not checked for unchecked guest PTE uses (MMU0001): {1}; split it into smaller functions",
            category: DiagnosticIds.Category,
            defaultSeverity: DiagnosticSeverity.Warning,
            isEnabledByDefault: true,
            description: "The MMU0001 analysis of a function is bounded by a budget that grows with the function's size, so that no build waits on it. A function whose analysis needs more (an unusual mesh of loops, gotos and unrolled constant loops), or whose expressions nest deeper than the compiler's stack lets the analysis follow, is not checked, and says so here instead of passing silently.",
            helpLinkUri: DiagnosticIds.HelpLink(DiagnosticIds.NotChecked));

        /// <summary>MMU0007.</summary>
        public static readonly DiagnosticDescriptor UncheckedHostFrame = new(
            DiagnosticIds.UncheckedHostFrame,
            title: "Re-check the invalidation sequence before using a host frame resolved without the mmu_lock",
            messageFormat: "Host frame {0}, resolved without the mmu_lock, is used under {1} before a re-check in this lock region of an invalidation sequence snapshotted before it was resolved{2}",
            category: DiagnosticIds.Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true,
            description: "MMU0001's protocol for host frames (KVM's mmu_invalidate_seq): a host frame resolved from a guest frame without the mmu_lock ([HostFrameResolve]) may have been taken away or moved by the host since. Under the lock it may be installed or used only after a call ([RechecksInvalidationSnapshot]) re-checked a snapshot of the invalidation sequence ([InvalidationSnapshot]) taken before the frame was resolved, and said no invalidation ran since, in the same lock region and on every path to the use. A snapshot taken after the resolution covers nothing.",
            helpLinkUri: DiagnosticIds.HelpLink(DiagnosticIds.UncheckedHostFrame));

        /// <summary>MMU0008.</summary>
        public static readonly DiagnosticDescriptor ExclusiveUnderShared = new(
            DiagnosticIds.ExclusiveUnderShared,
            title: "Hold the exclusive side of the mmu_lock when calling a method that needs it",
            messageFormat: "'{0}' needs the exclusive side of the mmu_lock ([RequiresMmuLock]) but is called where only the shared side is held, under {1}{2}",
            category: DiagnosticIds.Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true,
            description: "A method marked [RequiresMmuLock] without Shared (or implementing or overriding one) changes what the readers of the lock's shared side read, and may only run under the exclusive side. Under the shared side ([MmuLock(Shared = true)] scope, or the body of a [RequiresMmuLock(Shared = true)] method) other vCPUs run the same code at the same time: take the exclusive side instead, or mark the method [RequiresMmuLock(Shared = true)] if it changes shared state only atomically.",
            helpLinkUri: DiagnosticIds.HelpLink(DiagnosticIds.ExclusiveUnderShared));

        /// <summary>MMU0009.</summary>
        public static readonly DiagnosticDescriptor GuardedWriteUnderShared = new(
            DiagnosticIds.GuardedWriteUnderShared,
            title: "Write state guarded by the exclusive side of the mmu_lock only under that side, or atomically",
            messageFormat: "'{0}' is guarded by the exclusive side of the mmu_lock ([GuardedByMmuLock]) but is written here where only the shared side is held, under {1}: take the exclusive side, or write it atomically (Interlocked, Volatile.Write)",
            category: DiagnosticIds.Category,
            defaultSeverity: DiagnosticSeverity.Error,
            isEnabledByDefault: true,
            description: "A field or property marked [GuardedByMmuLock] may be written plainly (assignment, compound assignment, ++/--, an element store into it, passing it by ref or out) only under the exclusive side of the mmu_lock (Clang's GUARDED_BY). Under the shared side other vCPUs read and write it at the same time: a plain write can be lost, torn or seen half-done. Reads are fine; System.Threading.Interlocked and Volatile.Write are atomic.",
            helpLinkUri: DiagnosticIds.HelpLink(DiagnosticIds.GuardedWriteUnderShared));
    }
}
