using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace ShadowMmu;

/// <summary>
/// The vCPU's control-register writes and TLB flushes (MOV to CR0/CR3/CR4, INVLPG, INVEPT) and the shadow roots they
/// load: each flush is recorded for the audit (<see cref="Vm.Tlb"/>) and syncs what KVM syncs at it.
/// </summary>
public sealed partial class Vcpu
{
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
    /// INVLPG (KVM's <c>kvm_mmu_invlpg</c>, <c>kvm_mmu_invalidate_addr</c> over the current and the cached roots): the
    /// leaf for <paramref name="va"/> of an unsync table is re-read from the guest (and installed again as a prefetch);
    /// a leaf of a table in sync is dropped, so that the next access faults and re-reads the guest tables. For a nested
    /// guest INVLPG does not touch guest-physical translations (INVEPT does): the shadow is the same, no flush is recorded.
    /// </summary>
    public void Invlpg(ulong va)
    {
        _stats.Add(ShadowCounter.Invlpgs);
        if (Vm.SharedFaults)
        {
            InvlpgOnSharedSide(va);
            return;
        }

        using (Vm.MmuLock.Enter())
        {
            ShadowPage? root = RootFor(va);
            RecordInvlpg(root, va);
            if (Vm.InvalidateAddr(root, va))
            {
                _stats.Add(ShadowCounter.ZappedEntries);
            }

            foreach (CachedRoots cached in _previousRoots)
            {
                Vm.InvalidateAddr(cached.Roots[RootSlot(va)], va);
            }
        }
    }

    /// <summary>
    /// INVLPG on the mmu_lock's shared side: the leaf for <paramref name="va"/> under the current and the cached roots
    /// becomes a tombstone with a stamp of this vCPU's (<see cref="Vm.InvalidateAddrShared"/>), in sync or unsync alike:
    /// the next access faults and reads the guest entry as it is now.
    /// </summary>
    private void InvlpgOnSharedSide(ulong va)
    {
        // Unique per drop: this vCPU's count of drops and its id (MaxVcpus is 64).
        ulong stamp = (++_own.Drops << 6) | (uint)Id;
        using (Vm.MmuLock.EnterShared(ReaderSlot))
        {
            ShadowPage? root = RootFor(va);
            RecordInvlpg(root, va);
            if (Vm.InvalidateAddrShared(root, va, stamp))
            {
                _stats.Add(ShadowCounter.ZappedEntries);
            }

            foreach (CachedRoots cached in _previousRoots)
            {
                Vm.InvalidateAddrShared(cached.Roots[RootSlot(va)], va, stamp);
            }
        }
    }

    /// <summary>
    /// INVLPG's record for the audit's TLB oracle, made before the drop or sync reads the guest entry (a write after this
    /// point may still be pending). Only once a table has gone unsync (<see cref="Vm.RecordsFlushes"/>: until then every
    /// shadow entry is exact), and never for a nested guest (INVLPG does not flush its guest-physical translations).
    /// </summary>
    private void RecordInvlpg(ShadowPage? root, ulong va)
    {
        if (!_ept && root != null && Vm.RecordsFlushes)
        {
            Vm.Tlb.Invlpg(Vm.ContextOf(root), Vm.WithinRoot(root, va));
            Vm.Scheduling?.At(SchedulingPoint.FlushRecorded);
        }
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
            Vm.MarkReachedBy(root, Id);
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

    /// <summary>The vCPU's roots: the current ones and those cached for a switch back (for the audit).</summary>
    internal IEnumerable<ShadowPage> AllRoots()
    {
        foreach (ShadowPage? root in _roots)
        {
            if (root != null)
            {
                yield return root;
            }
        }

        foreach (CachedRoots cached in _previousRoots)
        {
            foreach (ShadowPage? root in cached.Roots)
            {
                if (root != null)
                {
                    yield return root;
                }
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
