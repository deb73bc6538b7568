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
        using (Vm.MmuLock.Enter())
        {
            CacheRoots();
        }

        Switch(cpu);
        LoadRoots();
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
                LoadRoots();
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
            }
        }

        throw new InvalidOperationException($"vCPU {Id}: the access to 0x{va:x} faulted {MaxAttempts} times without progress.");
    }

    /// <summary>A guest store of <paramref name="size"/> bytes at <paramref name="va"/>: translated, then written (trapping if the frame is a shadowed table).</summary>
    public AccessResult Write(ulong va, ulong value, int size, int cpl, bool ac = false)
    {
        AccessResult result = Access(va, AccessKind.Write, cpl, ac);
        if (result.Outcome == AccessOutcome.Emulated)
        {
            _stats.Add(ShadowCounter.EmulatedWrites);
        }

        if (result.Outcome != AccessOutcome.GuestFault)
        {
            Vm.GuestWrite(result.Gpa, value, size);
        }

        return result;
    }

    /// <summary>INVLPG: drops the shadow leaf for <paramref name="va"/>, so the next access faults and re-reads the guest tables.</summary>
    public void Invlpg(ulong va)
    {
        _stats.Add(ShadowCounter.Invlpgs);
        using (Vm.MmuLock.Enter())
        {
            ShadowPage? page = RootFor(va);
            for (int level = page?.Role.Level ?? 0; page != null && level >= 1; level--)
            {
                int index = ShadowIndex(va, level);
                ulong spte = page[index];
                if (!Spte.IsPresent(spte))
                {
                    return;
                }

                if (level == 1)
                {
                    Vm.DropSpte(page, index);
                    _stats.Add(ShadowCounter.ZappedEntries);
                    return;
                }

                page = Vm.Page(Spte.ChildId(spte));
            }
        }
    }

    /// <summary>
    /// The hardware's walk of the shadow tables: true with the guest-physical address when every entry is present and
    /// the leaf allows the access. Lock-free; zapped pages are not reused while it runs (see <see cref="WalkEpoch"/>).
    /// </summary>
    public bool TryTranslate(ulong va, AccessKind kind, int cpl, bool ac, out ulong gpa)
    {
        gpa = 0;
        Interlocked.Exchange(ref WalkEpoch, Vm.Epoch);
        try
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

            gpa = (Spte.Gfn(spte) << 12) | (va & 0xFFF);
            return true;
        }
        finally
        {
            Volatile.Write(ref WalkEpoch, 0);
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

        // 2. A write to a frame that a shadow page shadows cannot be mapped writable: emulate it.
        bool write = kind == AccessKind.Write;
        if (write && Vm.IsWriteProtected(walk.Gfn))
        {
            return FaultOutcome.Emulate;
        }

        uint leafAccess = LeafAccess(in walk, write, cpl);
        IFetchHooks? hooks = Vm.FetchHooks;
        hooks?.AfterWalk(this, in walk);

        // 3. Shadow pages for this fault come from the vCPU's cache, filled now: nothing is allocated under the lock.
        Vm.TopUp(_cache);
        using (Vm.MmuLock.Enter())
        {
            if (NeedsRootReload())
            {
                return FaultOutcome.Retry;
            }

            Vm.MakePagesAvailable();
            hooks?.BeforeFetch(this, in walk);
            FetchOutcome outcome = _fetcher.Fetch(this, ref walk, leafAccess, Vm.RecheckOrder, hooks);
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

    /// <summary>Makes the shadow roots for the current CR3 and role: from the cache of previous roots, or new.</summary>
    internal void LoadRoots()
    {
        Vm.TopUp(_cache);
        using (Vm.MmuLock.Enter())
        {
            ReleaseRoots();
            for (int i = 0; i < _previousRoots.Count; i++)
            {
                CachedRoots cached = _previousRoots[i];
                if (cached.Cr3 == RootPointer && cached.Role == _role && cached.Matches(_rootTables, _rootSlots))
                {
                    Array.Copy(cached.Roots, _roots, 4);
                    _previousRoots.RemoveAt(i);
                    return;
                }
            }

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
