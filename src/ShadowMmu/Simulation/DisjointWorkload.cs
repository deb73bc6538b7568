using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// The disjoint workload (<see cref="SimulationWorkload.Disjoint"/>, issue 18): each vCPU thread faults and re-faults
/// on its own pages, INVLPG then the access, as the fault benchmark does, in its own guest address space (its own CR3,
/// so its own guest tables and its own shadow pages), and the vCPUs are dealt among <see cref="SimulationOptions.Vms"/>
/// independent VMs side by side. With one VM the vCPUs share only the VM (its mmu_lock, counters, pools); with one VM
/// per vCPU they share nothing but the machine: that is the control against which a shadow MMU's fault parallelism is
/// judged. No writers, no host thread: the shadow tables stay in a steady state, and every operation is one fault.
/// </summary>
/// <remarks>
/// The shared-tables workload (<see cref="SimulationWorkload.SharedTables"/>) gives the vCPUs of a VM one address
/// space instead, each on 64 pages of its own (one page table holds them all up to 8 vCPUs): they fault through the
/// same shadow pages.
/// </remarks>
internal static class DisjointWorkload
{
    /// <summary>Pages each vCPU faults on, round and round: eight prefetch groups of one page table.</summary>
    public const int PagesPerVcpu = 64;

    private const ulong PagesVa = 0x40_0000;         // the linear address of every vCPU's first page
    private const ulong TablesPerVcpu = 0x1_0000;    // 16 table pages per address space (5 levels need 5)
    private const ulong TablesBase = 0x1000;

    /// <summary>Runs the workload in <paramref name="mode"/>, as <see cref="Simulation"/> runs the others.</summary>
    public static SimulationModeReport RunMode(
        PagingModeInfo mode,
        SimulationOptions options,
        TimeSpan? duration,
        int modeIndex,
        int modeCount,
        IProgress<SimulationProgress>? progress,
        CancellationToken cancellationToken)
    {
        int vmCount = options.Vms;
        var memories = new List<GuestMemory>(vmCount);
        try
        {
            var vms = new Vm[vmCount];
            for (int v = 0; v < vmCount; v++)
            {
                int vcpusHere = VcpusOf(v, vmCount, options.Vcpus);
                GuestMemory memory = GuestMemory.Allocate(DataBase(vcpusHere) + ((ulong)vcpusHere * PagesPerVcpu << 12));
                memories.Add(memory);
                vms[v] = new Vm(memory, options.MaxShadowPages)
                {
                    RecheckOrder = options.Recheck,
                    UnsyncEnabled = options.Unsync,
                    SequenceCheck = options.SequenceCheck,
                };
            }

            var run = new WorkloadRun(options.Vcpus);
            var workers = new Worker[options.Vcpus];
            var flags = GuestEntryFlags.For(mode);
            bool sharedTables = options.Workload == SimulationWorkload.SharedTables;
            var builders = new PageTableBuilder?[vmCount];
            for (int i = 0; i < options.Vcpus; i++)
            {
                // vCPU i runs in VM i % M, as its k-th vCPU there, on its own data frames in that VM's memory: in its own
                // address space (disjoint), or in the VM's one address space at its own linear pages (shared tables).
                int v = i % vmCount, k = i / vmCount;
                Vm vm = vms[v];
                ulong tables = TablesBase + ((ulong)(sharedTables ? 0 : k) * TablesPerVcpu);
                ulong dataBase = DataBase(VcpusOf(v, vmCount, options.Vcpus));
                ulong firstVa = PagesVa + (sharedTables ? (ulong)(k * PagesPerVcpu) << 12 : 0);
                PageTableBuilder builder = sharedTables && builders[v] is PageTableBuilder made
                    ? made
                    : new PageTableBuilder(vm.Memory, mode, tables, tables + TablesPerVcpu);
                builders[v] = builder;
                for (int p = 0; p < PagesPerVcpu; p++)
                {
                    ulong frame = dataBase + ((ulong)((k * PagesPerVcpu) + p) << 12);
                    builder.Map(firstVa + ((ulong)p << 12), frame, 0x1000, flags.Leaf(writable: true, user: true, execute: true));
                }

                Vcpu vcpu = vm.AddVcpu(PagingModeFacts.Of(mode).SelectingState(builder.Root));
                long budget = options.Operations is long total ? (total / options.Vcpus) + (i < total % options.Vcpus ? 1 : 0) : long.MaxValue;
                workers[i] = new Worker(vcpu, run, i, budget, firstVa);
            }

            var threads = new Thread[workers.Length];
            for (int i = 0; i < threads.Length; i++)
            {
                threads[i] = new Thread(workers[i].Main) { IsBackground = true, Name = $"{mode.Name} disjoint vcpu {i}" };
            }

            var clock = Stopwatch.StartNew();
            foreach (Thread thread in threads)
            {
                thread.Start();
            }

            bool canceled = false;
            while (!run.AllFinished.Wait(TimeSpan.FromMilliseconds(100)))
            {
                if (!run.StopRequested && ((duration is TimeSpan limit && clock.Elapsed >= limit) || cancellationToken.IsCancellationRequested))
                {
                    canceled = cancellationToken.IsCancellationRequested;
                    run.RequestStop();
                }

                progress?.Report(new SimulationProgress(mode.Name, modeIndex, modeCount, run.Total(), options.Operations, clock.Elapsed, duration, Faults(vms), false));
            }

            foreach (Thread thread in threads)
            {
                thread.Join();
            }

            TimeSpan ran = clock.Elapsed;
            run.AllFinished.Dispose();
            var failures = new List<Exception>();
            foreach (Worker worker in workers)
            {
                if (worker.Failure != null)
                {
                    failures.Add(worker.Failure);
                }
            }

            if (failures.Count > 0)
            {
                throw new SimulationFailedException(mode.Name, failures);
            }

            if (canceled)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            progress?.Report(new SimulationProgress(mode.Name, modeIndex, modeCount, run.Total(), options.Operations, ran, duration, Faults(vms), true));
            return Report(mode, ran, vms, workers);
        }
        finally
        {
            foreach (GuestMemory memory in memories)
            {
                memory.Dispose();
            }
        }
    }

