using System;
using System.Collections.Generic;

namespace ShadowMmu;

/// <summary>A copy of every counter of <see cref="ShadowStats"/> at one moment.</summary>
/// <param name="Accesses">Accesses the vCPUs made.</param>
/// <param name="ShadowHits">Accesses the shadow tables translated without a fault.</param>
/// <param name="Faults">Shadow page faults taken.</param>
/// <param name="Walks">Guest page walks.</param>
/// <param name="GuestFaults">Faults injected into the guest.</param>
/// <param name="Retries">Faults that had to be handled again.</param>
/// <param name="RecheckFailures">Fetches that found a guest entry changed since the walk.</param>
/// <param name="ShadowPagesCreated">Shadow pages created.</param>
/// <param name="ShadowPagesZapped">Shadow pages zapped.</param>
/// <param name="Prefetched">Leaf entries installed by prefetch.</param>
/// <param name="PrefetchedUsed">Prefetched entries that an access used later.</param>
/// <param name="TrappedWrites">Guest writes to write-protected (shadowed) guest tables.</param>
/// <param name="EmulatedWrites">vCPU writes emulated because they hit a shadowed guest table.</param>
/// <param name="ZappedEntries">Shadow entries zapped by trapped writes and INVLPG.</param>
/// <param name="Invlpgs">INVLPG instructions.</param>
/// <param name="RootLoads">Shadow roots loaded.</param>
/// <param name="GuestPteWrites">Guest writes into shadowed guest tables, trapped or not.</param>
/// <param name="UnsyncPages">Times a shadow page went unsync.</param>
/// <param name="Syncs">Unsync pages or entries re-read at the guest's flushes.</param>
/// <param name="Invalidations">Host invalidations started.</param>
/// <param name="SeqRetries">Faults retried because a host invalidation moved their frame since they resolved it.</param>
/// <param name="SharedFaults">Faults that fetched on the mmu_lock's shared side.</param>
/// <param name="ExclusiveRetries">Faults the shared side handed to the exclusive side.</param>
public readonly record struct ShadowStatsSnapshot(
    long Accesses,
    long ShadowHits,
    long Faults,
    long Walks,
    long GuestFaults,
    long Retries,
    long RecheckFailures,
    long ShadowPagesCreated,
    long ShadowPagesZapped,
    long Prefetched,
    long PrefetchedUsed,
    long TrappedWrites,
    long EmulatedWrites,
    long ZappedEntries,
    long Invlpgs,
    long RootLoads,
    long GuestPteWrites,
    long UnsyncPages,
    long Syncs,
    long Invalidations,
    long SeqRetries,
    long SharedFaults,
    long ExclusiveRetries)
{
    /// <summary>Reads every counter of <paramref name="stats"/>.</summary>
    public static ShadowStatsSnapshot Of(ShadowStats stats) => new(
        stats.Accesses,
        stats.ShadowHits,
        stats.Faults,
        stats.Walks,
        stats.GuestFaults,
        stats.Retries,
        stats.RecheckFailures,
        stats.ShadowPagesCreated,
        stats.ShadowPagesZapped,
        stats.Prefetched,
        stats.PrefetchedUsed,
        stats.TrappedWrites,
        stats.EmulatedWrites,
        stats.ZappedEntries,
        stats.Invlpgs,
        stats.RootLoads,
        stats.GuestPteWrites,
        stats.UnsyncPages,
        stats.Syncs,
        stats.Invalidations,
        stats.SeqRetries,
        stats.SharedFaults,
        stats.ExclusiveRetries);

    /// <summary>Every counter of this and <paramref name="other"/> added (VMs side by side counted as one machine).</summary>
    public ShadowStatsSnapshot Plus(in ShadowStatsSnapshot other) => new(
        Accesses + other.Accesses,
        ShadowHits + other.ShadowHits,
        Faults + other.Faults,
        Walks + other.Walks,
        GuestFaults + other.GuestFaults,
        Retries + other.Retries,
        RecheckFailures + other.RecheckFailures,
        ShadowPagesCreated + other.ShadowPagesCreated,
        ShadowPagesZapped + other.ShadowPagesZapped,
        Prefetched + other.Prefetched,
        PrefetchedUsed + other.PrefetchedUsed,
        TrappedWrites + other.TrappedWrites,
        EmulatedWrites + other.EmulatedWrites,
        ZappedEntries + other.ZappedEntries,
        Invlpgs + other.Invlpgs,
        RootLoads + other.RootLoads,
        GuestPteWrites + other.GuestPteWrites,
        UnsyncPages + other.UnsyncPages,
        Syncs + other.Syncs,
        Invalidations + other.Invalidations,
        SeqRetries + other.SeqRetries,
        SharedFaults + other.SharedFaults,
        ExclusiveRetries + other.ExclusiveRetries);

    /// <summary>Every counter with its name (the property's), in declaration order, for tables and JSON.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Counters() => new KeyValuePair<string, long>[]
    {
        new(nameof(Accesses), Accesses),
        new(nameof(ShadowHits), ShadowHits),
        new(nameof(Faults), Faults),
        new(nameof(Walks), Walks),
        new(nameof(GuestFaults), GuestFaults),
        new(nameof(Retries), Retries),
        new(nameof(RecheckFailures), RecheckFailures),
        new(nameof(ShadowPagesCreated), ShadowPagesCreated),
        new(nameof(ShadowPagesZapped), ShadowPagesZapped),
        new(nameof(Prefetched), Prefetched),
        new(nameof(PrefetchedUsed), PrefetchedUsed),
        new(nameof(TrappedWrites), TrappedWrites),
        new(nameof(EmulatedWrites), EmulatedWrites),
        new(nameof(ZappedEntries), ZappedEntries),
        new(nameof(Invlpgs), Invlpgs),
        new(nameof(RootLoads), RootLoads),
        new(nameof(GuestPteWrites), GuestPteWrites),
        new(nameof(UnsyncPages), UnsyncPages),
        new(nameof(Syncs), Syncs),
        new(nameof(Invalidations), Invalidations),
        new(nameof(SeqRetries), SeqRetries),
        new(nameof(SharedFaults), SharedFaults),
        new(nameof(ExclusiveRetries), ExclusiveRetries),
    };
}

