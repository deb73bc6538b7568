namespace ShadowMmu.Analyzers
{
    /// <summary>The rules' identifiers, shared by the analyzers, the code fixes, the tests and the docs (docs/analyzers/ID.md).</summary>
    public static class DiagnosticIds
    {
        /// <summary>A guest PTE value read without the mmu_lock is used under the lock before it is re-validated in that lock region.</summary>
        public const string UncheckedGuestPte = "MMU0001";

        /// <summary>A method that requires the mmu_lock (<c>[RequiresMmuLock]</c>) is called where the lock is not held.</summary>
        public const string LockNotHeld = "MMU0002";

        /// <summary>The mmu_lock is taken (<c>Monitor.Enter</c>, <c>Lock.Enter</c>, a scope) where it is not released on every path.</summary>
        public const string LockNotReleased = "MMU0003";

        /// <summary><c>lock (x)</c> on an mmu_lock that is taken through a scope (<c>using (x.Enter())</c>): it takes a monitor nothing else takes.</summary>
        public const string MonitorOnScopedLock = "MMU0004";

        /// <summary>A guest PTE value read without the mmu_lock reaches code whose effect on it the analysis does not follow (MMU0001 cannot say whether it is used unchecked).</summary>
        public const string ValueNotFollowed = "MMU0005";

        /// <summary>A function was not checked for MMU0001: following its values took more work than the analysis allows for its size.</summary>
        public const string NotChecked = "MMU0006";

        /// <summary>
        /// A host frame resolved without the mmu_lock is used under the lock before a re-check, in that lock region, of an
        /// invalidation-sequence snapshot taken before the frame was resolved.
        /// </summary>
        public const string UncheckedHostFrame = "MMU0007";

        /// <summary>A method that needs the exclusive side of the mmu_lock (<c>[RequiresMmuLock]</c>) is called where only the shared side is held.</summary>
        public const string ExclusiveUnderShared = "MMU0008";

        /// <summary>A member guarded by the exclusive side of the mmu_lock (<c>[GuardedByMmuLock]</c>) is written plainly (not atomically) where only the shared side is held.</summary>
        public const string GuardedWriteUnderShared = "MMU0009";

        /// <summary>The category of every rule.</summary>
        public const string Category = "ShadowMmu.Locking";

        /// <summary>Where each rule's page lives.</summary>
        public const string HelpLinkBase = "https://github.com/shadowmmu/shadowmmu/blob/main/docs/analyzers/";

        /// <summary>The help page of <paramref name="id"/>.</summary>
        public static string HelpLink(string id) => HelpLinkBase + id + ".md";
    }

    /// <summary>Keys of <see cref="Microsoft.CodeAnalysis.Diagnostic.Properties"/> that the analyzers fill for the code fixes.</summary>
    public static class DiagnosticProperties
    {
        /// <summary>MMU0001: the value to re-validate, as an expression that means the same at the start of the lock region.</summary>
        public const string Value = "Value";

        /// <summary>MMU0001: position of the opening brace of the block the re-validation goes into.</summary>
        public const string BlockStart = "BlockStart";

        /// <summary>MMU0001: index of the statement of that block before which the re-validation goes.</summary>
        public const string InsertIndex = "InsertIndex";

        /// <summary>MMU0002: the expression naming the mmu_lock to take around the call.</summary>
        public const string Lock = "Lock";

        /// <summary>
        /// MMU0002, MMU0004: the method of the mmu_lock that takes it as a scope (<c>Enter</c>), when <c>lock</c> does not
        /// take it. MMU0008: the method that takes the exclusive side, to call in place of the one that took the shared
        /// side (the diagnostic's additional location).
        /// </summary>
        public const string Enter = "Enter";
    }
}
