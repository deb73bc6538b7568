using System;
using System.Threading;

namespace ShadowMmu;

/// <summary>A counter of <see cref="ShadowStats"/>.</summary>
internal enum ShadowCounter
{
    Accesses,
    Hits,
    Faults,
    Walks,
    GuestFaults,
    Retries,
    RecheckFailures,
    PagesCreated,
    PagesZapped,
    Prefetched,
    PrefetchUsed,
    TrappedWrites,
    EmulatedWrites,
    ZappedEntries,
    Invlpgs,
    RootLoads,
    Invalidations,
    SeqRetries,
    GuestPteWrites,
    UnsyncPages,
    Syncs,
    SharedFaults,
    ExclusiveRetries,
    Count,
}

/// <summary>
/// The counters one writer owns: a vCPU's, written only by the thread that runs that vCPU, or the VM's, written only
/// under the mmu_lock. Plain increments, no atomic instruction and no cache line shared with another writer: counting
/// costs a fault nothing measurable, and two vCPUs do not contend for their counters.
/// </summary>
internal sealed class ShadowCounters
{
    // A cache line of padding on each side, so that blocks allocated one after the other share no line.
    private const int Padding = 8;
    private readonly long[] _values = new long[Padding + (int)ShadowCounter.Count + Padding];

    /// <summary>Adds <paramref name="value"/> to <paramref name="counter"/>; only this block's writer may call it.</summary>
    public void Add(ShadowCounter counter, long value = 1) => _values[Padding + (int)counter] += value;

    /// <summary>Adds one to <paramref name="counter"/> from any thread (for the few counts made without the mmu_lock on the VM's block).</summary>
    public void AddAtomic(ShadowCounter counter) => Interlocked.Increment(ref _values[Padding + (int)counter]);

    /// <summary>The counter's value as last written (any thread).</summary>
    public long Read(ShadowCounter counter) => Volatile.Read(ref _values[Padding + (int)counter]);
}

/// <summary>
/// Counters of a VM's shadow MMU: the sums of the VM's own block (updated under the mmu_lock) and of one block per vCPU
/// (updated by its thread). Reads may run while the vCPUs run; each counter is then as its writers last left it.
/// </summary>
public sealed class ShadowStats
{
    private readonly object _gate = new();
    private ShadowCounters[] _blocks;

    internal ShadowStats()
    {
        Vm = new ShadowCounters();
        _blocks = new[] { Vm };
    }

    /// <summary>The VM's block, written under the mmu_lock.</summary>
    internal ShadowCounters Vm { get; }

    /// <summary>Accesses the vCPUs made.</summary>
    public long Accesses => Sum(ShadowCounter.Accesses);

    /// <summary>Accesses the shadow tables translated without a fault.</summary>
    public long ShadowHits => Sum(ShadowCounter.Hits);

    /// <summary>Shadow page faults taken.</summary>
    public long Faults => Sum(ShadowCounter.Faults);

    /// <summary>Guest page walks (one per fault, plus A/D restarts counted by the walk itself).</summary>
    public long Walks => Sum(ShadowCounter.Walks);

    /// <summary>Faults injected into the guest (its own tables deny the access).</summary>
    public long GuestFaults => Sum(ShadowCounter.GuestFaults);

    /// <summary>Faults that had to be handled again.</summary>
    public long Retries => Sum(ShadowCounter.Retries);

    /// <summary>Fetches that found a guest entry changed since the walk and installed nothing.</summary>
    public long RecheckFailures => Sum(ShadowCounter.RecheckFailures);

    /// <summary>Shadow pages created.</summary>
    public long ShadowPagesCreated => Sum(ShadowCounter.PagesCreated);

    /// <summary>Shadow pages zapped.</summary>
    public long ShadowPagesZapped => Sum(ShadowCounter.PagesZapped);

    /// <summary>Leaf entries installed by prefetch.</summary>
    public long Prefetched => Sum(ShadowCounter.Prefetched);

    /// <summary>Prefetched entries that an access used later.</summary>
    public long PrefetchedUsed => Sum(ShadowCounter.PrefetchUsed);

    /// <summary>Guest writes to write-protected (shadowed) guest tables.</summary>
    public long TrappedWrites => Sum(ShadowCounter.TrappedWrites);

    /// <summary>vCPU writes emulated because they hit a shadowed guest table.</summary>
    public long EmulatedWrites => Sum(ShadowCounter.EmulatedWrites);

    /// <summary>Shadow entries zapped by trapped writes and invlpg.</summary>
    public long ZappedEntries => Sum(ShadowCounter.ZappedEntries);

    /// <summary>INVLPG instructions.</summary>
    public long Invlpgs => Sum(ShadowCounter.Invlpgs);

    /// <summary>Shadow roots loaded (CR3 writes that found no cached root).</summary>
    public long RootLoads => Sum(ShadowCounter.RootLoads);

    /// <summary>Host invalidations started (KVM's mmu notifier <c>invalidate_range_start</c>).</summary>
    public long Invalidations => Sum(ShadowCounter.Invalidations);

    /// <summary>Faults retried because a host invalidation moved (or was moving) their frame since they resolved it.</summary>
    public long SeqRetries => Sum(ShadowCounter.SeqRetries);

    /// <summary>Guest writes into guest tables that a shadow page shadows, trapped or not (unsync tables take them without a trap).</summary>
    public long GuestPteWrites => Sum(ShadowCounter.GuestPteWrites);

    /// <summary>Times a shadow page went unsync (its guest table writable, no longer write-protected).</summary>
    public long UnsyncPages => Sum(ShadowCounter.UnsyncPages);

    /// <summary>Unsync shadow pages or entries re-read from the guest at its TLB flushes (INVLPG, CR3 loads, INVEPT).</summary>
    public long Syncs => Sum(ShadowCounter.Syncs);

    /// <summary>Faults that fetched on the mmu_lock's shared side (the pages they needed existed and were linked).</summary>
    public long SharedFaults => Sum(ShadowCounter.SharedFaults);

    /// <summary>Faults the shared side handed to the exclusive side (a page to create or link, a reverse map to change, a table to unsync).</summary>
    public long ExclusiveRetries => Sum(ShadowCounter.ExclusiveRetries);

    /// <summary>A block for a new vCPU, which only that vCPU's thread writes.</summary>
    internal ShadowCounters AddVcpu()
    {
        var block = new ShadowCounters();
        lock (_gate)
        {
            ShadowCounters[] blocks = new ShadowCounters[_blocks.Length + 1];
            Array.Copy(_blocks, blocks, _blocks.Length);
            blocks[^1] = block;
            Volatile.Write(ref _blocks, blocks);
        }

        return block;
    }

    private long Sum(ShadowCounter counter)
    {
        long sum = 0;
        foreach (ShadowCounters block in Volatile.Read(ref _blocks))
        {
            sum += block.Read(counter);
        }

        return sum;
    }
}