/// <summary>What the workload's own threads did in one mode (the MMU's view is in <see cref="ShadowStatsSnapshot"/>).</summary>
/// <param name="Operations">Operations done by every thread: accesses, table writes, CR3 switches, zaps.</param>
/// <param name="VcpuOperations">Of those, by the vCPU threads.</param>
/// <param name="WriterOperations">Of those, by the writer threads.</param>
/// <param name="Reads">Data reads.</param>
/// <param name="Writes">Data writes.</param>
/// <param name="Fetches">Instruction fetches.</param>
/// <param name="TableWritesByLevel">Guest page-table entries rewritten, by level: index 1 = PTE, 2 = PDE, 3 = PDPTE, 4 = PML4E, 5 = PML5E (index 0 unused).</param>
/// <param name="TableWritesViaDirectMap">Of the table writes, those a writer's vCPU stored through the guest's own mapping of its page tables (the rest went straight to <see cref="Vm.GuestWrite(ulong, ulong, int)"/>).</param>
/// <param name="LargePageSwitches">Table writes that turned an entry from a table into a large page or back.</param>
/// <param name="MisalignedWrites">Table writes narrower than an entry that are not a status-byte update (the MMU zaps the whole shadow page).</param>
/// <param name="Cr3Switches">CR3 writes switching between the two address spaces (or reloading PAE PDPTEs).</param>
/// <param name="ZapAlls">Times a writer zapped every shadow page.</param>
public sealed record WorkloadCounts(
    long Operations,
    long VcpuOperations,
    long WriterOperations,
    long Reads,
    long Writes,
    long Fetches,
    IReadOnlyList<long> TableWritesByLevel,
    long TableWritesViaDirectMap,
    long LargePageSwitches,
    long MisalignedWrites,
    long Cr3Switches,
    long ZapAlls)
{
    /// <summary>Faults on which a vCPU thread slept between its guest walk and fetch (<see cref="SimulationOptions.RaceWindowOneIn"/>).</summary>
    public long RaceWindows { get; init; }

    /// <summary>Of those windows, the ones in which a writer rewrote an entry the walk had read.</summary>
    public long RaceWindowWrites { get; init; }

    /// <summary>Every table write, whatever its level.</summary>
    public long TableWrites
    {
        get
        {
            long total = 0;
            foreach (long count in TableWritesByLevel)
            {
                total += count;
            }

            return total;
        }
    }
}

