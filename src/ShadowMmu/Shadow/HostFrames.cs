using System;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// The host side of guest memory: which host frame backs each guest frame, as the host's own page tables say it
/// (KVM resolves a gfn to a pfn through the memslot's host virtual address). The host may take a frame away
/// (reclaim) or move its contents to another host frame (migration, compaction, KSM); it does so only inside an
/// invalidation (<see cref="Vm.InvalidateRangeStart"/> … <see cref="Vm.InvalidateRangeEnd"/>), as the primary MMU
/// changes its PTEs between <c>mmu_notifier_invalidate_range_start</c> and <c>_end</c>. A reclaimed frame comes back
/// (to a new host frame) when a fault resolves it again, as a swap-in does.
/// </summary>
/// <remarks>
/// Host frame numbers start at <see cref="FirstHostFrame"/>, so that a shadow entry's host frame never reads as the
/// guest frame it backs. Guest frames outside guest memory have no host frame (KVM: no memslot; the shadow maps them
/// as the guest frame itself, flagged <see cref="Spte.NoSlot"/>). Thread-safe: lookups are lock-free reads; changes
/// take a lock of the host's own (the mm's page-table lock), never the mmu_lock.
/// </remarks>
public sealed class HostFrames
{
    /// <summary>The first host frame number: 4 GiB, far from every guest frame the tests use.</summary>
    public const ulong FirstHostFrame = 0x10_0000;

    /// <summary>No host frame: the guest frame is reclaimed (or outside memory).</summary>
    public const ulong None = ulong.MaxValue;

    /// <summary>No guest frame: the host frame backs nothing now.</summary>
    public const ulong NoGuestFrame = ulong.MaxValue;

    private readonly ulong[] _pfnOf;       // per guest frame
    private readonly ulong[] _gfnOf;       // per host frame (index pfn - FirstHostFrame)
    private readonly int[] _free;          // a ring of free host frames: taken at the head, freed at the tail
    private readonly object _lock = new();
    private int _freeHead, _freeCount;

    internal HostFrames(ulong guestFrames)
    {
        _pfnOf = new ulong[guestFrames];
        // Twice as many host frames as guest frames: a move always finds a free one.
        _gfnOf = new ulong[guestFrames * 2];
        _free = new int[_gfnOf.Length];
        Array.Fill(_gfnOf, NoGuestFrame);
        for (ulong gfn = 0; gfn < guestFrames; gfn++)
        {
            _pfnOf[gfn] = FirstHostFrame + gfn;
            _gfnOf[gfn] = gfn;
        }

        // Free host frames are handed out in order, the lowest first, so that runs are reproducible.
        for (int i = (int)guestFrames; i < _gfnOf.Length; i++)
        {
            _free[_freeCount++] = i;
        }
    }

    /// <summary>Guest frames backed by host memory (those inside guest memory).</summary>
    public ulong GuestFrames => (ulong)_pfnOf.Length;

    /// <summary>Host frames moved or reclaimed so far.</summary>
    public long Changes => Volatile.Read(ref _changes);

    private long _changes;

    /// <summary>The host frame backing <paramref name="gfn"/> now, or <see cref="None"/> (reclaimed, or outside memory).</summary>
    public ulong PfnOf(ulong gfn) => gfn < (ulong)_pfnOf.Length ? Volatile.Read(ref _pfnOf[gfn]) : None;

    /// <summary>The guest frame host frame <paramref name="pfn"/> backs now, or <see cref="NoGuestFrame"/>.</summary>
    public ulong GfnOf(ulong pfn)
    {
        ulong index = pfn - FirstHostFrame;
        return index < (ulong)_gfnOf.Length ? Volatile.Read(ref _gfnOf[index]) : NoGuestFrame;
    }

    /// <summary>True when <paramref name="gfn"/> lies in guest memory (has a memslot).</summary>
    public bool HasSlot(ulong gfn) => gfn < (ulong)_pfnOf.Length;

    /// <summary>
    /// KVM's <c>__gfn_to_pfn_memslot</c> from the fault path (may sleep): the host frame of <paramref name="gfn"/>,
    /// faulting a reclaimed frame back in. <see cref="None"/> for a frame outside guest memory.
    /// </summary>
    [ShadowMmu.Annotations.HostFrameResolve]
    public ulong Resolve(ulong gfn)
    {
        ulong pfn = PfnOf(gfn);
        if (pfn != None || !HasSlot(gfn))
        {
            return pfn;
        }

        lock (_lock)
        {
            pfn = _pfnOf[gfn];
            if (pfn == None)
            {
                pfn = Take(gfn);
                Volatile.Write(ref _pfnOf[gfn], pfn);
            }

            return pfn;
        }
    }

    /// <summary>
    /// KVM's <c>gfn_to_pfn_memslot_atomic</c>, for prefetch under the mmu_lock: the host frame if one backs the guest
    /// frame now, without faulting anything in.
    /// </summary>
    public bool TryResolveAtomic(ulong gfn, out ulong pfn)
    {
        pfn = PfnOf(gfn);
        return pfn != None;
    }

    /// <summary>
    /// Moves <paramref name="gfn"/> to another host frame (the old one is freed). Only between the start and the end
    /// of an invalidation that covers it: <see cref="Vm.MoveGuestFrames"/> does the three steps.
    /// </summary>
    /// <returns>The new host frame, or <see cref="None"/> when the frame was reclaimed (it stays so).</returns>
    internal ulong Move(ulong gfn)
    {
        lock (_lock)
        {
            ulong old = _pfnOf[gfn];
            if (old == None)
            {
                return None;
            }

            ulong pfn = Take(gfn);
            Volatile.Write(ref _pfnOf[gfn], pfn);
            Release(old);
            Interlocked.Increment(ref _changes);
            return pfn;
        }
    }

    /// <summary>Takes <paramref name="gfn"/>'s host frame away; only inside an invalidation that covers it.</summary>
    internal void Reclaim(ulong gfn)
    {
        lock (_lock)
        {
            ulong old = _pfnOf[gfn];
            if (old == None)
            {
                return;
            }

            Volatile.Write(ref _pfnOf[gfn], None);
            Release(old);
            Interlocked.Increment(ref _changes);
        }
    }

    private ulong Take(ulong gfn)
    {
        if (_freeCount == 0)
        {
            throw new InvalidOperationException("The host has no free frame.");
        }

        int index = _free[_freeHead];
        _freeHead = (_freeHead + 1) % _free.Length;
        _freeCount--;
        Volatile.Write(ref _gfnOf[index], gfn);
        return FirstHostFrame + (ulong)index;
    }

    private void Release(ulong pfn)
    {
        int index = (int)(pfn - FirstHostFrame);
        Volatile.Write(ref _gfnOf[index], NoGuestFrame);
        // Freed frames go to the back of the line: a frame is not reused right away, so that a stale shadow entry
        // names a frame that backs nothing for a while, as freed host memory does.
        _free[(_freeHead + _freeCount) % _free.Length] = index;
        _freeCount++;
    }
}
