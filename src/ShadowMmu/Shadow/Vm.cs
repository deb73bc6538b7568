using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// A virtual machine's shadow MMU state, KVM's <c>struct kvm</c> side of it: guest memory, the mmu_lock, every shadow
/// page (found by guest frame and role), the reverse maps, and which guest frames are write-protected because a
/// shadow page shadows them. vCPUs (<see cref="Vcpu"/>) fault into it; guest writes to shadowed tables trap into it.
/// </summary>
public sealed partial class Vm
{
    /// <summary>Shadow pages a fault may need: one per level down from the root, and direct pages for a large page.</summary>
    internal const int PagesPerFault = 10;

    /// <summary>vCPUs a VM can have.</summary>
    public const int MaxVcpus = 64;

    private readonly ShadowPage?[] _pages;
    private readonly Dictionary<(ulong Gfn, uint Role), ShadowPage> _hash;
    private readonly LinkPool _links;
    [ShadowMmu.Annotations.GuardedByMmuLock]
    private readonly int[] _rmapHead;          // per guest frame: leaf shadow entries that map it
    [ShadowMmu.Annotations.GuardedByMmuLock]
    private readonly int[] _gfnPagesHead;      // per guest frame: indirect shadow pages that shadow it
    [ShadowMmu.Annotations.GuardedByMmuLock]
    private readonly int[] _shadowedBy;        // per guest frame: how many indirect shadow pages shadow it
    private readonly Stack<ShadowPage> _free;
    private readonly Queue<ShadowPage> _zapped;
    private readonly object _freeLock = new();
    private readonly List<Vcpu> _vcpus = new();
    [ShadowMmu.Annotations.GuardedByMmuLock]
    private ShadowPage? _oldest, _newest;
    private int _pageCount, _activeCount;
    private long _epoch = 1;

    /// <summary>Creates the VM's MMU over <paramref name="memory"/> with room for <paramref name="maxShadowPages"/> shadow pages.</summary>
    public Vm(GuestMemory memory, int maxShadowPages = 4096)
    {
        if (maxShadowPages < PagesPerFault * 4)
        {
            throw new ArgumentOutOfRangeException(nameof(maxShadowPages), maxShadowPages, $"A VM needs at least {PagesPerFault * 4} shadow pages.");
        }

        Memory = memory;
        MaxShadowPages = maxShadowPages;
        Host = new HostFrames(memory.Size >> 12);
        // Beyond the active limit, room for every vCPU's cache of pages topped up for its next fault.
        _pages = new ShadowPage?[maxShadowPages + (MaxVcpus * PagesPerFault)];
        _hash = new Dictionary<(ulong, uint), ShadowPage>(maxShadowPages);
        _free = new Stack<ShadowPage>(_pages.Length);
        _zapped = new Queue<ShadowPage>(_pages.Length);
        ulong frames = memory.Size >> 12;
        _rmapHead = new int[frames];
        _gfnPagesHead = new int[frames];
        _shadowedBy = new int[frames];
        _syncPages = new int[frames];
        _writeTracked = new int[frames];
        Array.Fill(_rmapHead, LinkPool.None);
        Array.Fill(_gfnPagesHead, LinkPool.None);
        // Every shadow entry is in at most one list (a leaf in its frame's reverse map, a link in its child's parent
        // list), and every indirect page in its frame's page list.
        _links = new LinkPool(_pages.Length * (ShadowPage.EntryCount + 1));
    }

    /// <summary>Guest physical memory.</summary>
    public GuestMemory Memory { get; }

    /// <summary>
    /// The mmu_lock, with a shared and an exclusive side (<see cref="MmuRwLock"/>): a fault whose shadow pages exist,
    /// and INVLPG, run on the shared side (<c>using (vm.MmuLock.EnterShared(vcpu.ReaderSlot))</c>) and change leaves only
    /// atomically; every other change to shadow pages happens on the exclusive side, <c>using (vm.MmuLock.Enter())</c>.
    /// Neither side is reentrant (<c>lock (vm.MmuLock)</c> would take another lock: MMU0004).
    /// </summary>
    [ShadowMmu.Annotations.MmuLock]
    public MmuRwLock MmuLock { get; } = new(MaxVcpus);

    /// <summary>How many shadow pages may exist at once; past that, the oldest are zapped to make room.</summary>
    public int MaxShadowPages { get; }

    /// <summary>Counters.</summary>
    public ShadowStats Stats { get; } = new();

    /// <summary>Shadow pages in use (valid, or zapped but still a vCPU's root).</summary>
    public int ActiveShadowPages => Volatile.Read(ref _activeCount);

    /// <summary>The VM's vCPUs.</summary>
    public IReadOnlyList<Vcpu> Vcpus => _vcpus;

