using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// A multi-threaded guest workload over the shadow MMU, one paging mode at a time: vCPU threads make seeded random
/// reads, writes and fetches at CPL 0 and 3 over a working set of a few thousand pages (and some large pages), while
/// guest writer threads rewrite page-table entries at every level (remap, toggle rights and present, clear A/D, point
/// entries at other tables, switch between a table and a large page), issue INVLPG, switch CR3 between two address
/// spaces and, rarely, zap every shadow page. Once every thread has stopped, the VM is audited: every shadow entry
/// must agree with the guest tables as they are then.
/// </summary>
/// <remarks>
/// Each thread draws its operations from its own <see cref="Random"/>, seeded from the run's seed, the mode's name and
/// the thread's number, so a seed fixes every thread's stream of operations (how the threads interleave is up to the
/// scheduler). Thread loops allocate nothing per operation.
/// </remarks>
public static class Simulation
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Runs the workload in every mode of <paramref name="options"/>, one after the other.</summary>
    /// <param name="options">What to run.</param>
    /// <param name="progress">Told a few times a second how far the current mode is, and once more when it is done.</param>
    /// <param name="cancellationToken">Stops the threads; the run then throws <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ArgumentException">The options are invalid (<see cref="SimulationOptions.Validate"/>).</exception>
    /// <exception cref="SimulationFailedException">A thread failed (an exception from the MMU).</exception>
    public static SimulationReport Run(SimulationOptions options, IProgress<SimulationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        string? invalid = options.Validate();
        if (invalid != null)
        {
            throw new ArgumentException(invalid, nameof(options));
        }

        IReadOnlyList<PagingModeInfo> modes = options.ResolveModes();
        var names = new List<string>(modes.Count);
        foreach (PagingModeInfo mode in modes)
        {
            names.Add(mode.Name);
        }

        SimulationOptions resolved = options.Operations == null
            ? options with { Modes = names, Seconds = options.Seconds ?? SimulationOptions.DefaultSeconds }
            : options with { Modes = names };
        if (resolved.Workload.IsFaultLoop())
        {
            // Its vCPUs alone: no host thread, and no mid-run audit pausing the threads it measures.
            resolved = resolved with { Writers = 0, HostInvalidations = false, AuditIntervalSeconds = null };
        }

        TimeSpan? perMode = resolved.Operations == null ? TimeSpan.FromSeconds(resolved.Seconds!.Value / modes.Count) : null;
        var reports = new List<SimulationModeReport>(modes.Count);
        for (int i = 0; i < modes.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            reports.Add(resolved.Workload.IsFaultLoop()
                ? DisjointWorkload.RunMode(modes[i], resolved, perMode, i, modes.Count, progress, cancellationToken)
                : RunMode(modes[i], resolved, perMode, i, modes.Count, progress, cancellationToken));
        }

        return new SimulationReport(resolved, reports);
    }

    /// <summary>The seed of thread <paramref name="thread"/> in <paramref name="mode"/> for run seed <paramref name="seed"/> (stable across processes and versions).</summary>
    public static int ThreadSeed(int seed, string mode, int thread)
    {
        // FNV-1a of the mode's name, then SplitMix64 finalisation: string.GetHashCode is randomised per process.
        ulong hash = 14695981039346656037UL;
        foreach (char c in mode)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        ulong z = hash + ((ulong)(uint)seed * 0x9E3779B97F4A7C15UL) + ((ulong)(thread + 1) * 0xBF58476D1CE4E5B9UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFF_FFFF);
    }

    private static SimulationModeReport RunMode(
        PagingModeInfo mode,
        SimulationOptions options,
        TimeSpan? duration,
        int modeIndex,
        int modeCount,
        IProgress<SimulationProgress>? progress,
        CancellationToken cancellationToken)
    {
        using WorkloadGuest guest = WorkloadGuest.Build(mode);
        WorkloadPreemption? races = options.RaceWindowOneIn > 0 && options.Writers > 0 ? new WorkloadPreemption(options.RaceWindowOneIn) : null;
        var vm = new Vm(guest.Memory, options.MaxShadowPages)
        {
            RecheckOrder = options.Recheck,
            FetchHooks = races,
            UnsyncEnabled = options.Unsync,
            SequenceCheck = options.SequenceCheck,
        };
        int threadCount = options.Vcpus + options.Writers;
        var run = new WorkloadRun(threadCount);
        var workers = new WorkloadThread[threadCount];
        long? target = options.Operations;
        for (int i = 0; i < threadCount; i++)
        {
            // Threads alternate between the two address spaces at the start; writers come after the vCPUs.
            bool writer = i >= options.Vcpus;
            Vcpu vcpu = vm.AddVcpu(i % 2 == 0 ? guest.StateA : guest.StateB);
            long budget = target is long total ? (total / threadCount) + (i < total % threadCount ? 1 : 0) : long.MaxValue;
            workers[i] = new WorkloadThread(guest, vm, vcpu, writer, ThreadSeed(options.Seed, mode.Name, i), run, i, budget, options.TableWritePercent, races: races)
            {
                Fork = options.Workload == SimulationWorkload.Fork,
            };
        }

        var threads = new Thread[threadCount];
        for (int i = 0; i < threadCount; i++)
        {
            threads[i] = new Thread(workers[i].Main)
            {
                IsBackground = true,
                Name = $"{mode.Name} {(workers[i].IsWriter ? "writer" : "vcpu")} {i}",
            };
        }

        WorkloadHost? host = options.HostInvalidations
            ? new WorkloadHost(vm, run, options.OperationsPerInvalidation, ThreadSeed(options.Seed, mode.Name, threadCount))
            : null;
        var hostThread = host == null ? null : new Thread(host.Main) { IsBackground = true, Name = $"{mode.Name} host" };
        var clock = Stopwatch.StartNew();
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        hostThread?.Start();

        bool canceled = false;
        TimeSpan? auditEvery = options.AuditIntervalSeconds is double seconds ? TimeSpan.FromSeconds(seconds) : null;
        TimeSpan nextAudit = auditEvery ?? TimeSpan.MaxValue;
        TimeSpan paused = TimeSpan.Zero;
        int midRunAudits = 0;
        long midRunStaleCount = 0;
        var midRunStale = new List<StaleEntry>();
        var seenStale = new HashSet<string>();
        TimeSpan wait = auditEvery is TimeSpan every && every < ProgressInterval ? every : ProgressInterval;
        while (!run.AllFinished.Wait(wait))
        {
            TimeSpan elapsed = clock.Elapsed - paused;
            if (!run.StopRequested && ((duration is TimeSpan limit && elapsed >= limit) || cancellationToken.IsCancellationRequested))
            {
                canceled = cancellationToken.IsCancellationRequested;
                run.RequestStop();
            }
            else if (!run.StopRequested && elapsed >= nextAudit)
            {
                TimeSpan pauseStart = clock.Elapsed;
                run.PauseAll();
                AuditResult checkpoint = vm.Audit();
                run.ResumeAll();
                paused += clock.Elapsed - pauseStart;
                midRunAudits++;
                midRunStaleCount += checkpoint.Stale.Count;
                foreach (StaleEntry stale in checkpoint.Stale)
                {
                    if (midRunStale.Count < SimulationModeReport.MaxListedStale && seenStale.Add(stale.ToString()))
                    {
                        midRunStale.Add(stale);
                    }
                }

                nextAudit = elapsed + auditEvery!.Value;
            }

            progress?.Report(new SimulationProgress(mode.Name, modeIndex, modeCount, run.Total(), target, elapsed, duration, vm.Stats.Faults, false));
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        host?.Stop();
        hostThread?.Join();
        TimeSpan ran = clock.Elapsed - paused;
        run.AllFinished.Dispose();
        var failures = new List<Exception>();
        foreach (WorkloadThread worker in workers)
        {
            if (worker.Failure != null)
            {
                failures.Add(worker.Failure);
            }
        }

        if (host?.Failure != null)
        {
            failures.Add(host.Failure);
        }

        if (failures.Count > 0)
        {
            throw new SimulationFailedException(mode.Name, failures);
        }

        if (canceled)
        {
            throw new OperationCanceledException(cancellationToken);
        }

        progress?.Report(new SimulationProgress(mode.Name, modeIndex, modeCount, run.Total(), target, ran, duration, vm.Stats.Faults, true));
        ShadowStatsSnapshot stats = ShadowStatsSnapshot.Of(vm.Stats);
        AuditResult audit = vm.Audit();
        return new SimulationModeReport(mode.Name, ran, stats, vm.ActiveShadowPages, Count(workers, races), audit, midRunAudits, midRunStale, midRunStaleCount);
    }

    private static WorkloadCounts Count(WorkloadThread[] workers, WorkloadPreemption? races)
    {
        long operations = 0, vcpuOperations = 0, writerOperations = 0, reads = 0, writes = 0, fetches = 0, direct = 0, large = 0, misaligned = 0, cr3 = 0, zapAlls = 0;
        var byLevel = new long[6];
        foreach (WorkloadThread worker in workers)
        {
            operations += worker.Operations;
            if (worker.IsWriter)
            {
                writerOperations += worker.Operations;
            }
            else
            {
                vcpuOperations += worker.Operations;
            }

            reads += worker.Reads;
            writes += worker.Writes;
            fetches += worker.Fetches;
            direct += worker.DirectMapWrites;
            large += worker.LargePageSwitches;
            misaligned += worker.MisalignedWrites;
            cr3 += worker.Cr3Switches;
            zapAlls += worker.ZapAlls;
            for (int level = 0; level < byLevel.Length; level++)
            {
                byLevel[level] += worker.TableWrites[level];
            }
        }

        return new WorkloadCounts(operations, vcpuOperations, writerOperations, reads, writes, fetches, byLevel, direct, large, misaligned, cr3, zapAlls)
        {
            RaceWindows = races?.Windows ?? 0,
            RaceWindowWrites = races?.Claims ?? 0,
        };
    }
}

/// <summary>A workload thread failed: the MMU threw (a liveness or consistency failure of the model).</summary>
public sealed class SimulationFailedException : Exception
{
    /// <summary>Creates the exception for <paramref name="mode"/> with every thread's failure.</summary>
    public SimulationFailedException(string mode, IReadOnlyList<Exception> failures)
        : base($"{mode}: {failures.Count} workload thread(s) failed; the first: {failures[0].GetType().Name}: {failures[0].Message}", failures[0])
    {
        Mode = mode;
        Failures = failures;
    }

    /// <summary>The mode that was running.</summary>
    public string Mode { get; }

    /// <summary>Each failed thread's exception.</summary>
    public IReadOnlyList<Exception> Failures { get; }
}