    /// <summary>How many of <paramref name="vcpus"/> vCPUs, dealt round-robin, VM <paramref name="vm"/> of <paramref name="vms"/> gets.</summary>
    internal static int VcpusOf(int vm, int vms, int vcpus) => (vcpus / vms) + (vm < vcpus % vms ? 1 : 0);

    // Data frames start at the first 2 MiB boundary past the VM's page tables.
    private static ulong DataBase(int vcpusInVm) => (TablesBase + ((ulong)vcpusInVm * TablesPerVcpu) + 0x1F_FFFF) & ~0x1F_FFFFUL;

    private static long Faults(Vm[] vms)
    {
        long faults = 0;
        foreach (Vm vm in vms)
        {
            faults += vm.Stats.Faults;
        }

        return faults;
    }

    // Every VM's counters and audit together: the run's figures are the machine's, all VMs side by side.
    private static SimulationModeReport Report(PagingModeInfo mode, TimeSpan ran, Vm[] vms, Worker[] workers)
    {
        ShadowStatsSnapshot stats = default;
        int shadowPages = 0, pagesChecked = 0;
        long entriesChecked = 0, pending = 0;
        var stale = new List<StaleEntry>();
        foreach (Vm vm in vms)
        {
            stats = stats.Plus(ShadowStatsSnapshot.Of(vm.Stats));
            shadowPages += vm.ActiveShadowPages;
            AuditResult audit = vm.Audit();
            pagesChecked += audit.PagesChecked;
            entriesChecked += audit.EntriesChecked;
            pending += audit.Pending;
            stale.AddRange(audit.Stale);
        }

        long operations = 0;
        foreach (Worker worker in workers)
        {
            operations += worker.Operations;
        }

        var counts = new WorkloadCounts(operations, operations, 0, operations, 0, 0, new long[6], 0, 0, 0, 0, 0);
        var merged = new AuditResult(pagesChecked, entriesChecked, stale) { Pending = pending };
        return new SimulationModeReport(mode.Name, ran, stats, shadowPages, counts, merged, 0, Array.Empty<StaleEntry>(), 0);
    }

    /// <summary>One vCPU thread: INVLPG and a read of its next page, round and round; every read must translate.</summary>
    private sealed class Worker
    {
        private readonly Vcpu _vcpu;
        private readonly WorkloadRun _run;
        private readonly int _slot;
        private readonly long _budget;
        private readonly ulong _firstVa;

        public Worker(Vcpu vcpu, WorkloadRun run, int slot, long budget, ulong firstVa)
        {
            _vcpu = vcpu;
            _run = run;
            _slot = slot;
            _budget = budget;
            _firstVa = firstVa;
        }

        public long Operations;

        public Exception? Failure;

        public void Main()
        {
            try
            {
                while (Operations < _budget && !_run.StopRequested)
                {
                    ulong va = _firstVa + ((ulong)(Operations % PagesPerVcpu) << 12);
                    _vcpu.Invlpg(va);
                    AccessResult result = _vcpu.Access(va, AccessKind.Read, 3);
                    if (result.Outcome != AccessOutcome.Translated)
                    {
                        throw new InvalidOperationException($"vCPU {_vcpu.Id}: the read of its own page 0x{va:x} did not translate ({result}).");
                    }

                    Operations++;
                    if ((Operations & 255) == 0)
                    {
                        _run.Publish(_slot, Operations);
                    }
                }
            }
            catch (Exception e)
            {
                Failure = e;
                _run.RequestStop();
            }
            finally
            {
                _run.Publish(_slot, Operations);
                _run.Finished();
            }
        }
    }
}