    /// <summary>How the fault path re-checks guest entries (default <see cref="RecheckOrder.Fixed"/>).</summary>
    public RecheckOrder RecheckOrder { get; set; } = RecheckOrder.Fixed;

    /// <summary>A systematic concurrency tester's control of the MMU's threads (<see cref="ISchedulingPoints"/>); null normally.</summary>
    public ISchedulingPoints? Scheduling
    {
        get => MmuLock.Scheduling;
        set => MmuLock.Scheduling = value;
    }

    /// <summary>Hooks inside Fetch for deterministic scenarios; null normally.</summary>
    public IFetchHooks? FetchHooks { get; set; }

    /// <summary>Adds a vCPU in <paramref name="cpu"/>'s state.</summary>
    public Vcpu AddVcpu(in CpuState cpu)
    {
        var vcpu = new Vcpu(this, _vcpus.Count, cpu);
        using (MmuLock.Enter())
        {
            _vcpus.Add(vcpu);
        }

        vcpu.LoadRoots();
        return vcpu;
    }

    /// <summary>The shadow page with id <paramref name="id"/>.</summary>
    public ShadowPage Page(int id) => _pages[id]!;

    /// <summary>
    /// True while a shadow page in sync shadows guest frame <paramref name="gfn"/>: writes to it trap, and no leaf maps
    /// it writable. A frame whose shadow pages are all unsync is not write-protected.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsWriteProtected(ulong gfn) => gfn < (ulong)_syncPages.Length && Volatile.Read(ref _syncPages[gfn]) > 0;

    // ---- Shadow pages: allocation outside the lock, lookup and creation under it ----

    /// <summary>
    /// Fills <paramref name="cache"/> up to <see cref="PagesPerFault"/> pages, from pages freed earlier or, while
    /// the pool has room (<see cref="MaxShadowPages"/> plus every vCPU's cache), new ones. Called without the mmu_lock, as KVM tops up its
    /// memory caches before taking it: nothing is allocated under the lock. When every page is in use or zapped but
    /// not yet reclaimable (a vCPU walk that began before the zap may still see it), it makes room and waits for those
    /// walks to end, as KVM's commit_zap waits for the remote TLB flush.
    /// </summary>
    /// <exception cref="InvalidOperationException">No page became free for 10 seconds (every page is a root or cached by a vCPU).</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void TopUp(Stack<ShadowPage> cache)
    {
        if (cache.Count < PagesPerFault)
        {
            Refill(cache);
        }
    }

    private void Refill(Stack<ShadowPage> cache)
    {
        var wait = default(SpinWait);
        long deadline = 0;
        while (cache.Count < PagesPerFault)
        {
            ShadowPage? page = null;
            lock (_freeLock)
            {
                if (_free.Count > 0)
                {
                    page = _free.Pop();
                }
                else if (_pageCount < _pages.Length)
                {
                    page = new ShadowPage(_pageCount);
                    _pages[_pageCount++] = page;
                }
            }

            if (page == null)
            {
                WaitForFreePage(ref wait, ref deadline);
                continue;
            }

            cache.Push(page);
        }
    }

    /// <summary>
    /// The pool is used up. Pages zapped meanwhile wait in <c>_zapped</c> for the vCPU walks that began before the zap
    /// (a preempted walker can hold hundreds of them): zap the oldest pages if over the limit and reclaim what is past
    /// its grace period, then, if still nothing is free, let the walkers run.
    /// </summary>
    private void WaitForFreePage(ref SpinWait wait, ref long deadline)
    {
        using (MmuLock.Enter())
        {
            MakePagesAvailable();
        }

        lock (_freeLock)
        {
            if (_free.Count > 0)
            {
                return;
            }
        }

        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (deadline == 0)
        {
            deadline = now + (10 * System.Diagnostics.Stopwatch.Frequency);
        }
        else if (now > deadline)
        {
            throw new InvalidOperationException($"No shadow page became free in 10 s: all {_pages.Length} are in use as roots or cached by vCPUs; make the VM with more than {MaxShadowPages} shadow pages.");
        }

        wait.SpinOnce();
    }

    /// <summary>
    /// KVM's make_mmu_pages_available, under the mmu_lock: zaps the oldest shadow pages that are no vCPU's root until a
    /// fault's worth of room is left under <see cref="MaxShadowPages"/>, and returns zapped pages that no vCPU walk
    /// can still see to the free list.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void MakePagesAvailable()
    {
        // The common case, on every fault: room enough, and nothing waiting for its grace period.
        if (NeedsRoom || _zapped.Count > 0)
        {
            ZapOldestAndReclaim();
        }
    }

