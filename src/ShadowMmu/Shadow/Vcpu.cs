using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// A virtual CPU under shadow paging. Its accesses go through the shadow tables as the hardware would walk them; a
/// miss or a denied right exits to the fault handler, which walks the guest tables without the mmu_lock, then under
/// the lock runs the generated <c>Fetch</c> and <c>Prefetch</c>, then retries (KVM's <c>FNAME(page_fault)</c>).
/// </summary>
public sealed class Vcpu
{
    private const int MaxAttempts = 1000;

    private readonly Stack<ShadowPage> _cache = new(Vm.PagesPerFault);
    private readonly ShadowPage?[] _roots = new ShadowPage?[4];
    private readonly RootTable[] _rootTables = new RootTable[4];
    private readonly List<CachedRoots> _previousRoots = new();
    private IGuestPageWalker _walker = null!;
    private IShadowFetcher _fetcher = null!;
    private ShadowCpuRole _role;
    private int _rootSlots;
    private bool _pke;
    private bool _ept;
    private ulong _dirtyMask;
    internal long WalkEpoch;

    // This vCPU's counters, which only the thread running it writes.
    private readonly ShadowCounters _stats;

    internal Vcpu(Vm vm, int id, in CpuState cpu)
    {
        Vm = vm;
        Id = id;
        _stats = vm.Stats.AddVcpu();
        Switch(cpu);
    }

    /// <summary>The VM.</summary>
    public Vm Vm { get; }

    /// <summary>The vCPU's index in the VM.</summary>
    public int Id { get; }

    /// <summary>Control registers and the rest of the paging state.</summary>
    public CpuState State { get; private set; }

    /// <summary>The generated guest walker for the current mode and state.</summary>
    public IGuestPageWalker Walker => _walker;

    /// <summary>The shadow root for <paramref name="va"/> (null for a PDPTE slot that is not present).</summary>
    public ShadowPage? RootFor(ulong va) => _roots[_rootSlots == 1 ? 0 : (int)(va >> 30) & 3];

    /// <summary>The shadow root in slot <paramref name="slot"/>.</summary>
    public ShadowPage? Root(int slot) => _roots[slot];

    /// <summary>Root slots in use: 1, or 4 for PAE and 32-bit guests.</summary>
    public int RootSlots => _rootSlots;

    /// <summary>The guest tables the current roots shadow.</summary>
    public ReadOnlySpan<RootTable> RootTables => _rootTables.AsSpan(0, _rootSlots);

    /// <summary>The role bits of the vCPU's current mode, shared by every shadow page it creates.</summary>
    public ShadowCpuRole CpuRole => _role;

    /// <summary>The shadow-page cache that <c>Fetch</c> takes new pages from; topped up before the mmu_lock is taken.</summary>
    internal Stack<ShadowPage> PageCache => _cache;

    /// <summary>
    /// A write to CR0, CR3, CR4, EFER or PKRU: the walker is rebuilt for the new state and the shadow roots follow
    /// CR3, reusing a root cached for the same CR3 and role (KVM's fast CR3 switch).
    /// </summary>
    /// <exception cref="ArgumentException">The state is impossible or paging is off.</exception>
    public void SetState(in CpuState cpu)
    {
        // MOV to CR3 flushes the address space it loads (global pages survive with CR4.PGE); a change of CR0 or CR4
        // (PGE above all: SDM "Operations that Invalidate TLBs and Paging-Structure Caches") flushes everything.
        if (cpu.Cr0 != State.Cr0 || cpu.Cr4 != State.Cr4 || cpu.Efer != State.Efer)
        {
            Vm.Tlb.FlushAll();
        }

        ChangeState(cpu, flush: true);
    }

    /// <summary>
    /// MOV to CR3 with <paramref name="value"/> as its operand: with CR4.PCIDE set, bit 63 set keeps the translations
    /// cached for the PCID in CR3[11:0] (no flush: a cached root is reused without a sync, as KVM's kvm_set_cr3 skips
    /// KVM_REQ_MMU_SYNC); otherwise as <see cref="SetState"/>.
    /// </summary>
    public void MovToCr3(ulong value)
    {
        bool noFlush = (State.Cr4 & Cr4.PCIDE) != 0 && (value & (1UL << 63)) != 0;
        ChangeState(State with { Cr3 = value & ~(1UL << 63) }, flush: !noFlush);
    }

