using System;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// The host's invalidations of guest memory, KVM's mmu notifier (virt/kvm/kvm_main.c): a host that takes guest frames
/// away or moves them does so in two steps. The start counts an invalidation as in progress over its range and, under
/// the mmu_lock, zaps every shadow entry that maps those frames (<c>kvm_mmu_notifier_invalidate_range_start</c>:
/// <c>kvm_mmu_invalidate_begin</c>, <c>kvm_mmu_invalidate_range_add</c>, <c>kvm_unmap_gfn_range</c>, then the remote
/// TLB flush); the host then changes its mapping; the end bumps <c>mmu_invalidate_seq</c> and ends the in-progress
/// count (<c>kvm_mmu_invalidate_end</c>). A fault that resolved a frame before or during an invalidation notices it
/// under the lock through the sequence and the range (<see cref="MmuInvalidateRetryGfn"/>) and retries.
/// </summary>
public sealed partial class Vm
{
    private const ulong InvalidGfn = ulong.MaxValue;

    [ShadowMmu.Annotations.GuardedByMmuLock]
    private long _mmuInvalidateSeq;
    [ShadowMmu.Annotations.GuardedByMmuLock]
    private int _mmuInvalidateInProgress;
    [ShadowMmu.Annotations.GuardedByMmuLock]
    private ulong _mmuInvalidateRangeStart = InvalidGfn, _mmuInvalidateRangeEnd = InvalidGfn;

    /// <summary>Which host frame backs each guest frame; the host moves and reclaims them through this VM's invalidations.</summary>
    public HostFrames Host { get; }

    /// <summary>
    /// Whether the fault path re-checks <c>mmu_invalidate_seq</c> under the lock before it installs anything (KVM's
    /// <c>is_page_fault_stale</c>). Default true; false reproduces the race the check exists for (the lint takes it as
    /// on: a re-check it guards counts, MMU0007).
    /// </summary>
    [ShadowMmu.Annotations.RecheckSwitch]
    public bool SequenceCheck { get; set; } = true;

    /// <summary>KVM's <c>mmu_invalidate_seq</c>: bumped at the end of every invalidation.</summary>
    public long MmuInvalidateSeq => Volatile.Read(ref _mmuInvalidateSeq);

    /// <summary>Invalidations started and not yet ended (KVM's <c>mmu_invalidate_in_progress</c>).</summary>
    public int MmuInvalidateInProgress => Volatile.Read(ref _mmuInvalidateInProgress);

    /// <summary>
    /// The fault path's snapshot of the sequence, taken before it resolves the guest frame (KVM's
    /// <c>fault->mmu_seq = kvm->mmu_invalidate_seq; smp_rmb();</c> in <c>kvm_faultin_pfn</c>): the read may not move
    /// after the resolution's reads.
    /// </summary>
    [ShadowMmu.Annotations.InvalidationSnapshot]
    public long SnapshotMmuInvalidateSeq()
    {
        long seq = Volatile.Read(ref _mmuInvalidateSeq);
        Interlocked.MemoryBarrier();
        return seq;
    }

    /// <summary>
    /// KVM's <c>mmu_invalidate_retry_gfn</c>, under the mmu_lock: true when an invalidation is in progress over a range
    /// that holds <paramref name="gfn"/>, or one ended since the fault took <paramref name="mmuSeq"/>; the host frame
    /// the fault resolved may then be stale, and the fault must retry.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    public bool MmuInvalidateRetryGfn([ShadowMmu.Annotations.RechecksInvalidationSnapshot(UnchangedWhen = false)] long mmuSeq, ulong gfn)
    {
        if (_mmuInvalidateInProgress != 0 && gfn >= _mmuInvalidateRangeStart && gfn < _mmuInvalidateRangeEnd)
        {
            return true;
        }

        return _mmuInvalidateSeq != mmuSeq;
    }

    /// <summary>True while an invalidation is in progress anywhere (prefetch is skipped then, as in KVM's FNAME(pte_prefetch)).</summary>
    internal bool InvalidationInProgress => _mmuInvalidateInProgress != 0;