    [ShadowMmu.Annotations.RequiresMmuLock]
    private void ZapOldestAndReclaim()
    {
        for (ShadowPage? page = _oldest; page != null && _activeCount > MaxShadowPages - PagesPerFault;)
        {
            ShadowPage? newer = page.Newer;
            if (page.RootCount == 0)
            {
                Zap(page);
            }

            page = newer;
        }

        ReclaimZapped();
    }

    /// <summary>The page for (<paramref name="gfn"/>, <paramref name="role"/>), created from <paramref name="cache"/> if needed.</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    internal ShadowPage FindOrCreate(ulong gfn, ShadowRole role, Stack<ShadowPage> cache, out bool created)
    {
        if (_hash.TryGetValue((gfn, role.Word), out ShadowPage? page))
        {
            created = false;
            if (page.Unsync)
            {
                // KVM's kvm_mmu_find_shadow_page: an unsync page found by its hash is synced (and stays unsync) before it
                // is linked anywhere new: the guest need not flush a change from not present to present.
                SyncPageEntries(page);
            }
            else if (page.UnsyncChildren > 0)
            {
                // FNAME(fetch): an upper page about to be linked syncs its unsync children first (mmu_sync_children).
                MmuSyncChildren(page);
            }

            if (page.Valid)
            {
                return page;
            }
        }

        if (!role.Direct && role.Level > 1)
        {
            // KVM's kvm_mmu_find_shadow_page: an upper-level page of a frame zaps the frame's unsync pages (the guest
            // has most likely stopped using it as a table of 4 KiB pages), for the new page write-protects the frame.
            ZapUnsyncPagesOf(gfn);
        }

        if (cache.Count == 0)
        {
            throw new InvalidOperationException("The vCPU's shadow-page cache is empty under the mmu_lock: TopUp was not called before the fault.");
        }

        page = cache.Pop();
        created = true;
        page.Gfn = gfn;
        page.Role = role;
        page.Valid = true;
        page.RootCount = 0;
        page.ReachedBy = ShadowPage.NoVcpu;
        page.WriteFloodCount = 0;
        page.ParentHead = LinkPool.None;
        page.Unsync = false;
        page.UnsyncChildren = 0;
        System.Array.Clear(page.UnsyncChildBitmap);
        for (int i = 0; i < ShadowPage.EntryCount; i++)
        {
            page.Set(i, 0);
        }

        _hash.Add((gfn, role.Word), page);
        AddNewest(page);
        Interlocked.Increment(ref _activeCount);
        Stats.Vm.Add(ShadowCounter.PagesCreated);
        if (!role.Direct)
        {
            WriteProtect(page);
        }

        return page;
    }

    /// <summary>
    /// Clears one shadow entry: a leaf (or a leaf's tombstone, still on the reverse map) leaves its frame's reverse map,
    /// a link leaves its child's parent list.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    internal void DropSpte(ShadowPage page, int index)
    {
        ulong spte = page[index];
        if (!Spte.IsPresent(spte) && !Spte.IsTombstone(spte))
        {
            return;
        }

        if (page.Role.Level == 1)
        {
            ulong gfn = page.GfnAt(index);
            if (gfn < (ulong)_rmapHead.Length)
            {
                _links.Remove(ref _rmapHead[gfn], page.Id, index);
            }
        }
        else
        {
            ShadowPage child = _pages[Spte.ChildId(spte)]!;
            _links.Remove(ref child.ParentHead, page.Id, index);
        }

        page.Set(index, 0);
    }

    /// <summary>
    /// KVM's kvm_mmu_prepare_zap_page and commit: clears every entry of <paramref name="page"/>, unlinks it from every
    /// parent, ends its write protection and forgets it. A page that is still a vCPU's root stays allocated (and
    /// invalid, so the vCPU reloads) until the vCPU lets go of it.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    internal void Zap(ShadowPage page)
    {
        if (!page.Valid)
        {
            return;
        }

        for (int i = 0; i < ShadowPage.EntryCount; i++)
        {
            DropSpte(page, i);
        }

        while (page.ParentHead != LinkPool.None)
        {
            int node = page.ParentHead;
            DropSpte(_pages[_links.PageOf(node)]!, _links.IndexOf(node));
        }

        if (!page.Role.Direct && page.Gfn < (ulong)_shadowedBy.Length)
        {
            _links.Remove(ref _gfnPagesHead[page.Gfn], page.Id, 0);
            Interlocked.Decrement(ref _shadowedBy[page.Gfn]);
            if (!page.Unsync)
            {
                Interlocked.Decrement(ref _syncPages[page.Gfn]);
            }

            if (page.Role.Level > 1)
            {
                Interlocked.Decrement(ref _writeTracked[page.Gfn]);
            }
        }

        page.Unsync = false;

        _hash.Remove((page.Gfn, page.Role.Word));
        RemoveFromAge(page);
        page.Valid = false;
        Stats.Vm.Add(ShadowCounter.PagesZapped);
        if (page.RootCount == 0)
        {
            Retire(page);
        }
    }

