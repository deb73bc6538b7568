using System.ComponentModel;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// Unsync shadow pages (KVM's mmu.c: <c>mmu_try_to_unsync_pages</c>, <c>kvm_unsync_page</c>, <c>mmu_sync_children</c>,
/// <c>kvm_mmu_sync_roots</c>, <c>kvm_mmu_invalidate_addr</c>). When the guest maps one of its tables of 4 KiB pages
/// writable, the shadow pages of that table go unsync instead of keeping it write-protected: the guest then edits it
/// without a trap, as the architecture lets it until it flushes the TLB; KVM re-reads the entries at the flush. Tables
/// of the upper levels are never unsync (they stay write-tracked), nor is a frame while it is also shadowed at an upper
/// level, nor during a sync.
/// </summary>
public sealed partial class Vm
{
    [ShadowMmu.Annotations.GuardedByMmuLock]
    private readonly int[] _syncPages;        // per guest frame: indirect shadow pages of it that are not unsync (writes trap)
    [ShadowMmu.Annotations.GuardedByMmuLock]
    private readonly int[] _writeTracked;     // per guest frame: indirect shadow pages of it above level 1 (never unsync)

    /// <summary>Whether tables of 4 KiB pages may go unsync (default true); false keeps every shadowed table write-protected.</summary>
    public bool UnsyncEnabled { get; set; } = true;

    /// <summary>The guest's TLB as the architecture lets it be: the audit's oracle for unsync tables.</summary>
    public GuestTlb Tlb { get; } = new();

    /// <summary>True while some shadow page shadows guest frame <paramref name="gfn"/>, in sync or not.</summary>
    public bool IsShadowed(ulong gfn) => gfn < (ulong)_shadowedBy.Length && Volatile.Read(ref _shadowedBy[gfn]) > 0;

    /// <summary>
    /// True when a guest write to <paramref name="gfn"/> can never be let through a writable mapping: an upper-level
    /// shadow page shadows it (KVM's write tracking), or unsync is off and any does. The fault path emulates such writes.
    /// </summary>
    public bool IsWriteTracked(ulong gfn) =>
        gfn < (ulong)_writeTracked.Length && (Volatile.Read(ref _writeTracked[gfn]) > 0 || (!UnsyncEnabled && Volatile.Read(ref _syncPages[gfn]) > 0));

    /// <summary>The address-space tag of shadow root <paramref name="root"/> for <see cref="Tlb"/>: its guest table and role.</summary>
    public static ulong ContextOf(ShadowPage root) => ((ulong)root.Role.Word << 44) | (root.Gfn & 0xFFF_FFFF_FFFF);

    /// <summary>The bits of <paramref name="va"/> that root <paramref name="root"/> translates (a PAE or 32-bit root covers 1 GiB).</summary>
    public static ulong WithinRoot(ShadowPage root, ulong va) => va & ((1UL << (12 + (9 * root.Role.Level))) - 1);

    /// <summary>What a leaf for a shadowed frame may be: writable, read-only, or writable once the frame's pages go unsync.</summary>
    private enum LeafWrite
    {
        Writable,
        ReadOnly,
        WritableIfUnsynced,
    }

    /// <summary>
    /// KVM's <c>mmu_try_to_unsync_pages</c>' decision for a writable leaf of shadowed frame <paramref name="gfn"/>, without
    /// the unsync itself: read-only while write-tracked (or unsync is off), or for a prefetch while a page is in sync (KVM's
    /// -EEXIST); writable when every page is unsync already; else writable once they go unsync. Either side may ask.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private LeafWrite DecideLeafWrite(ulong gfn, bool prefetch) =>
        !UnsyncEnabled || _writeTracked[gfn] > 0 ? LeafWrite.ReadOnly
        : _syncPages[gfn] == 0 ? LeafWrite.Writable
        : prefetch ? LeafWrite.ReadOnly
        : LeafWrite.WritableIfUnsynced;

    /// <summary>
    /// KVM's <c>mmu_try_to_unsync_pages</c>, when a leaf for <paramref name="gfn"/> is to be writable: true when the
    /// frame's shadow pages are (or now go) unsync, so the mapping may be writable; false when it must stay read-only.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private bool MmuTryToUnsyncPages(ulong gfn, bool prefetch)
    {
        LeafWrite decision = DecideLeafWrite(gfn, prefetch);
        if (decision != LeafWrite.WritableIfUnsynced)
        {
            return decision == LeafWrite.Writable;
        }

        for (int node = _gfnPagesHead[gfn]; node != LinkPool.None; node = _links.Next(node))
        {
            ShadowPage page = _pages[_links.PageOf(node)]!;
            if (!page.Unsync)
            {
                KvmUnsyncPage(page);
            }
        }

        return true;
    }

