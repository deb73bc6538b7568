namespace ShadowMmu.Analyzers
{
    /// <summary>
    /// Which side of the mmu_lock a region holds (Clang's shared and exclusive capabilities). A plain lock has only the
    /// exclusive side; a reader-writer mmu_lock's shared side lets readers run together.
    /// </summary>
    internal enum LockMode
    {
        /// <summary>The lock is not held.</summary>
        None = 0,

        /// <summary>The shared side: enough to re-validate (MMU0001, MMU0007) and for [RequiresMmuLock(Shared = true)] methods.</summary>
        Shared = 1,

        /// <summary>The exclusive side, or the only side of a plain lock: enough for everything.</summary>
        Exclusive = 2,
    }
}
