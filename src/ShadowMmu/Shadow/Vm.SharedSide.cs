using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// What a fault and an INVLPG do on the mmu_lock's shared side (issue 18; docs/parallel-faults.md), as KVM's TDP MMU
/// does under <c>read_lock(&amp;kvm-&gt;mmu_lock)</c>: they follow shadow pages that exist and are linked, and change
/// leaves only with a compare-exchange. Nothing here creates, links or zaps a page, adds to or removes from a reverse
/// map, or changes a frame's protection: when a fault needs any of that, the shared side answers
/// <see cref="FetchOutcome.NeedsExclusive"/> having changed nothing, and the fault runs again on the exclusive side.
/// </summary>
/// <remarks>
/// A leaf dropped on the shared side becomes a tombstone (<see cref="Spte.Tombstone"/>) that stays on its frame's
/// reverse map, so that INVLPG and the fault that follows it leave the reverse map alone; a fault installs only over
/// such a tombstone, or over a present leaf, of the same frame.
/// </remarks>
public sealed partial class Vm
{
    /// <summary>
    /// Whether faults and INVLPG try the mmu_lock's shared side first (default true). False runs every one on the
    /// exclusive side, as the seed's shadow MMU did (for comparison; the race scenarios narrate that protocol).
    /// </summary>
    public bool SharedFaults { get; set; } = true;

    /// <summary>A flaw put into the shared side on purpose, to show what its rules prevent (tests only; deliberately unsafe).</summary>
    internal SharedSideFlaw Flaw { get; set; }

    /// <summary>
    /// Guest flushes are recorded for the audit's TLB oracle (<see cref="Tlb"/>) once a table has gone unsync: before
    /// that every shadow entry is exact, and recording every INVLPG would write one shared line on every fault loop.
    /// </summary>
    internal bool RecordsFlushes => Volatile.Read(ref _recordsFlushes);

    private bool _recordsFlushes;

    /// <summary>From the first unsync table on, flushes are recorded; until then every entry was exact, as after a flush of everything.</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private void StartRecordingFlushes()
    {
        if (!_recordsFlushes)
        {
            Tlb.FlushAll();
            Volatile.Write(ref _recordsFlushes, true);
        }
    }

    /// <summary>
    /// True when a fault must make room first (<see cref="MakePagesAvailable"/>, the exclusive side's work): fewer than a
    /// fault's worth of pages left under the limit. Zapped pages waiting for their grace period are reclaimed by the next
    /// fault on the exclusive side, or by a top-up that finds the pool empty; a fault on the shared side makes no page.
    /// </summary>
    internal bool NeedsRoom => Volatile.Read(ref _activeCount) > MaxShadowPages - PagesPerFault;

    /// <summary>
    /// <see cref="GetChildPage"/> on the shared side: the child page that entry <paramref name="index"/> of
    /// <paramref name="parent"/> links already for (<paramref name="gfn"/>, <paramref name="role"/>), or null when it links
    /// none or another (the exclusive side makes or links it).
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ShadowPage? FindLinkedChild(ShadowPage parent, int index, ulong gfn, ShadowRole role)
    {
        if (parent.WriteFloodCount != 0)
        {
            // A fault through the page ends its flood count; only when set: every vCPU's fault passes through the same
            // upper pages, and a store to each would move their lines between cores on every fault. Trapped writes count
            // on the exclusive side only, so the one race is between readers storing the same 0.
            Volatile.Write(ref parent.WriteFloodCount, 0);
        }

        ulong spte = parent[index];
        if (!Spte.IsPresent(spte))
        {
            return null;
        }

        ShadowPage current = _pages[Spte.ChildId(spte)]!;
        return current.Gfn == gfn && current.Role == role ? current : null;
    }

