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
public sealed partial class Vcpu
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
    private OwnLine _own;

    // This vCPU's counters, which only the thread running it writes.
    private readonly ShadowCounters _stats;

    internal Vcpu(Vm vm, int id, in CpuState cpu)
    {
        Vm = vm;
        Id = id;
        ReaderSlot = vm.MmuLock.AddReader();
        _stats = vm.Stats.AddVcpu();
        Switch(cpu);
    }

    /// <summary>The VM.</summary>
    public Vm Vm { get; }

    /// <summary>The vCPU's index in the VM.</summary>
    public int Id { get; }

    /// <summary>The vCPU's reader slot in the mmu_lock (<see cref="MmuRwLock.EnterShared"/>): its own indicator.</summary>
    public int ReaderSlot { get; }

    /// <summary>This vCPU's counters (written only by the thread running it).</summary>
    internal ShadowCounters Counters => _stats;

    /// <summary>
    /// The VM epoch at which this vCPU's current shadow walk began, 0 outside one: zapped pages are reused only once every
    /// walk that may see them has ended (written by this vCPU twice per access; read by the exclusive side).
    /// </summary>
    internal ref long WalkEpoch => ref _own.WalkEpoch;

    /// <summary>Control registers and the rest of the paging state.</summary>
    public CpuState State { get; private set; }

    /// <summary>The generated guest walker for the current mode and state.</summary>
    public IGuestPageWalker Walker => _walker;

    /// <summary>The shadow root for <paramref name="va"/> (null for a PDPTE slot that is not present).</summary>
    public ShadowPage? RootFor(ulong va) => _roots[RootSlot(va)];

    /// <summary>The root slot that translates <paramref name="va"/>: 0, or its PDPTE's slot with four roots.</summary>
    private int RootSlot(ulong va) => _rootSlots == 1 ? 0 : (int)(va >> 30) & 3;

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
        if (Vm.SharedFaults && Vm.RecheckOrder == RecheckOrder.Fixed
            && TryFaultOnSharedSide(ref walk, leafAccess, pfn, mmuSeq, hooks, out FaultOutcome shared))
        {
            return shared;
        }

        return FaultOnExclusiveSide(ref walk, leafAccess, pfn, mmuSeq, hooks);
    }

    /// <summary>
    /// Steps 5 and 6 of the fault on the mmu_lock's exclusive side: the sequence check, room for the fault's pages, then
    /// the generated <c>Fetch</c>, which may create, link and zap pages. Out of line: a fault runs here when it needs
    /// pages made or a reverse map changed, or when shared faults are off; keeping it out of the handler keeps the
    /// steady state's code (and the JIT's profile of it) apart from it.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private FaultOutcome FaultOnExclusiveSide(ref GuestWalk walk, uint leafAccess, ulong pfn, long mmuSeq, IFetchHooks? hooks)
    {
        using (Vm.MmuLock.Enter())
        {
            if (NeedsRootReload())
            {
                return FaultOutcome.Retry;
            }

            if (IsFaultStale(mmuSeq, walk.Gfn, hooks))
            {
                return SequenceRetry();
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

    /// <summary>
    /// Steps 5 and 6 of the fault on the mmu_lock's shared side, as KVM's TDP MMU faults under <c>read_lock</c>: the same
    /// checks, then the generated <c>FetchShared</c>, which follows existing pages and installs with a compare-exchange.
    /// False, with nothing changed, when the fault needs the exclusive side (a page to create or link, room to make, a
    /// reverse map to change, a table to unsync): the caller then runs it there from the root check on, never upgrading
    /// in place. The re-check and the install are in this one hold, which a trapped write's handler (exclusive) cannot
    /// enter: that is why its zap can never fall between them (docs/parallel-faults.md).
    /// </summary>
    private bool TryFaultOnSharedSide(ref GuestWalk walk, uint leafAccess, ulong pfn, long mmuSeq, IFetchHooks? hooks, out FaultOutcome outcome)
    {
        using (Vm.MmuLock.EnterShared(ReaderSlot))
        {
            if (NeedsRootReload() || Vm.NeedsRoom)
            {
                // A root to make, or pages to zap: the exclusive side's work (it re-checks everything itself).
                _stats.Add(ShadowCounter.ExclusiveRetries);
                outcome = FaultOutcome.Retry;
                return false;
            }

            if (IsFaultStale(mmuSeq, walk.Gfn, hooks))
            {
                outcome = SequenceRetry();
                return true;
            }

            Vm.Scheduling?.At(SchedulingPoint.FaultBeforeInstall);
            hooks?.BeforeFetch(this, in walk);
            FetchOutcome fetched = _fetcher.FetchShared(this, ref walk, leafAccess, pfn, hooks);
            hooks?.AfterFetch(this, fetched);
            if (fetched == FetchOutcome.NeedsExclusive)
            {
                _stats.Add(ShadowCounter.ExclusiveRetries);
                outcome = FaultOutcome.Retry;
                return false;
            }

            _stats.Add(ShadowCounter.SharedFaults);
            if (fetched == FetchOutcome.Retry)
            {
                _stats.Add(ShadowCounter.RecheckFailures);
            }
        }

        hooks?.AfterUnlock(this);
        outcome = FaultOutcome.Retry;
        return true;
    }

    /// <summary>
    /// Step 5, on either side of the mmu_lock: KVM's <c>is_page_fault_stale</c>, true when an invalidation over
    /// <paramref name="gfn"/> ended since the fault took <paramref name="mmuSeq"/>, or is under way.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IsFaultStale(long mmuSeq, ulong gfn, IFetchHooks? hooks)
    {
        bool checkSequence = Vm.SequenceCheck;
        bool stale = checkSequence && Vm.MmuInvalidateRetryGfn(mmuSeq, gfn);
        hooks?.AfterSequenceCheck(this, checkSequence, stale);
        return stale;
    }

    // KVM's RET_PF_RETRY on a stale sequence: wait while an invalidation is under way, else fault again.
    private FaultOutcome SequenceRetry()
    {
        _stats.Add(ShadowCounter.SeqRetries);
        return Vm.MmuInvalidateInProgress != 0 ? FaultOutcome.WaitForInvalidation : FaultOutcome.Retry;
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

    /// <summary>How <see cref="HandleFault"/> ended: the access is to be retried, injected into the guest, or emulated.</summary>
    internal enum FaultOutcome
    {
        Retry,
        WaitForInvalidation,
        GuestFault,
        Emulate,
    }

    /// <summary>
    /// The fields this vCPU writes on every access and INVLPG, alone in the middle of 192 bytes: no other vCPU's written
    /// field, and no field that another thread reads on every fault, shares their cache line or the adjacent line the
    /// hardware prefetcher pairs with it. (Without it, two vCPUs made one after the other could put one's walk epoch
    /// next to the other's objects.)
    /// </summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 192)]
    private struct OwnLine
    {
        [System.Runtime.InteropServices.FieldOffset(64)]
        public long WalkEpoch;

        /// <summary>Leaves this vCPU dropped on the shared side: the count in each tombstone's stamp.</summary>
        [System.Runtime.InteropServices.FieldOffset(72)]
        public ulong Drops;
    }
}
