namespace ShadowMmu;

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
    /// mapping host frame <paramref name="pfn"/> (which the fault resolved before it took the lock, and found still
    /// current under it), re-checking the guest entries in <paramref name="order"/>. The caller holds the mmu_lock.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    FetchOutcome Fetch(Vcpu vcpu, ref GuestWalk walk, uint leafAccess, ulong pfn, RecheckOrder order, IFetchHooks? hooks);

    /// <summary>
    /// <see cref="Fetch"/> in the fixed order on the mmu_lock's shared side: follows the shadow pages along
    /// <paramref name="walk"/> only where they exist and are linked, re-checking each guest entry as <see cref="Fetch"/>
    /// does, and installs the leaf (and prefetches) with compare-exchanges, or plain stores in pages only
    /// <paramref name="vcpu"/> reaches. <see cref="FetchOutcome.NeedsExclusive"/>, with
    /// nothing changed, when a page must be created or linked or a reverse map changed: the fault then runs
    /// <see cref="Fetch"/> on the exclusive side. The caller holds the shared side (or the exclusive one).
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    FetchOutcome FetchShared(Vcpu vcpu, ref GuestWalk walk, uint leafAccess, ulong pfn, IFetchHooks? hooks);

    /// <summary>
    /// KVM's <c>kvm_sync_page</c> (a loop of <c>FNAME(sync_spte)</c>) for unsync page <paramref name="sp"/> of this mode:
    /// every present leaf re-read from its guest entry and updated or dropped. Returns how many changed. The caller
    /// holds the mmu_lock and decides whether the page is write-protected again.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    int SyncPage(Vm vm, ShadowPage sp);

    /// <summary>
    /// INVLPG on an unsync page (the old <c>FNAME(invlpg)</c>): leaf <paramref name="index"/> of <paramref name="sp"/>
    /// re-read from its guest entry and updated, dropped, or installed as a prefetch. True when it changed.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    bool SyncSpte(Vm vm, ShadowPage sp, int index);
}