    private void ChangeState(in CpuState cpu, bool flush)
    {
        using (Vm.MmuLock.Enter())
        {
            CacheRoots();
        }

        Switch(cpu);
        LoadRoots(flush);
    }

    /// <summary>
    /// INVEPT (a nested guest's L1 hypervisor): single-context invalidates what was cached for the current EPTP,
    /// all-context for every EPTP (SDM Vol. 3C "Invalidation of Cached EPT Translations"). KVM frees the matching roots and
    /// syncs them when they load again (nested handle_invept, kvm_mmu_load, kvm_mmu_sync_roots).
    /// </summary>
    /// <exception cref="InvalidOperationException">The vCPU does not run a nested guest (no EPTP).</exception>
    public void Invept(bool allContexts)
    {
        if (!_ept)
        {
            throw new InvalidOperationException("INVEPT needs a vCPU that runs a nested guest (EPTP set).");
        }

        using (Vm.MmuLock.Enter())
        {
            if (allContexts)
            {
                Vm.Tlb.FlushAll();
                foreach (CachedRoots cached in _previousRoots)
                {
                    cached.Release(Vm);
                }

                _previousRoots.Clear();
            }
            else
            {
                RecordRootFlush();
            }

            Vm.SyncRoots(this);
        }
    }

    /// <summary>
    /// An access by the guest: translated through the shadow tables, with faults handled until it translates, the
    /// guest's tables deny it, or it is a write to a shadowed guest table (emulated).
    /// </summary>
    public AccessResult Access(ulong va, AccessKind kind, int cpl, bool ac = false)
    {
        _stats.Add(ShadowCounter.Accesses);
        var walk = default(GuestWalk);
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (NeedsRootReload())
            {
                LoadRoots(flush: false);
            }

            if (TryTranslate(va, kind, cpl, ac, out ulong gpa))
            {
                if (attempt == 0)
                {
                    _stats.Add(ShadowCounter.Hits);
                }

                return new AccessResult(AccessOutcome.Translated, gpa, WalkFault.None, 0);
            }

            if (attempt > 0)
            {
                _stats.Add(ShadowCounter.Retries);
            }

            switch (HandleFault(ref walk, va, kind, cpl, ac))
            {
                case FaultOutcome.GuestFault:
                    return new AccessResult(AccessOutcome.GuestFault, 0, walk.Fault, walk.ErrorCode);
                case FaultOutcome.Emulate:
                    return new AccessResult(AccessOutcome.Emulated, walk.PhysicalAddress, WalkFault.None, 0);
                case FaultOutcome.WaitForInvalidation:
                    // The host is moving the frame: not a lack of progress (KVM's vCPU re-enters and faults again).
                    attempt--;
                    WaitForInvalidation();
                    break;
            }
        }