/// <summary>One mode's result.</summary>
/// <param name="Mode">The paging mode.</param>
/// <param name="Elapsed">How long the threads ran.</param>
/// <param name="Stats">Every counter of the VM's <see cref="ShadowStats"/> at the end.</param>
/// <param name="ShadowPages">Shadow pages in use at the end (<see cref="Vm.ActiveShadowPages"/>).</param>
/// <param name="Workload">What the workload's threads did.</param>
/// <param name="Audit">The audit of every shadow entry against the guest tables, once every thread had stopped.</param>
/// <param name="MidRunAudits">Audits made while the run was paused (<see cref="SimulationOptions.AuditIntervalSeconds"/>).</param>
/// <param name="MidRunStale">Stale entries those audits found, each listed once by the first audit that saw it (at most <see cref="MaxListedStale"/>).</param>
/// <param name="MidRunStaleCount">Stale entries those audits found, counting an entry again at each audit that saw it.</param>
public sealed record SimulationModeReport(
    string Mode,
    TimeSpan Elapsed,
    ShadowStatsSnapshot Stats,
    int ShadowPages,
    WorkloadCounts Workload,
    AuditResult Audit,
    int MidRunAudits,
    IReadOnlyList<StaleEntry> MidRunStale,
    long MidRunStaleCount)
{
    /// <summary>The most stale entries <see cref="MidRunStale"/> lists.</summary>
    public const int MaxListedStale = 100;

    /// <summary>Entries of unsync tables that the final audit found pending (what the guest's TLB may still hold).</summary>
    public long PendingAtAudit => Audit.Pending;

    /// <summary>Trapped writes per guest write into a shadowed table (1 with unsync off; far fewer with it).</summary>
    public double TrappedWritesPerGuestPteWrite => Stats.GuestPteWrites > 0 ? (double)Stats.TrappedWrites / Stats.GuestPteWrites : 0;

    /// <summary>Faults and trapped writes per second: each is a VM exit in a real hypervisor.</summary>
    public double ExitsPerSecond => Elapsed > TimeSpan.Zero ? (Stats.Faults + Stats.TrappedWrites) / Elapsed.TotalSeconds : 0;

    /// <summary>True when no audit, mid-run or final, found a stale entry.</summary>
    public bool Clean => Audit.Clean && MidRunStaleCount == 0;

    /// <summary>Shadow page faults per second of running time.</summary>
    public double FaultsPerSecond => Elapsed > TimeSpan.Zero ? Stats.Faults / Elapsed.TotalSeconds : 0;

    /// <summary>Operations per second of running time.</summary>
    public double OperationsPerSecond => Elapsed > TimeSpan.Zero ? Workload.Operations / Elapsed.TotalSeconds : 0;

    /// <summary>Prefetched entries installed.</summary>
    public long Prefetched => Stats.Prefetched;

    /// <summary>Prefetched entries that an access used later.</summary>
    public long PrefetchedUsed => Stats.PrefetchedUsed;
}

/// <summary>What <see cref="Simulation.Run"/> did, mode by mode.</summary>
/// <param name="Options">The options it ran with (modes resolved).</param>
/// <param name="Modes">One report per mode, in the order run.</param>
public sealed record SimulationReport(SimulationOptions Options, IReadOnlyList<SimulationModeReport> Modes)
{
    /// <summary>True when no audit found anything stale in any mode.</summary>
    public bool Clean
    {
        get
        {
            foreach (SimulationModeReport mode in Modes)
            {
                if (!mode.Clean)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>Stale entries the final audits found, over every mode.</summary>
    public int StaleCount
    {
        get
        {
            int count = 0;
            foreach (SimulationModeReport mode in Modes)
            {
                count += mode.Audit.Stale.Count;
            }

            return count;
        }
    }
}

/// <summary>How far a run is, reported a few times a second while the threads run.</summary>
/// <param name="Mode">The mode running.</param>
/// <param name="ModeIndex">Its position (0-based) among <paramref name="ModeCount"/> modes.</param>
/// <param name="ModeCount">How many modes the run has.</param>
/// <param name="Operations">Operations done so far in this mode (approximate while running).</param>
/// <param name="OperationTarget">The operations this mode will do, or null when it runs for a time.</param>
/// <param name="Elapsed">Time this mode has run.</param>
/// <param name="Duration">The time this mode runs for, or null when it runs for a number of operations.</param>
/// <param name="Faults">Shadow page faults so far in this mode.</param>
/// <param name="Finished">True for the last report of a mode (its threads have stopped; the audit follows).</param>
public readonly record struct SimulationProgress(
    string Mode,
    int ModeIndex,
    int ModeCount,
    long Operations,
    long? OperationTarget,
    TimeSpan Elapsed,
    TimeSpan? Duration,
    long Faults,
    bool Finished)
{
    /// <summary>This mode's progress from 0 to 1.</summary>
    public double Fraction => Finished
        ? 1
        : OperationTarget is long target && target > 0
            ? Math.Min(1, (double)Operations / target)
            : Duration is TimeSpan duration && duration > TimeSpan.Zero ? Math.Min(1, Elapsed / duration) : 0;
}
