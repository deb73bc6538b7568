using System;
using System.Collections.Generic;
using System.Linq;

namespace ShadowMmu;

/// <summary>What the guest's writer threads do.</summary>
public enum SimulationWorkload
{
    /// <summary>The default mix: entries at every level rewritten one at a time, INVLPG, CR3 switches, zaps.</summary>
    Mix,

    /// <summary>
    /// As fork, exec and munmap do: a writer rewrites every PTE of a table of 4 KiB pages (write-protecting them for
    /// copy-on-write, then giving the rights back) through the kernel's mapping of it, then flushes with a CR3 load
    /// (INVEPT for a nested guest), table after table.
    /// </summary>
    Fork,

    /// <summary>
    /// No writers and no host thread: each vCPU faults and re-faults (INVLPG, then the access) on its own pages in its
    /// own address space, the vCPUs dealt among <see cref="SimulationOptions.Vms"/> VMs (issue 18's measure of how
    /// faults scale with vCPUs; one VM per vCPU is the control). <see cref="SimulationOptions.Writers"/>,
    /// <see cref="SimulationOptions.HostInvalidations"/> and <see cref="SimulationOptions.AuditIntervalSeconds"/> are
    /// ignored (the report's options show 0, false and none).
    /// </summary>
    Disjoint,

    /// <summary>
    /// As <see cref="Disjoint"/>, but the vCPUs of a VM share one address space (one CR3: the same guest tables, so the
    /// same shadow pages down to the page table), each faulting on pages of its own: issue 18's shared-tables measure.
    /// </summary>
    SharedTables,
}

/// <summary>What <see cref="Simulation.Run"/> runs: which modes, how many threads of each kind, for how long, from which seed.</summary>
public sealed record SimulationOptions
{
    /// <summary>Default number of vCPU threads per mode (more than the 2 cores of a CI machine: preemption makes interleavings).</summary>
    public const int DefaultVcpus = 4;

    /// <summary>Default number of guest writer threads per mode.</summary>
    public const int DefaultWriters = 2;

    /// <summary>Default total running time when neither <see cref="Operations"/> nor <see cref="Seconds"/> is set.</summary>
    public const double DefaultSeconds = 4;

    /// <summary>Default seed.</summary>
    public const int DefaultSeed = 1;

    /// <summary>Default shadow-page limit of each mode's VM: small enough that the oldest pages get zapped to make room.</summary>
    public const int DefaultMaxShadowPages = 256;

    /// <summary>Default for <see cref="RaceWindowOneIn"/>.</summary>
    public const int DefaultRaceWindowOneIn = 1024;

    /// <summary>Default share, in percent, of a writer thread's operations that rewrite a guest page-table entry.</summary>
    public const int DefaultTableWritePercent = 25;

    /// <summary>Names of the paging modes to run, in order; null or empty for every built-in mode.</summary>
    public IReadOnlyList<string>? Modes { get; init; }

    /// <summary>vCPU threads per mode: each a <see cref="Vcpu"/> making reads, writes and fetches at CPL 0 and 3.</summary>
    public int Vcpus { get; init; } = DefaultVcpus;

    /// <summary>
    /// Guest writer threads per mode: each a <see cref="Vcpu"/> too (a guest kernel CPU) that rewrites page-table
    /// entries at every level, issues INVLPG, switches CR3, and rarely zaps every shadow page; between table writes it
    /// accesses memory like the others.
    /// </summary>
    public int Writers { get; init; } = DefaultWriters;

    /// <summary>Operations per mode, shared out among the threads; null to run for <see cref="Seconds"/> instead.</summary>
    public long? Operations { get; init; }

    /// <summary>Total running time, split evenly among the modes; used when <see cref="Operations"/> is null (default <see cref="DefaultSeconds"/>).</summary>
    public double? Seconds { get; init; }

    /// <summary>Seed of every thread's stream of operations (each thread gets its own, derived from it, the mode and the thread's number).</summary>
    public int Seed { get; init; } = DefaultSeed;

    /// <summary>What the writer threads do (default <see cref="SimulationWorkload.Mix"/>).</summary>
    public SimulationWorkload Workload { get; init; } = SimulationWorkload.Mix;

    /// <summary>
    /// Independent VMs side by side among which the vCPU threads are dealt (vCPU i runs in VM i mod M); default 1.
    /// More than one only with <see cref="SimulationWorkload.Disjoint"/>.
    /// </summary>
    public int Vms { get; init; } = 1;

    /// <summary>Whether tables of 4 KiB pages may go unsync (<see cref="Vm.UnsyncEnabled"/>; default true).</summary>
    public bool Unsync { get; init; } = true;

    /// <summary>Whether the fault path re-checks the host's invalidation sequence (<see cref="Vm.SequenceCheck"/>; default true).</summary>
    public bool SequenceCheck { get; init; } = true;

    /// <summary>
    /// Whether a host thread moves and reclaims guest frames while the guest runs (default true): one invalidation per
    /// <see cref="OperationsPerInvalidation"/> operations of the guest's threads, of one to four frames.
    /// </summary>
    public bool HostInvalidations { get; init; } = true;

    /// <summary>Guest operations per host invalidation (default 64).</summary>
    public int OperationsPerInvalidation { get; init; } = 64;

    /// <summary>How <c>Fetch</c> re-checks guest entries (the VM's <see cref="Vm.RecheckOrder"/>).</summary>
    public RecheckOrder Recheck { get; init; } = RecheckOrder.Fixed;

    /// <summary>Shadow pages each mode's VM may hold (<see cref="Vm.MaxShadowPages"/>).</summary>
    public int MaxShadowPages { get; init; } = DefaultMaxShadowPages;

