using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace ShadowMmu;

/// <summary>
/// The part of the VM that generated <c>Fetch</c> and <c>Prefetch</c> call, under the mmu_lock (KVM's
/// kvm_mmu_get_child_sp, link_shadow_page, mmu_set_spte). Public because a walker generated from a consumer's own spec
/// is compiled into the consumer's assembly; hidden from IntelliSense because nothing else should call it.
/// </summary>
public sealed partial class Vm
{
    /// <summary>
    /// KVM's kvm_mmu_get_child_sp: the child page that entry <paramref name="index"/> of <paramref name="parent"/>
    /// should link for (<paramref name="gfn"/>, <paramref name="role"/>). <paramref name="linked"/> is true when the
    /// entry links it already; an entry linking another page is dropped first.
    /// </summary>
    /// <remarks>For generated <c>Fetch</c>: the caller holds the mmu_lock.</remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [ShadowMmu.Annotations.RequiresMmuLock]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ShadowPage GetChildPage(Vcpu vcpu, ShadowPage parent, int index, ulong gfn, ShadowRole role, out bool linked)
    {
        System.Diagnostics.Debug.Assert(MmuLock.IsHeldByCurrentThread, "the mmu_lock is held");
        ShadowPage? current = FindLinkedChild(parent, index, gfn, role);
        linked = current != null;
        return current ?? GetOtherChildPage(vcpu, parent, index, gfn, role);
    }

    // The entry links no page or another one (dropped): the page for (gfn, role), found or made. Out of line: in a
    // steady state the entry links the page already.
    [ShadowMmu.Annotations.RequiresMmuLock]
    private ShadowPage GetOtherChildPage(Vcpu vcpu, ShadowPage parent, int index, ulong gfn, ShadowRole role)
    {
        DropSpte(parent, index);
        return FindOrCreate(gfn, role, vcpu.PageCache, out _);
    }

    /// <summary>Points entry <paramref name="index"/> of <paramref name="parent"/> at <paramref name="child"/>.</summary>
    /// <remarks>For generated <c>Fetch</c>: the caller holds the mmu_lock.</remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [ShadowMmu.Annotations.RequiresMmuLock]
    public void Link(ShadowPage parent, int index, ShadowPage child)
    {
        _links.Add(ref child.ParentHead, parent.Id, index);
        MarkReachedBy(child, parent.ReachedBy);
        parent.Set(index, Spte.Link(child.Id));
        if (child.Unsync || child.UnsyncChildren > 0)
        {
            // KVM's link_shadow_page: the parent learns it reaches an unsync page, for the next CR3 load's sync.
            MarkUnsync(parent, index);
        }
    }

    /// <summary>
    /// KVM's <c>mmu_set_spte</c>: installs a leaf in <paramref name="page"/> at <paramref name="index"/> for guest frame
    /// <paramref name="gfn"/>, backed by host frame <paramref name="pfn"/> (<see cref="HostFrames.None"/> outside guest
    /// memory). A writable leaf for a frame that a shadow page shadows makes that table unsync where KVM would
    /// (<c>mmu_try_to_unsync_pages</c>); otherwise the leaf is read-only, so that writes to the table trap.
    /// </summary>
    /// <remarks>For generated <c>Fetch</c> and <c>Prefetch</c>: the caller holds the mmu_lock.</remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [ShadowMmu.Annotations.RequiresMmuLock]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetLeaf(ShadowPage page, int index, ulong gfn, ulong pfn, uint access, int protectionKey, bool prefetched)
    {
        if ((access & AccessRights.Write) != 0 && IsShadowed(gfn) && !MmuTryToUnsyncPages(gfn, prefetched))
        {
            access &= ~AccessRights.Write;
        }

        ulong old = page[index];
        ulong spte = Spte.Leaf(gfn, pfn, access, protectionKey, prefetched);
        if (Spte.IsPresent(old) && page.GfnAt(index) == gfn && Spte.Frame(old) == Spte.Frame(spte))
        {
            // The same frame again (KVM's mmu_set_spte with an unchanged pfn): its reverse map already holds this entry.
            page.Set(index, spte);
        }
        else
        {
            SetNewLeaf(page, index, gfn, spte);
        }

        if (prefetched)
        {
            Stats.Vm.Add(ShadowCounter.Prefetched);
        }
    }

    // A leaf for another frame, or where there was none: the entry leaves the old frame's reverse map and joins the new one's.
    [ShadowMmu.Annotations.RequiresMmuLock]
    private void SetNewLeaf(ShadowPage page, int index, ulong gfn, ulong spte)
    {
        DropSpte(page, index);
        page.SetGfn(index, gfn);
        page.Set(index, spte);
        if (gfn < (ulong)_rmapHead.Length)
        {
            _links.Add(ref _rmapHead[gfn], page.Id, index);
        }
    }

    /// <summary>
    /// KVM's <c>gfn_to_pfn_memslot_atomic</c> for a prefetched leaf, under the mmu_lock: the host frame backing
    /// <paramref name="gfn"/>, if one does now (<see cref="HostFrames.None"/> outside guest memory). False for a frame
    /// the host reclaimed: prefetch cannot fault it in, and stops. Prefetch as a whole is skipped while an invalidation
    /// is in progress (<see cref="CanPrefetch"/>), when a mapping may change under it.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryPrefetchPfn(ulong gfn, out ulong pfn)
    {
        pfn = Host.PfnOf(gfn);
        return pfn != HostFrames.None || !Host.HasSlot(gfn);
    }

    /// <summary>
    /// True when prefetch may run: reverse-map links remain for <paramref name="count"/> more leaves (KVM's
    /// <c>rmap_can_add</c>) and no host invalidation is in progress (KVM's FNAME(pte_prefetch) returns while
    /// <c>mmu_invalidate_in_progress</c>: a host frame it looked up could be on its way out).
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [ShadowMmu.Annotations.RequiresMmuLock]
    public bool CanPrefetch(int count) => _links.CanAdd(count) && !InvalidationInProgress;
}