    /// <summary>KVM's <c>kvm_unsync_page</c>: the page stops write-protecting its frame, and its parents learn it has an unsync child.</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private void KvmUnsyncPage(ShadowPage page)
    {
        StartRecordingFlushes();
        page.Unsync = true;
        Interlocked.Decrement(ref _syncPages[page.Gfn]);
        Stats.Vm.Add(ShadowCounter.UnsyncPages);
        MarkParentsUnsync(page);
    }

    /// <summary>KVM's <c>kvm_mmu_mark_parents_unsync</c>: every entry that links <paramref name="page"/> gets its bit.</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private void MarkParentsUnsync(ShadowPage page)
    {
        for (int node = page.ParentHead; node != LinkPool.None; node = _links.Next(node))
        {
            MarkUnsync(_pages[_links.PageOf(node)]!, _links.IndexOf(node));
        }
    }

    /// <summary>KVM's <c>mark_unsync</c>: sets the entry's bit; a page's first unsync child is news for its own parents.</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private void MarkUnsync(ShadowPage parent, int index)
    {
        ref ulong word = ref parent.UnsyncChildBitmap[index >> 6];
        ulong bit = 1UL << (index & 63);
        if ((word & bit) != 0)
        {
            return;
        }

        word |= bit;
        if (parent.UnsyncChildren++ == 0)
        {
            MarkParentsUnsync(parent);
        }
    }

    [ShadowMmu.Annotations.RequiresMmuLock]
    private static void ClearUnsyncChildBit(ShadowPage page, int index)
    {
        ref ulong word = ref page.UnsyncChildBitmap[index >> 6];
        ulong bit = 1UL << (index & 63);
        if ((word & bit) != 0)
        {
            word &= ~bit;
            page.UnsyncChildren--;
        }
    }

    /// <summary>
    /// KVM's <c>mmu_sync_children</c> (as <c>kvm_mmu_sync_roots</c> runs it at a CR3 load): every unsync page reachable
    /// from <paramref name="parent"/> is write-protected again and re-read from the guest. Recursive over at most five
    /// levels; allocation-free.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    internal void MmuSyncChildren(ShadowPage parent)
    {
        if (parent.UnsyncChildren == 0)
        {
            return;
        }

        for (int w = 0; w < parent.UnsyncChildBitmap.Length; w++)
        {
            for (ulong bits = parent.UnsyncChildBitmap[w]; bits != 0; bits &= bits - 1)
            {
                int index = (w << 6) + BitOperations.TrailingZeroCount(bits);
                ulong spte = parent[index];
                if (!Spte.IsPresent(spte))
                {
                    ClearUnsyncChildBit(parent, index);
                    continue;
                }

                ShadowPage child = _pages[Spte.ChildId(spte)]!;
                if (child.UnsyncChildren > 0)
                {
                    MmuSyncChildren(child);
                }
                else if (child.Unsync)
                {
                    SyncAndProtect(child);
                }

                if (!child.Valid || (child.UnsyncChildren == 0 && !child.Unsync))
                {
                    ClearUnsyncChildBit(parent, index);
                }
            }
        }
    }

    /// <summary>
    /// An unsync page back in sync: its frame write-protected again (with the writable mappings made read-only and every
    /// vCPU store through one finished, KVM's <c>rmap_write_protect</c> and remote TLB flush), then its entries re-read
    /// (<c>kvm_sync_page</c>); zapped if its guest table cannot be read.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private void SyncAndProtect(ShadowPage page)
    {
        page.Unsync = false;
        Interlocked.Increment(ref _syncPages[page.Gfn]);
        if (StripWritable(page.Gfn))
        {
            WaitForShadowWalksBefore(Interlocked.Increment(ref _epoch));
        }

        Scheduling?.At(SchedulingPoint.SyncAfterProtect);
        SyncPageEntries(page);
        if (page.Valid && _syncPages[page.Gfn] == _shadowedBy[page.Gfn])
        {
            // Every shadow page of the frame is exact again: what the guest's TLB may hold no longer matters to the audit.
            Tlb.ForgetFrame(page.Gfn);
        }
    }