    /// <summary>
    /// <see cref="SetLeaf"/> on the shared side: installs the leaf for <paramref name="gfn"/> (host frame
    /// <paramref name="pfn"/>) in entry <paramref name="index"/> of <paramref name="page"/> if it still holds
    /// <paramref name="expected"/>, the value the caller read before it re-checked the guest entry (<see cref="ReplaceLeaf"/>). <see cref="FetchOutcome.Retry"/>
    /// when the entry changed meanwhile (another vCPU installed or dropped it); <see cref="FetchOutcome.NeedsExclusive"/>,
    /// with nothing changed, when the install would change a reverse map or make a table unsync.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FetchOutcome InstallLeafShared(Vcpu vcpu, ShadowPage page, int index, ulong gfn, ulong pfn, uint access, int protectionKey, ulong expected)
    {
        if (!TryLimitWriteShared(gfn, ref access, prefetched: false))
        {
            return FetchOutcome.NeedsExclusive;
        }

        ulong spte = Spte.Leaf(gfn, pfn, access, protectionKey, prefetched: false);
        if (!KeepsReverseMap(page, index, gfn, spte, expected))
        {
            return FetchOutcome.NeedsExclusive;
        }

        Scheduling?.At(SchedulingPoint.SharedBeforeInstall);
        if (spte == expected)
        {
            // KVM's RET_PF_SPURIOUS (tdp_mmu_map_handle_target_level: the new SPTE equals the old one): nothing to write,
            // and no locked instruction. If the entry changed since it was read, the access faults again.
            return FetchOutcome.Mapped;
        }

        if (Flaw == SharedSideFlaw.PlainStoreInstall)
        {
            return InstallWithPlainStore(page, index, spte);
        }

        return ReplaceLeaf(vcpu, page, index, spte, expected) ? FetchOutcome.Mapped : FetchOutcome.Retry;
    }

    /// <summary>
    /// Writes <paramref name="spte"/> into entry <paramref name="index"/> of <paramref name="page"/> if it still holds
    /// <paramref name="expected"/>: a compare-exchange, or a plain store when only <paramref name="vcpu"/>'s roots reach
    /// the page (<see cref="ShadowPage.ReachedBy"/>). No other vCPU can then write the entry, and the exclusive side,
    /// which alone changes what reaches the page, is kept out by this hold: the compare-exchange could not fail, and its
    /// locked instruction would be all it cost (docs/parallel-faults.md, "A page one vCPU reaches").
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ReplaceLeaf(Vcpu vcpu, ShadowPage page, int index, ulong spte, ulong expected)
    {
        ref ulong entry = ref page.Entry(index);
        if (page.ReachedBy == vcpu.Id)
        {
            System.Diagnostics.Debug.Assert(Volatile.Read(ref entry) == expected, "only this vCPU writes the entry during its hold of the shared side");
            Volatile.Write(ref entry, spte);
            return true;
        }

        return Interlocked.CompareExchange(ref entry, spte, expected) == expected;
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("ShadowMmu.Locking", "MMU0008", Justification = "Deliberately unsafe: SharedSideFlaw.PlainStoreInstall, for the test that shows why the install is a compare-exchange.")]
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    private static FetchOutcome InstallWithPlainStore(ShadowPage page, int index, ulong spte)
    {
        page.Set(index, spte);
        return FetchOutcome.Mapped;
    }

    /// <summary>
    /// A prefetched leaf on the shared side, as <see cref="InstallLeafShared"/>: installed only over a tombstone of the
    /// same frame, if the entry still holds <paramref name="expected"/> (<see cref="ReplaceLeaf"/>). False when it was not (prefetch goes on with
    /// the next neighbour: it is optional).
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    public bool PrefetchLeafShared(Vcpu vcpu, ShadowPage page, int index, ulong gfn, ulong pfn, uint access, int protectionKey, ulong expected)
    {
        if (!Spte.IsTombstone(expected) || page.GfnAt(index) != gfn || !TryLimitWriteShared(gfn, ref access, prefetched: true))
        {
            return false;
        }

        ulong spte = Spte.Leaf(gfn, pfn, access, protectionKey, prefetched: true);
        if (!ReplaceLeaf(vcpu, page, index, spte, expected))
        {
            return false;
        }

        vcpu.Counters.Add(ShadowCounter.Prefetched);
        return true;
    }

