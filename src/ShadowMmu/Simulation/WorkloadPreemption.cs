using System.Diagnostics;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// Race windows for the workload, through the fault path's hooks (<see cref="Vm.FetchHooks"/>). On one fault in
/// <c>oneIn</c> per vCPU, the faulting thread publishes the guest entries its lock-free walk read and gives up the
/// processor before taking the mmu_lock, where a KVM host thread may sleep too (gfn-to-pfn resolution). One writer
/// thread may claim the window and rewrite one of those entries; the vCPU goes on as soon as that write is done (or
/// after a millisecond if no writer came). The walk/fetch race then happens on any number of cores, whatever else the
/// machine runs, with one write per window (more would look like a write flood and get the table zapped instead).
/// Allocation-free and safe from every thread at once.
/// </summary>
internal sealed class WorkloadPreemption : IFetchHooks
{
    private const int Stride = 16;                                  // one window per vCPU, 128 bytes apart
    private const int StateAt = 0, LeafLevelAt = 1, TopLevelAt = 2, GpaAt = 3;   // GpaAt + level - 1: the entry read at level
    private const long Closed = 0, Open = 1, Claimed = 2, Written = 3;

    private readonly long[] _windows = new long[Vm.MaxVcpus * Stride];
    private readonly int[] _faults = new int[Vm.MaxVcpus * Stride];
    private readonly int _oneIn;
    private int _nextScan;

    public WorkloadPreemption(int oneIn) => _oneIn = oneIn;

    /// <summary>Windows opened so far.</summary>
    public long Windows;

    /// <summary>Windows a writer wrote into.</summary>
    public long Claims;

    /// <inheritdoc/>
    public void AfterWalk(Vcpu vcpu, in GuestWalk walk)
    {
        // Only the vCPU's own thread touches its counter and opens its window.
        ref int faults = ref _faults[vcpu.Id * Stride];
        if (++faults < _oneIn)
        {
            return;
        }

        faults = 0;
        int at = vcpu.Id * Stride;
        int top = walk.MaxLevel;
        for (int level = walk.Level; level <= top; level++)
        {
            _windows[at + GpaAt + level - 1] = (long)walk.PteGpa[level - 1];
        }

        _windows[at + LeafLevelAt] = walk.Level;
        _windows[at + TopLevelAt] = top;
        Volatile.Write(ref _windows[at + StateAt], Open);
        Interlocked.Increment(ref Windows);

        // Wait, giving the processor away, until a writer has written into the window or nobody came for a millisecond;
        // go on at once after that one write, before more writes to the table look like a flood and get it zapped.
        long start = Stopwatch.GetTimestamp();
        long open = Stopwatch.Frequency / 1000, claimed = Stopwatch.Frequency / 20;
        while (true)
        {
            long state = Volatile.Read(ref _windows[at + StateAt]);
            long waited = Stopwatch.GetTimestamp() - start;
            if (state == Written
                || (state == Open && waited > open && Interlocked.CompareExchange(ref _windows[at + StateAt], Closed, Open) == Open)
                || waited > claimed)
            {
                break;
            }

            Thread.Yield();
        }

        Volatile.Write(ref _windows[at + StateAt], Closed);
    }

    /// <inheritdoc/>
    public void AfterChildPage(int level, ShadowPage child)
    {
    }

    /// <summary>
    /// A writer's claim on an open window whose walk read an entry at <paramref name="level"/>: true, once per window,
    /// with that entry's address and the window to pass to <see cref="Done"/> once the entry is written.
    /// </summary>
    public bool TryClaim(int level, out ulong gpa, out int window)
    {
        int start = (int)((uint)Interlocked.Increment(ref _nextScan) % Vm.MaxVcpus);
        for (int i = 0; i < Vm.MaxVcpus; i++)
        {
            window = (start + i) % Vm.MaxVcpus;
            int at = window * Stride;
            if (Volatile.Read(ref _windows[at + StateAt]) != Open
                || level < _windows[at + LeafLevelAt] || level > _windows[at + TopLevelAt])
            {
                continue;
            }

            gpa = (ulong)_windows[at + GpaAt + level - 1];
            if (Interlocked.CompareExchange(ref _windows[at + StateAt], Claimed, Open) == Open)
            {
                Interlocked.Increment(ref Claims);
                return true;
            }
        }

        gpa = 0;
        window = -1;
        return false;
    }

    /// <summary>The claimed entry of <paramref name="window"/> is written: its vCPU may go on to fetch; let it run.</summary>
    public void Done(int window)
    {
        Interlocked.CompareExchange(ref _windows[(window * Stride) + StateAt], Written, Claimed);
        Thread.Yield();
    }
}
