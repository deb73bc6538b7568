using System.Threading;

namespace ShadowMmu;

/// <summary>Counters of a VM's shadow MMU, updated with atomic increments by every vCPU.</summary>
public sealed class ShadowStats
{
    internal long AccessesField, HitsField, FaultsField, WalksField, GuestFaultsField, RetriesField, RecheckFailuresField,
        PagesCreatedField, PagesZappedField, PrefetchedField, PrefetchUsedField, TrappedWritesField, EmulatedWritesField,
        ZappedEntriesField, InvlpgsField, RootLoadsField;

    /// <summary>Accesses the vCPUs made.</summary>
    public long Accesses => Volatile.Read(ref AccessesField);

    /// <summary>Accesses the shadow tables translated without a fault.</summary>
    public long ShadowHits => Volatile.Read(ref HitsField);

    /// <summary>Shadow page faults taken.</summary>
    public long Faults => Volatile.Read(ref FaultsField);

    /// <summary>Guest page walks (one per fault, plus A/D restarts counted by the walk itself).</summary>
    public long Walks => Volatile.Read(ref WalksField);

    /// <summary>Faults injected into the guest (its own tables deny the access).</summary>
    public long GuestFaults => Volatile.Read(ref GuestFaultsField);

    /// <summary>Faults that had to be handled again.</summary>
    public long Retries => Volatile.Read(ref RetriesField);

    /// <summary>Fetches that found a guest entry changed since the walk and installed nothing.</summary>
    public long RecheckFailures => Volatile.Read(ref RecheckFailuresField);

    /// <summary>Shadow pages created.</summary>
    public long ShadowPagesCreated => Volatile.Read(ref PagesCreatedField);

    /// <summary>Shadow pages zapped.</summary>
    public long ShadowPagesZapped => Volatile.Read(ref PagesZappedField);

    /// <summary>Leaf entries installed by prefetch.</summary>
    public long Prefetched => Volatile.Read(ref PrefetchedField);

    /// <summary>Prefetched entries that an access used later.</summary>
    public long PrefetchedUsed => Volatile.Read(ref PrefetchUsedField);

    /// <summary>Guest writes to write-protected (shadowed) guest tables.</summary>
    public long TrappedWrites => Volatile.Read(ref TrappedWritesField);

    /// <summary>vCPU writes emulated because they hit a shadowed guest table.</summary>
    public long EmulatedWrites => Volatile.Read(ref EmulatedWritesField);

    /// <summary>Shadow entries zapped by trapped writes and invlpg.</summary>
    public long ZappedEntries => Volatile.Read(ref ZappedEntriesField);

    /// <summary>INVLPG instructions.</summary>
    public long Invlpgs => Volatile.Read(ref InvlpgsField);

    /// <summary>Shadow roots loaded (CR3 writes that found no cached root).</summary>
    public long RootLoads => Volatile.Read(ref RootLoadsField);

    internal static void Add(ref long counter, long value = 1) => Interlocked.Add(ref counter, value);
}
