using System;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// The host under the workload: while the guest's threads run it moves guest frames to other host frames (page
/// migration, compaction) and now and then takes one away (reclaim), each change one invalidation of one to four frames
/// in KVM's two steps (<see cref="Vm.MoveGuestFrames"/>, <see cref="Vm.ReclaimGuestFrames"/>), paced to one per so many
/// guest operations. Frames anywhere in guest memory: data pages and page tables alike.
/// </summary>
internal sealed class WorkloadHost
{
    private readonly Vm _vm;
    private readonly WorkloadRun _run;
    private readonly int _operationsPerInvalidation;
    private readonly Random _random;
    private int _stop;

    public WorkloadHost(Vm vm, WorkloadRun run, int operationsPerInvalidation, int seed)
    {
        _vm = vm;
        _run = run;
        _operationsPerInvalidation = operationsPerInvalidation;
        _random = new Random(seed);
    }

    /// <summary>Invalidations made.</summary>
    public long Invalidations { get; private set; }

    /// <summary>What stopped the thread, if anything did.</summary>
    public Exception? Failure { get; private set; }

    public void Stop() => Volatile.Write(ref _stop, 1);

    public void Main()
    {
        try
        {
            ulong frames = WorkloadGuest.MemorySize >> 12;
            while (Volatile.Read(ref _stop) == 0 && !_run.StopRequested)
            {
                if (_run.Total() / _operationsPerInvalidation <= Invalidations)
                {
                    Thread.Yield();
                    continue;
                }

                ulong gfn = (ulong)_random.NextInt64((long)frames);
                ulong count = 1 + (ulong)_random.Next(4);
                if (_random.Next(8) == 0)
                {
                    _vm.ReclaimGuestFrames(gfn, count);
                }
                else
                {
                    _vm.MoveGuestFrames(gfn, count);
                }

                Invalidations++;
            }
        }
        catch (Exception e)
        {
            Failure = e;
            _run.RequestStop();
        }
    }
}