    /// <summary>True when prefetch may run on the shared side: no host invalidation is in progress (it adds no reverse-map links).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    public bool CanPrefetchShared() => !InvalidationInProgress;

    /// <summary>
    /// KVM's <c>__kvm_mmu_invalidate_addr</c> for one root on the shared side: the leaf for <paramref name="va"/>, in sync
    /// or unsync, becomes a tombstone with <paramref name="stamp"/> (the next access faults and re-reads the guest entry,
    /// which for an unsync table is the re-sync the exclusive side does in place). True when a present leaf was dropped.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    internal bool InvalidateAddrShared(ShadowPage? root, ulong va, ulong stamp)
    {
        ShadowPage? page = root;
        for (int level = page?.Role.Level ?? 0; page != null && page.Valid && level > 1; level--)
        {
            ulong link = page[Vcpu.ShadowIndex(va, level)];
            if (!Spte.IsPresent(link))
            {
                return false;
            }

            page = _pages[Spte.ChildId(link)];
        }

        if (page == null || !page.Valid || page.Role.Level != 1)
        {
            return false;
        }

        // A tombstone is stamped again too: a fault that read it before its re-check must not install after this flush.
        // An entry on no reverse map (never mapped, or dropped on the exclusive side) is left: no fault on the shared side
        // installs over it. A plain store is enough: the entry's other writers meanwhile are other vCPUs' installs by
        // compare-exchange (which fail once the tombstone is in) and the hardware's atomic OR of the accessed bit (which
        // leaves a tombstone a tombstone); whoever comes first, the entry ends as a tombstone no one wrote before. (In a
        // page only this vCPU reaches there is no other writer, and its own installs are plain stores: ReplaceLeaf.)
        ref ulong entry = ref page.Entry(Vcpu.ShadowIndex(va, 1));
        ulong spte = Volatile.Read(ref entry);
        if (!Spte.IsPresent(spte) && !Spte.IsTombstone(spte))
        {
            return false;
        }

        Volatile.Write(ref entry, Spte.Tombstone(Flaw == SharedSideFlaw.UnstampedTombstones ? 0 : stamp));
        return Spte.IsPresent(spte);
    }

    /// <summary>
    /// The rights a leaf for <paramref name="gfn"/> may have, decided on the shared side as <see cref="SetLeaf"/> decides
    /// them (<see cref="DecideLeafWrite"/>); false when only making the frame's pages unsync would allow W (the exclusive
    /// side's work).
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryLimitWriteShared(ulong gfn, ref uint access, bool prefetched)
    {
        if ((access & AccessRights.Write) == 0 || !IsShadowed(gfn))
        {
            return true;
        }

        switch (DecideLeafWrite(gfn, prefetched))
        {
            case LeafWrite.Writable:
                return true;
            case LeafWrite.ReadOnly:
                access &= ~AccessRights.Write;
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// True when writing leaf <paramref name="spte"/> for <paramref name="gfn"/> over <paramref name="expected"/> leaves
    /// every reverse map as it is: the entry holds a tombstone or a present leaf of the same guest and host frame.
    /// </summary>
    private static bool KeepsReverseMap(ShadowPage page, int index, ulong gfn, ulong spte, ulong expected) =>
        page.GfnAt(index) == gfn
        && (Spte.IsTombstone(expected) || (Spte.IsPresent(expected) && Spte.Frame(expected) == Spte.Frame(spte) && (expected & Spte.NoSlot) == (spte & Spte.NoSlot)));
}

/// <summary>Flaws put into the shared side on purpose (<see cref="Vm.Flaw"/>): each breaks one rule the design rests on.</summary>
internal enum SharedSideFlaw
{
    /// <summary>None: the shared side as designed.</summary>
    None,

    /// <summary>The leaf is installed with a plain store, not a compare-exchange from the value read before the re-check.</summary>
    PlainStoreInstall,

    /// <summary>INVLPG's tombstones carry no stamp: a drop over a tombstone writes the value it found.</summary>
    UnstampedTombstones,

    /// <summary>A trapped guest write zaps without the exclusive side, so it does not wait for the faults on the shared side.</summary>
    TrapWithoutExclusion,
}