    /// <summary>
    /// The start of an invalidation of guest frames [<paramref name="gfnStart"/>, <paramref name="gfnEnd"/>): counted as
    /// in progress over that range, every shadow entry that maps one of them zapped under the mmu_lock, then (the remote
    /// TLB flush) every vCPU shadow walk that could have read a zapped entry waited for. From its return until
    /// <see cref="InvalidateRangeEnd"/>, the host may change which host frames back those guest frames.
    /// </summary>
    public void InvalidateRangeStart(ulong gfnStart, ulong gfnEnd)
    {
        if (gfnEnd <= gfnStart)
        {
            throw new ArgumentOutOfRangeException(nameof(gfnEnd), gfnEnd, "The range is empty.");
        }

        long flushEpoch;
        using (MmuLock.Enter())
        {
            // kvm_mmu_invalidate_begin
            _mmuInvalidateInProgress++;
            if (_mmuInvalidateInProgress == 1)
            {
                _mmuInvalidateRangeStart = InvalidGfn;
                _mmuInvalidateRangeEnd = InvalidGfn;
            }

            // kvm_mmu_invalidate_range_add: concurrent ranges merge into one until all of them end.
            if (_mmuInvalidateRangeStart == InvalidGfn)
            {
                _mmuInvalidateRangeStart = gfnStart;
                _mmuInvalidateRangeEnd = gfnEnd;
            }
            else
            {
                _mmuInvalidateRangeStart = Math.Min(_mmuInvalidateRangeStart, gfnStart);
                _mmuInvalidateRangeEnd = Math.Max(_mmuInvalidateRangeEnd, gfnEnd);
            }

            Stats.Vm.Add(ShadowCounter.Invalidations);
            UnmapGfnRange(gfnStart, gfnEnd);
            flushEpoch = Interlocked.Increment(ref _epoch);
        }

        // kvm_flush_remote_tlbs: no vCPU may still use a zapped entry once the host changes its mapping.
        WaitForShadowWalksBefore(flushEpoch);
    }

    /// <summary>The end of an invalidation (KVM's <c>kvm_mmu_invalidate_end</c>): the sequence moves first, then the in-progress count drops.</summary>
    /// <exception cref="InvalidOperationException">No invalidation is in progress.</exception>
    public void InvalidateRangeEnd()
    {
        using (MmuLock.Enter())
        {
            if (_mmuInvalidateInProgress == 0)
            {
                throw new InvalidOperationException("No invalidation is in progress.");
            }

            Volatile.Write(ref _mmuInvalidateSeq, _mmuInvalidateSeq + 1);
            _mmuInvalidateInProgress--;
        }
    }

    /// <summary>
    /// The host moves <paramref name="count"/> guest frames from <paramref name="gfn"/> to other host frames (page
    /// migration): start, move, end. Frames that are reclaimed stay so.
    /// </summary>
    public void MoveGuestFrames(ulong gfn, ulong count) => ChangeGuestFrames(gfn, count, reclaim: false);

    /// <summary>The host takes <paramref name="count"/> guest frames from <paramref name="gfn"/> away (reclaim); a later fault brings each back.</summary>
    public void ReclaimGuestFrames(ulong gfn, ulong count) => ChangeGuestFrames(gfn, count, reclaim: true);

    private void ChangeGuestFrames(ulong gfn, ulong count, bool reclaim)
    {
        ulong end = Math.Min(gfn + count, Host.GuestFrames);
        if (gfn >= end)
        {
            return;
        }

        InvalidateRangeStart(gfn, end);
        Scheduling?.At(SchedulingPoint.InvalidationStarted);
        for (ulong frame = gfn; frame < end; frame++)
        {
            if (reclaim)
            {
                Host.Reclaim(frame);
            }
            else
            {
                Host.Move(frame);
            }
        }

        Scheduling?.At(SchedulingPoint.InvalidationMoved);
        InvalidateRangeEnd();
    }

    /// <summary>KVM's <c>kvm_unmap_gfn_range</c> for shadow pages: drops every leaf that maps a frame of the range.</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private void UnmapGfnRange(ulong gfnStart, ulong gfnEnd)
    {
        ulong end = Math.Min(gfnEnd, (ulong)_rmapHead.Length);
        for (ulong gfn = gfnStart; gfn < end; gfn++)
        {
            while (_rmapHead[gfn] != LinkPool.None)
            {
                int node = _rmapHead[gfn];
                DropSpte(_pages[_links.PageOf(node)]!, _links.IndexOf(node));
                Stats.Vm.Add(ShadowCounter.ZappedEntries);
            }
        }
    }

    /// <summary>Waits until no vCPU is in a lock-free shadow walk that began before <paramref name="epoch"/> (KVM: the remote TLB flush waits for the vCPUs to leave guest mode).</summary>
    private void WaitForShadowWalksBefore(long epoch)
    {
        // Called with or without the mmu_lock: vCPUs are added before they run, so the count is settled.
        int count = _vcpus.Count;
        for (int i = 0; i < count; i++)
        {
            Vcpu vcpu = _vcpus[i];
            var wait = default(SpinWait);
            for (long active = Volatile.Read(ref vcpu.WalkEpoch); active != 0 && active < epoch; active = Volatile.Read(ref vcpu.WalkEpoch))
            {
                if (Scheduling is ISchedulingPoints scheduling)
                {
                    scheduling.Spin();
                }
                else
                {
                    wait.SpinOnce();
                }
            }
        }
    }
}