    /// <summary>Share, in percent (0 to 100), of a writer's operations that rewrite a page-table entry.</summary>
    public int TableWritePercent { get; init; } = DefaultTableWritePercent;

    /// <summary>
    /// On one fault in this many (per vCPU), the faulting thread sleeps a millisecond between its lock-free guest walk
    /// and taking the mmu_lock (through <see cref="Vm.FetchHooks"/>), as a KVM host thread may sleep there, and one
    /// writer thread may rewrite one of the entries that walk read (at the level its own stream had chosen): walk/fetch
    /// races then happen on any number of cores, however busy the machine. 0 (or no writer threads): never; races
    /// then happen only as the scheduler makes them, which on a busy machine is rarely.
    /// </summary>
    public int RaceWindowOneIn { get; init; } = DefaultRaceWindowOneIn;

    /// <summary>
    /// When set, every so many seconds of a mode's run every thread is paused between two operations and the VM is
    /// audited, besides the audit at the end (a stale entry a later guest write would have repaired is caught this way).
    /// Null: only the audit at the end.
    /// </summary>
    public double? AuditIntervalSeconds { get; init; }

    /// <summary>The modes to run, resolved: every built-in mode (the EPT ones as shadow EPT for a nested guest) when <see cref="Modes"/> is null or empty.</summary>
    /// <exception cref="ArgumentException">A name is not a built-in mode.</exception>
    public IReadOnlyList<PagingModeInfo> ResolveModes()
    {
        var result = new List<PagingModeInfo>();
        if (Modes == null || Modes.Count == 0)
        {
            // The x86 modes first, then shadow EPT.
            result.AddRange(PagingModes.All.Where(m => !m.IsEpt));
            result.AddRange(PagingModes.All.Where(m => m.IsEpt));
            return result;
        }

        foreach (string name in Modes)
        {
            result.Add(Find(name) ?? throw new ArgumentException(UnknownMode(name), nameof(Modes)));
        }

        return result;
    }

    /// <summary>Why these options cannot run, or null when they can.</summary>
    public string? Validate()
    {
        if (Vcpus < 1)
        {
            return $"vCPU threads must be at least 1 (got {Vcpus})";
        }

        if (Writers < 0)
        {
            return $"writer threads cannot be negative (got {Writers})";
        }

        if (Vcpus + (Workload.IsFaultLoop() ? 0 : Writers) > Vm.MaxVcpus)
        {
            return $"a VM has at most {Vm.MaxVcpus} vCPUs: {Vcpus} vCPU threads and {Writers} writer threads are too many";
        }

        if (Vms < 1)
        {
            return $"VMs must be at least 1 (got {Vms})";
        }

        if (Vms > Vcpus)
        {
            return $"{Vms} VMs need at least as many vCPU threads (got {Vcpus})";
        }

        if (Vms > 1 && !Workload.IsFaultLoop())
        {
            return "more than one VM needs the disjoint workload";
        }

        if (Operations != null && Seconds != null)
        {
            return "give an operation count or a running time, not both";
        }

        if (Operations is < 1)
        {
            return $"the operation count must be at least 1 (got {Operations})";
        }

        if (Seconds is double seconds && (!(seconds > 0) || double.IsInfinity(seconds) || seconds > 86_400))
        {
            return $"the running time must be more than 0 and at most a day of seconds (got {seconds})";
        }

        if (MaxShadowPages < 40)
        {
            return $"a VM needs at least 40 shadow pages (got {MaxShadowPages})";
        }

        if (TableWritePercent is < 0 or > 100)
        {
            return $"the table-write share is a percentage (got {TableWritePercent})";
        }

        if (RaceWindowOneIn < 0)
        {
            return $"the race-window rate cannot be negative (got {RaceWindowOneIn})";
        }

        if (AuditIntervalSeconds is double interval && (!(interval > 0) || double.IsInfinity(interval)))
        {
            return $"the audit interval must be more than 0 seconds (got {interval})";
        }

        if (OperationsPerInvalidation < 1)
        {
            return $"guest operations per host invalidation must be at least 1 (got {OperationsPerInvalidation})";
        }

        if (!Enum.IsDefined(Workload))
        {
            return $"unknown workload {Workload}";
        }

        if (!Enum.IsDefined(Recheck))
        {
            return $"unknown re-check order {Recheck}";
        }

        if (Modes != null)
        {
            foreach (string name in Modes)
            {
                if (Find(name) == null)
                {
                    return UnknownMode(name);
                }
            }
        }

        return null;
    }

    private static PagingModeInfo? Find(string name)
    {
        foreach (PagingModeInfo mode in PagingModes.All)
        {
            if (mode.Name == name)
            {
                return mode;
            }
        }

        return null;
    }

    private static string UnknownMode(string name)
    {
        var names = new List<string>();
        foreach (PagingModeInfo mode in PagingModes.All)
        {
            names.Add(mode.Name);
        }

        return $"no paging mode is named '{name}' (modes: {string.Join(", ", names)})";
    }
}

/// <summary>Facts about <see cref="SimulationWorkload"/>.</summary>
public static class SimulationWorkloadFacts
{
    /// <summary>True for the fault loops of issue 18 (<see cref="SimulationWorkload.Disjoint"/>, <see cref="SimulationWorkload.SharedTables"/>): vCPU threads alone, dealt among VMs.</summary>
    public static bool IsFaultLoop(this SimulationWorkload workload) => workload is SimulationWorkload.Disjoint or SimulationWorkload.SharedTables;
}