    /// <summary>Zaps every shadow page (KVM's kvm_mmu_zap_all); vCPUs reload their roots on their next access.</summary>
    public void ZapAll()
    {
        using (MmuLock.Enter())
        {
            while (_oldest != null)
            {
                Zap(_oldest);
            }
        }
    }

    /// <summary>A root that a vCPU no longer uses: freed if it was zapped meanwhile.</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    internal void ReleaseRoot(ShadowPage page)
    {
        page.RootCount--;
        if (page.RootCount == 0 && !page.Valid)
        {
            Retire(page);
        }
    }

    private void Retire(ShadowPage page)
    {
        Interlocked.Decrement(ref _activeCount);
        page.ZappedAt = Interlocked.Increment(ref _epoch);
        _zapped.Enqueue(page);
    }

    /// <summary>
    /// Zapped pages go back to the free list only when every vCPU that was walking the shadow tables when they
    /// were zapped has finished that walk: a simple RCU grace period, standing in for KVM's remote TLB flush.
    /// </summary>
    private void ReclaimZapped()
    {
        // The common case, on every fault: nothing waits for its grace period (_zapped changes only under the mmu_lock).
        if (_zapped.Count == 0)
        {
            return;
        }

        long oldestWalk = long.MaxValue;
        foreach (Vcpu vcpu in _vcpus)
        {
            long active = vcpu.WalkEpoch;
            if (active != 0 && active < oldestWalk)
            {
                oldestWalk = active;
            }
        }

        lock (_freeLock)
        {
            while (_zapped.Count > 0 && _zapped.Peek().ZappedAt < oldestWalk)
            {
                _free.Push(_zapped.Dequeue());
            }
        }
    }

    internal long Epoch => Volatile.Read(ref _epoch);

    [ShadowMmu.Annotations.RequiresMmuLock]
    private void WriteProtect(ShadowPage page)
    {
        ulong gfn = page.Gfn;
        if (gfn >= (ulong)_shadowedBy.Length)
        {
            return;
        }

        // Count first, then strip W from existing mappings of the frame: a guest write racing with this either sees
        // the count and traps, or landed before and is seen by Fetch's re-check (see GuestWrite). A vCPU store through
        // a writable leaf read before the strip is waited for (KVM's remote TLB flush in account_shadowed).
        Interlocked.Increment(ref _shadowedBy[gfn]);
        Interlocked.Increment(ref _syncPages[gfn]);
        if (page.Role.Level > 1)
        {
            Interlocked.Increment(ref _writeTracked[gfn]);
        }

        _links.Add(ref _gfnPagesHead[gfn], page.Id, 0);
        if (StripWritable(gfn))
        {
            WaitForShadowWalksBefore(Interlocked.Increment(ref _epoch));
        }
    }

    /// <summary>Zaps the unsync shadow pages of <paramref name="gfn"/>.</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private void ZapUnsyncPagesOf(ulong gfn)
    {
        if (gfn >= (ulong)_shadowedBy.Length || _shadowedBy[gfn] == _syncPages[gfn])
        {
            return;
        }

        for (int node = _gfnPagesHead[gfn]; node != LinkPool.None;)
        {
            ShadowPage page = _pages[_links.PageOf(node)]!;
            node = _links.Next(node);
            if (page.Unsync)
            {
                Zap(page);
            }
        }
    }

    private void AddNewest(ShadowPage page)
    {
        page.Older = _newest;
        page.Newer = null;
        if (_newest != null)
        {
            _newest.Newer = page;
        }

        _newest = page;
        _oldest ??= page;
    }

    private void RemoveFromAge(ShadowPage page)
    {
        if (page.Older != null)
        {
            page.Older.Newer = page.Newer;
        }
        else
        {
            _oldest = page.Newer;
        }

        if (page.Newer != null)
        {
            page.Newer.Older = page.Older;
        }
        else
        {
            _newest = page.Older;
        }

        page.Older = page.Newer = null;
    }

    /// <summary>Every valid shadow page, oldest first (for the audit and for people).</summary>
    public List<ShadowPage> SnapshotPages()
    {
        using (MmuLock.Enter())
        {
            return SnapshotPagesHeld();
        }
    }

    /// <summary><see cref="SnapshotPages"/> for a caller that holds the mmu_lock already (a fetch hook): the lock is not reentrant.</summary>
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    public List<ShadowPage> SnapshotPagesHeld()
    {
        var list = new List<ShadowPage>(_activeCount);
        for (ShadowPage? page = _oldest; page != null; page = page.Newer)
        {
            list.Add(page);
        }

        return list;
    }
}