        throw new InvalidOperationException($"vCPU {Id}: the access to 0x{va:x} faulted {MaxAttempts} times without progress.");
    }

    /// <summary>
    /// A guest store of <paramref name="size"/> bytes at <paramref name="va"/>: translated and written as one step, as
    /// the processor does (a TLB flush waits for it: the shadow walk stays open across the store); a store into a
    /// write-protected guest table then traps; one the shadow cannot translate writably is emulated.
    /// </summary>
    public AccessResult Write(ulong va, ulong value, int size, int cpl, bool ac = false)
    {
        _stats.Add(ShadowCounter.Accesses);
        var walk = default(GuestWalk);
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (NeedsRootReload())
            {
                LoadRoots(flush: false);
            }

            bool stored = false;
            ulong gpa = 0;
            Interlocked.Exchange(ref WalkEpoch, Vm.Epoch);
            try
            {
                if (TranslateInWalk(va, AccessKind.Write, cpl, ac, out gpa))
                {
                    Vm.Scheduling?.At(SchedulingPoint.StoreAfterTranslate);
                    // A stale host frame backs no guest frame: the store goes nowhere (the audit reports the entry).
                    Vm.StoreGuest(gpa, value, size);
                    stored = true;
                }
            }
            finally
            {
                Volatile.Write(ref WalkEpoch, 0);
            }

            if (stored)
            {
                if (attempt == 0)
                {
                    _stats.Add(ShadowCounter.Hits);
                }

                Vm.AfterGuestStore(gpa, size);
                return new AccessResult(AccessOutcome.Translated, gpa, WalkFault.None, 0);
            }

            if (attempt > 0)
            {
                _stats.Add(ShadowCounter.Retries);
            }

            switch (HandleFault(ref walk, va, AccessKind.Write, cpl, ac))
            {
                case FaultOutcome.WaitForInvalidation:
                    attempt--;
                    WaitForInvalidation();
                    break;
                case FaultOutcome.GuestFault:
                    return new AccessResult(AccessOutcome.GuestFault, 0, walk.Fault, walk.ErrorCode);
                case FaultOutcome.Emulate:
                    _stats.Add(ShadowCounter.EmulatedWrites);
                    Vm.GuestWrite(walk.PhysicalAddress, value, size);
                    return new AccessResult(AccessOutcome.Emulated, walk.PhysicalAddress, WalkFault.None, 0);
            }
        }

        throw new InvalidOperationException($"vCPU {Id}: the write to 0x{va:x} faulted {MaxAttempts} times without progress.");
    }

    /// <summary>
    /// INVLPG (KVM's <c>kvm_mmu_invlpg</c>, <c>kvm_mmu_invalidate_addr</c> over the current and the cached roots): the
    /// leaf for <paramref name="va"/> of an unsync table is re-read from the guest (and installed again as a prefetch);
    /// a leaf of a table in sync is dropped, so that the next access faults and re-reads the guest tables. For a nested
    /// guest INVLPG does not touch guest-physical translations (INVEPT does): the shadow is the same, no flush is recorded.
    /// </summary>
    public void Invlpg(ulong va)
    {
        _stats.Add(ShadowCounter.Invlpgs);
        using (Vm.MmuLock.Enter())
        {
            ShadowPage? root = RootFor(va);
            if (!_ept && root != null)
            {
                // Recorded before the sync reads the guest entry: a write after this point may still be pending.
                Vm.Tlb.Invlpg(Vm.ContextOf(root), Vm.WithinRoot(root, va));
                Vm.Scheduling?.At(SchedulingPoint.FlushRecorded);
            }

            if (Vm.InvalidateAddr(root, va))
            {
                _stats.Add(ShadowCounter.ZappedEntries);
            }

            int slot = _rootSlots == 1 ? 0 : (int)(va >> 30) & 3;
            foreach (CachedRoots cached in _previousRoots)
            {
                Vm.InvalidateAddr(cached.Roots[slot], va);
            }
        }
    }

    /// <summary>
    /// The hardware's walk of the shadow tables: true with the guest-physical address when every entry is present and
    /// the leaf allows the access. Lock-free; zapped pages are not reused while it runs (see <see cref="WalkEpoch"/>).
    /// </summary>
    public bool TryTranslate(ulong va, AccessKind kind, int cpl, bool ac, out ulong gpa)
    {
        Interlocked.Exchange(ref WalkEpoch, Vm.Epoch);
        try
        {
            return TranslateInWalk(va, kind, cpl, ac, out gpa);
        }
        finally
        {
            Volatile.Write(ref WalkEpoch, 0);
        }
    }

    // The walk itself; the caller has published its WalkEpoch.
    private bool TranslateInWalk(ulong va, AccessKind kind, int cpl, bool ac, out ulong gpa)
    {
        gpa = 0;
        {
            ShadowPage? page = RootFor(va);
            if (page == null || !page.Valid)
            {
                return false;
            }

            for (int level = page.Role.Level; level > 1; level--)
            {
                ulong link = page[ShadowIndex(va, level)];
                if (!Spte.IsPresent(link))
                {
                    return false;
                }

                page = Vm.Page(Spte.ChildId(link));
            }

            int index = ShadowIndex(va, 1);
            ulong spte = page[index];
            if (!Spte.IsPresent(spte) || !Allows(spte, kind, cpl, ac))
            {
                return false;
            }

            if ((spte & Spte.Accessed) == 0)
            {
                // The first use of a prefetched entry: the hardware sets its accessed bit.
                ulong before = Interlocked.Or(ref page.Entry(index), Spte.Accessed);
                if ((before & (Spte.Accessed | Spte.Prefetched)) == Spte.Prefetched)
                {
                    _stats.Add(ShadowCounter.PrefetchUsed);
                }
            }

            // The leaf names a host frame; the guest-physical address is the guest frame that host frame backs now (a host
            // frame is not reused while a shadow walk that may have read an entry mapping it is still running).
            ulong pfn = Spte.Pfn(spte);
            ulong gfn = pfn == HostFrames.None ? Spte.Frame(spte) : Vm.Host.GfnOf(pfn);
            gpa = gfn == HostFrames.NoGuestFrame ? HostFrames.NoGuestFrame : (gfn << 12) | (va & 0xFFF);
            return true;
        }
    }

    private void WaitForInvalidation()
    {
        if (Vm.Scheduling is ISchedulingPoints scheduling)
        {
            scheduling.Spin();
        }
        else
        {
            Thread.Yield();
        }
    }

    /// <summary>The shadow index of <paramref name="va"/> at <paramref name="level"/>: 9 bits a level in the host format.</summary>
    public static int ShadowIndex(ulong va, int level) => (int)(va >> (12 + (9 * (level - 1)))) & 511;

    internal FaultOutcome HandleFault(ref GuestWalk walk, ulong va, AccessKind kind, int cpl, bool ac)
    {
        _stats.Add(ShadowCounter.Faults);
        _stats.Add(ShadowCounter.Walks);

        // 1. The guest walk, without the mmu_lock: it reads guest tables that other vCPUs may be rewriting.
        if (!_walker.WalkAddr(ref walk, va, kind, cpl, ac))
        {
            _stats.Add(ShadowCounter.GuestFaults);
            return FaultOutcome.GuestFault;
        }

        // 2. A write to a frame that can never be mapped writable (an upper-level table, or any shadowed table without
        // unsync): emulate it (KVM's page_fault_handle_page_track). A table of 4 KiB pages goes unsync in fetch instead.
        bool write = kind == AccessKind.Write;
        if (write && Vm.IsWriteTracked(walk.Gfn))
        {
            return FaultOutcome.Emulate;
        }

        uint leafAccess = LeafAccess(in walk, write, cpl);
        IFetchHooks? hooks = Vm.FetchHooks;
        hooks?.AfterWalk(this, in walk);
        Vm.Scheduling?.At(SchedulingPoint.FaultAfterWalk);

        // 3. The host frame, resolved without the lock (KVM's kvm_faultin_pfn, which may sleep): the sequence is read
        // first, so that an invalidation that moves the frame from here on is seen under the lock.
        long mmuSeq = Vm.SnapshotMmuInvalidateSeq();
        ulong pfn = Vm.Host.Resolve(walk.Gfn);
        hooks?.AfterResolve(this, in walk, mmuSeq, pfn);
        Vm.Scheduling?.At(SchedulingPoint.FaultAfterResolve);

        // 4. Shadow pages for this fault come from the vCPU's cache, filled now: nothing is allocated under the lock.
        Vm.TopUp(_cache);
        using (Vm.MmuLock.Enter())
        {
            if (NeedsRootReload())
            {
                return FaultOutcome.Retry;
            }

            // 5. KVM's is_page_fault_stale: an invalidation over the frame ended since the snapshot, or is under way.
            bool checkSequence = Vm.SequenceCheck;
            bool stale = checkSequence && Vm.MmuInvalidateRetryGfn(mmuSeq, walk.Gfn);
            hooks?.AfterSequenceCheck(this, checkSequence, stale);
            if (stale)
            {
                _stats.Add(ShadowCounter.SeqRetries);
                return Vm.MmuInvalidateInProgress != 0 ? FaultOutcome.WaitForInvalidation : FaultOutcome.Retry;
            }

            Vm.MakePagesAvailable();
            Vm.Scheduling?.At(SchedulingPoint.FaultBeforeInstall);
            hooks?.BeforeFetch(this, in walk);
            FetchOutcome outcome = _fetcher.Fetch(this, ref walk, leafAccess, pfn, Vm.RecheckOrder, hooks);
            if (outcome == FetchOutcome.Retry)
            {
                _stats.Add(ShadowCounter.RecheckFailures);
            }

            hooks?.AfterFetch(this, outcome);
        }

        hooks?.AfterUnlock(this);
        return FaultOutcome.Retry;
    }

    /// <summary>The rights of the shadow leaf, from the guest's (KVM's FNAME(page_fault) and protect_clean_gpte).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint LeafAccess(in GuestWalk walk, bool write, int cpl)
    {
        // EPT rights arrive as ACC (read as U); the shadow keeps R, W and X, not the user-execute bit.
        uint access = walk.PteAccess & AccessRights.All;
        bool wp = (State.Cr0 & Cr0.WP) != 0 || _ept;
        if (write && cpl != 3 && !wp && (access & AccessRights.Write) == 0)
        {
            // CR0.WP = 0: the guest lets the supervisor write a read-only page, but the shadow runs with WP = 1.
            // Give the shadow leaf W and take away U, so user accesses still fault (KVM's cr0.wp quirk).
            access = (access | AccessRights.Write) & ~AccessRights.User;
            if ((State.Cr4 & Cr4.SMEP) != 0)
            {
                access &= ~AccessRights.Execute;
            }
        }
        else if (!write && _dirtyMask != 0 && (walk.Ptes[walk.Level - 1] & _dirtyMask) == 0)
        {
            // A clean guest page is mapped read-only, so that the first write faults and the walk sets D.
            access &= ~AccessRights.Write;
        }

        return access;
    }

    /// <summary>The shadow's permission check: the guest's rules, with CR0.WP always 1 for the W bit.</summary>
    private bool Allows(ulong spte, AccessKind kind, int cpl, bool ac)
    {
        if (_ept)
        {
            // Shadow EPT: reads need R (kept as U), writes W, fetches X; no SMEP, SMAP or keys in the nested dimension.
            return kind switch
            {
                AccessKind.Read => (spte & Spte.User) != 0,
                AccessKind.Write => (spte & Spte.Writable) != 0,
                _ => (spte & Spte.NoExecute) == 0,
            };
        }

        bool user = cpl == 3;
        bool userPage = (spte & Spte.User) != 0;
        switch (kind)
        {
            case AccessKind.Write when (spte & Spte.Writable) == 0:
            case AccessKind.Fetch when (spte & Spte.NoExecute) != 0:
                return false;
        }

        if (user)
        {
            if (!userPage)
            {
                return false;
            }
        }
        else if (userPage)
        {
            if (kind == AccessKind.Fetch ? (State.Cr4 & Cr4.SMEP) != 0 : (State.Cr4 & Cr4.SMAP) != 0 && !ac)
            {
                return false;
            }
        }

        if (_pke && userPage && kind != AccessKind.Fetch)
        {
            uint bits = (State.Pkru >> ((int)((spte & Spte.KeyMask) >> 59) * 2)) & 3;
            bool wp = (State.Cr0 & Cr0.WP) != 0;
            if ((bits & 1) != 0 || ((bits & 2) != 0 && kind == AccessKind.Write && (user || wp)))
            {
                return false;
            }
        }

        return true;
    }

    // What names the root table: CR3, or EPTP for a nested guest.
    private ulong RootPointer => _ept ? State.Eptp : State.Cr3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool NeedsRootReload()
    {
        for (int slot = 0; slot < _rootSlots; slot++)
        {
            if (_rootTables[slot].Present && (_roots[slot] == null || !_roots[slot]!.Valid))
            {
                return true;
            }
        }

        return false;
    }

    private void Switch(in CpuState cpu)
    {
        // A state with an EPT pointer is a nested guest's: its "linear" addresses are guest-physical addresses that L1's
        // EPT tables translate, and those tables are what is shadowed (shadow EPT).
        if (cpu.Eptp != 0 && cpu.ModeBasedExecute)
        {
            // Shadow entries hold R, W and X; the user-execute bit would need a fourth right (KVM does not expose MBEC to L1).
            throw new ArgumentException("Shadow EPT does not model mode-based execute control.", nameof(cpu));
        }

        IGuestPageWalker walker = cpu.Eptp != 0 ? PagingModes.CreateEptWalker(Vm.Memory, cpu) : PagingModes.CreateWalker(Vm.Memory, cpu);
        State = cpu;
        _walker = walker;
        _fetcher = (IShadowFetcher)walker;
        _ept = walker.Mode.IsEpt;
        _dirtyMask = _fetcher.GuestDirtyMask;
        _role = ShadowCpuRole.For(cpu, walker.Mode);
        Vm.RegisterDecoder(_role, _fetcher);
        _pke = cpu.Test(PagingCondition.Cr4Pke);
        _rootSlots = _fetcher.GetRootTables(_rootTables);
    }

    /// <summary>
    /// Makes the shadow roots for the current CR3 and role: from the cache of previous roots, or new; then, unless a
    /// PCID's no-flush load reused a cached root, every unsync page they reach is synced (KVM's kvm_mmu_sync_roots),
    /// after the flush (<paramref name="flush"/>: a CR3 load's, recorded for the audit) that allows it.
    /// </summary>
    internal void LoadRoots(bool flush = true)
    {
        Vm.TopUp(_cache);
        using (Vm.MmuLock.Enter())
        {
            ReleaseRoots();
            bool reused = false;
            for (int i = 0; i < _previousRoots.Count; i++)
            {
                CachedRoots cached = _previousRoots[i];
                if (cached.Cr3 == RootPointer && cached.Role == _role && cached.Matches(_rootTables, _rootSlots))
                {
                    Array.Copy(cached.Roots, _roots, 4);
                    _previousRoots.RemoveAt(i);
                    reused = true;
                    break;
                }
            }

            if (!reused)
            {
                MakeRoots();
            }

            if (flush)
            {
                RecordRootFlush();
            }

            if (flush || !reused)
            {
                Vm.SyncRoots(this);
            }
        }
    }

    /// <summary>A MOV to CR3 (or INVEPT single-context) flushed the address spaces of the current roots.</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private void RecordRootFlush()
    {
        bool globalPagesSurvive = !_ept && (State.Cr4 & Cr4.PGE) != 0;
        for (int slot = 0; slot < _rootSlots; slot++)
        {
            if (_roots[slot] is ShadowPage root)
            {
                Vm.Tlb.FlushContext(Vm.ContextOf(root), globalPagesSurvive);
            }
        }
    }

    [ShadowMmu.Annotations.RequiresMmuLock]
    private void MakeRoots()
    {
        _stats.Add(ShadowCounter.RootLoads);
        for (int slot = 0; slot < _rootSlots; slot++)
        {
            RootTable table = _rootTables[slot];
            if (!table.Present)
            {
                continue;
            }

            ShadowRole role = ShadowRole.Create(_fetcher.ShadowRootLevel, table.Quadrant, false, AccessRights.All, _role);
            ShadowPage root = Vm.FindOrCreate(table.Gfn, role, _cache, out _);
            root.RootCount++;
            _roots[slot] = root;
        }
    }

    [ShadowMmu.Annotations.RequiresMmuLock]
    private void ReleaseRoots()
    {
        for (int slot = 0; slot < 4; slot++)
        {
            if (_roots[slot] is ShadowPage root)
            {
                Vm.ReleaseRoot(root);
                _roots[slot] = null;
            }
        }
    }

    /// <summary>Keeps the current roots for a later switch back to this CR3 (three at most, as KVM keeps).</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private void CacheRoots()
    {
        if (_previousRoots.Count == 3)
        {
            _previousRoots[0].Release(Vm);
            _previousRoots.RemoveAt(0);
        }

        var cached = new CachedRoots(RootPointer, _role, (ShadowPage?[])_roots.Clone());
        Array.Clear(_roots);
        _previousRoots.Add(cached);
    }

    /// <summary>How <see cref="HandleFault"/> ended: the access is to be retried, injected into the guest, or emulated.</summary>
    internal enum FaultOutcome
    {
        Retry,
        WaitForInvalidation,
        GuestFault,
        Emulate,
    }

    private sealed record CachedRoots(ulong Cr3, ShadowCpuRole Role, ShadowPage?[] Roots)
    {
        /// <summary>True when every slot holds a valid root for the table it must shadow now (PDPTEs reload with CR3).</summary>
        public bool Matches(RootTable[] tables, int slots)
        {
            for (int i = 0; i < slots; i++)
            {
                ShadowPage? root = Roots[i];
                bool ok = tables[i].Present
                    ? root is { Valid: true } && root.Gfn == tables[i].Gfn
                    : root == null;
                if (!ok)
                {
                    return false;
                }
            }

            return true;
        }

        [ShadowMmu.Annotations.RequiresMmuLock]
        public void Release(Vm vm)
        {
            foreach (ShadowPage? root in Roots)
            {
                if (root != null)
                {
                    vm.ReleaseRoot(root);
                }
            }
        }
    }
}
