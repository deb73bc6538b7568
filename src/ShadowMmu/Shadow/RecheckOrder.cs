namespace ShadowMmu;

/// <summary>
/// When <c>Fetch</c> re-checks the guest entries the lock-free walk read. The default is <see cref="Fixed"/>; the
/// other two reproduce historical or deliberately broken orders so that the race they lose can be shown.
/// </summary>
public enum RecheckOrder
{
    /// <summary>
    /// KVM's order since 2010: the root entry first; then at every level, once the child shadow page is obtained
    /// (which write-protects its guest table), the entry inside that table; for the leaf, the one read of the
    /// 8-entry group that prefetch then uses.
    /// </summary>
    Fixed,

    /// <summary>
    /// The 2010 code before the fix: a level whose shadow entry is already present is passed with no check; only where
    /// a shadow page is obtained is the entry inside it (<c>ptes[level - 2]</c>) compared. No root check.
    /// </summary>
    PreFix,

    /// <summary>As <see cref="Fixed"/>, but the guest leaf entry is never re-checked.</summary>
    NoLeaf,
}

/// <summary>What each <see cref="RecheckOrder"/> does, for people and for the scenarios that narrate it.</summary>
public static class RecheckOrderFacts
{
    /// <summary>Whether the order re-checks the entry the walk read in the root table.</summary>
    public static bool ChecksRoot(this RecheckOrder order) => order != RecheckOrder.PreFix;

    /// <summary>Whether the order passes levels whose shadow entry is present with no lookup and no check.</summary>
    public static bool PassesPresentEntries(this RecheckOrder order) => order == RecheckOrder.PreFix;

    /// <summary>Whether the order re-checks the guest leaf entry.</summary>
    public static bool ChecksLeaf(this RecheckOrder order) => order != RecheckOrder.NoLeaf;
}

/// <summary>
/// Points inside <c>Fetch</c> where a deterministic scenario may act (another thread writing guest memory, say).
/// The default, <see cref="NoFetchHooks"/>, compiles to nothing.
/// </summary>
public interface IFetchHooks
{
    /// <summary>
    /// Called with the mmu_lock held, right after the shadow page <paramref name="child"/> for the guest table that
    /// holds the walk's entry at <paramref name="level"/> was obtained (the table is write-protected from here on),
    /// and before that entry is re-checked.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    void AfterChildPage(int level, ShadowPage child);

    /// <summary>
    /// Called by the fault path without the mmu_lock, after the guest walk succeeded and before the lock is taken for
    /// <c>Fetch</c>: the window in which the entries the walk read may change under it. Not called by <c>Fetch</c>.
    /// </summary>
    void AfterWalk(Vcpu vcpu, in GuestWalk walk)
    {
    }

    /// <summary>Called by the fault path with the mmu_lock held, right before <c>Fetch</c> (and its root re-check).</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    void BeforeFetch(Vcpu vcpu, in GuestWalk walk)
    {
    }

    /// <summary>Called by the fault path with the mmu_lock still held, right after <c>Fetch</c> returned <paramref name="outcome"/>.</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    void AfterFetch(Vcpu vcpu, FetchOutcome outcome)
    {
    }

    /// <summary>Called by the fault path without the mmu_lock, right after it released the lock that <c>Fetch</c> ran under, before the access is retried.</summary>
    void AfterUnlock(Vcpu vcpu)
    {
    }
}

/// <summary>No hooks.</summary>
public readonly struct NoFetchHooks : IFetchHooks
{
    /// <inheritdoc/>
    public void AfterChildPage(int level, ShadowPage child)
    {
    }
}

/// <summary>What <c>Fetch</c> did.</summary>
public enum FetchOutcome
{
    /// <summary>The leaf is installed.</summary>
    Mapped,

    /// <summary>A guest entry changed since the walk read it: nothing stale was installed; the fault is retried.</summary>
    Retry,
}

/// <summary>The generated half of the shadow MMU for one paging mode: <c>Fetch</c> and <c>Prefetch</c>, and where the roots are.</summary>
public interface IShadowFetcher
{
    /// <summary>Level of the shadow root pages: the mode's root level, or 2 where four roots sit under a 4-entry root (PAE, 32-bit).</summary>
    int ShadowRootLevel { get; }

    /// <summary>
    /// Decodes guest entry <paramref name="pte"/> of <paramref name="level"/> as the walk reads it: false when it is not
    /// present or has a reserved bit set; else whether it maps a page, the frame it names (page or table) and its rights.
    /// </summary>
    bool TryDecodeGpte(ulong pte, int level, out GpteInfo info);

    /// <summary>
    /// The guest entry's dirty flag (x86: bit 6; EPT: bit 9 when EPTP enables A/D), or 0 when the guest's entries have
    /// none: then no page is clean, and none is mapped read-only to catch its first write.
    /// </summary>
    ulong GuestDirtyMask { get; }

    /// <summary>Fills <paramref name="roots"/> with the guest tables the shadow roots shadow; returns how many slots (1 or 4).</summary>
    int GetRootTables(System.Span<RootTable> roots);

    /// <summary>
    /// Builds the shadow pages along <paramref name="walk"/> and installs the leaf with <paramref name="leafAccess"/>,
    /// re-checking the guest entries in <paramref name="order"/>. The caller holds the mmu_lock.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    FetchOutcome Fetch(Vcpu vcpu, ref GuestWalk walk, uint leafAccess, RecheckOrder order, IFetchHooks? hooks);
}

/// <summary>A guest entry as the walk reads it.</summary>
/// <param name="MapsPage">True when the entry maps a page (a leaf).</param>
/// <param name="Gfn">The frame of the table it references, or the first frame of the page it maps.</param>
/// <param name="Access">The rights this entry grants (U W X).</param>
/// <param name="Dirty">The entry's dirty flag (leaves).</param>
public readonly record struct GpteInfo(bool MapsPage, ulong Gfn, uint Access, bool Dirty);
