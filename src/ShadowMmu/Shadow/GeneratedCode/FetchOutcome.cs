namespace ShadowMmu;

/// <summary>What <c>Fetch</c> did.</summary>
public enum FetchOutcome
{
    /// <summary>The leaf is installed.</summary>
    Mapped,

    /// <summary>A guest entry changed since the walk read it: nothing stale was installed; the fault is retried.</summary>
    Retry,

    /// <summary>
    /// On the mmu_lock's shared side: the fault needs what only the exclusive side may do (a shadow page to create or
    /// link, a leaf to add to a reverse map, a table to make unsync). Nothing was changed; the fault runs again on the
    /// exclusive side (KVM's faults retry rather than upgrade the lock).
    /// </summary>
    NeedsExclusive,
}