    /// <summary>KVM's <c>kvm_sync_page</c> without the write protection: the entries of an unsync page re-read; it stays unsync.</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private void SyncPageEntries(ShadowPage page)
    {
        Stats.Vm.Add(ShadowCounter.Syncs);
        if (!_decoders.TryGetValue(page.Role.Cpu.Word, out IShadowFetcher? sync) || sync.SyncPage(this, page) < 0)
        {
            Zap(page);
        }
    }

    /// <summary>
    /// KVM's <c>kvm_mmu_sync_roots</c> for <paramref name="vcpu"/>'s roots at a CR3 load: every unsync page they reach,
    /// synced and write-protected.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    internal void SyncRoots(Vcpu vcpu)
    {
        for (int slot = 0; slot < vcpu.RootSlots; slot++)
        {
            if (vcpu.Root(slot) is ShadowPage root && root.Valid)
            {
                MmuSyncChildren(root);
            }
        }
    }

    /// <summary>
    /// KVM's <c>__kvm_mmu_invalidate_addr</c> for one root: down the shadow path of <paramref name="va"/>, the leaf of an
    /// unsync page re-read (and re-installed as a prefetch); the model's INVLPG also drops the leaf of a page in sync,
    /// so that the next access faults (KVM leaves it: write protection kept it exact).
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    internal bool InvalidateAddr(ShadowPage? root, ulong va)
    {
        ShadowPage? page = root;
        for (int level = page?.Role.Level ?? 0; page != null && page.Valid && level >= 1; level--)
        {
            int index = Vcpu.ShadowIndex(va, level);
            ulong spte = page[index];
            if (level == 1)
            {
                if (page.Unsync && !page.Role.Direct && _decoders.TryGetValue(page.Role.Cpu.Word, out IShadowFetcher? sync))
                {
                    Stats.Vm.Add(ShadowCounter.Syncs);
                    sync.SyncSpte(this, page, index);
                    return true;
                }

                if (Spte.IsPresent(spte))
                {
                    DropSpte(page, index);
                    return true;
                }

                return false;
            }

            if (!Spte.IsPresent(spte))
            {
                return false;
            }

            page = _pages[Spte.ChildId(spte)];
        }

        return false;
    }

    /// <summary>Makes every leaf that maps <paramref name="gfn"/> read-only; true when one was writable.</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private bool StripWritable(ulong gfn)
    {
        bool stripped = false;
        for (int node = _rmapHead[gfn]; node != LinkPool.None; node = _links.Next(node))
        {
            ShadowPage leafPage = _pages[_links.PageOf(node)]!;
            int index = _links.IndexOf(node);
            ulong spte = leafPage[index];
            if ((spte & Spte.Writable) != 0)
            {
                leafPage.Set(index, spte & ~Spte.Writable);
                stripped = true;
            }
        }

        return stripped;
    }

    /// <summary>Drops leaf <paramref name="index"/> of <paramref name="page"/> (for generated <c>Sync</c>: the caller holds the mmu_lock).</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [ShadowMmu.Annotations.RequiresMmuLock]
    public void DropLeaf(ShadowPage page, int index)
    {
        DropSpte(page, index);
        Stats.Vm.Add(ShadowCounter.ZappedEntries);
    }

    /// <summary>
    /// KVM's <c>make_spte</c> from <c>FNAME(sync_spte)</c> for a leaf whose guest frame is unchanged: the host frame stays,
    /// the rights become <paramref name="access"/>, less W when a shadow page shadows the frame (a sync never makes a
    /// page unsync: KVM's <c>synchronizing</c>). True when the leaf changed. For generated <c>Sync</c>, under the mmu_lock.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [ShadowMmu.Annotations.RequiresMmuLock]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool SyncLeaf(ShadowPage page, int index, uint access, int protectionKey)
    {
        ulong gfn = page.GfnAt(index);
        if (IsShadowed(gfn))
        {
            access &= ~AccessRights.Write;
        }

        ulong old = page[index];
        ulong keep = old & (Spte.FrameMask | Spte.NoSlot | Spte.Accessed | Spte.Prefetched | Spte.Present);
        ulong spte = keep
            | ((access & AccessRights.Write) != 0 ? Spte.Writable : 0)
            | ((access & AccessRights.User) != 0 ? Spte.User : 0)
            | ((access & AccessRights.Execute) == 0 ? Spte.NoExecute : 0)
            | ((ulong)protectionKey << 59);
        if (spte == old)
        {
            return false;
        }

        page.Set(index, spte);
        return true;
    }
}
