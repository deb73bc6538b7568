using System;
using System.Threading;
using BenchmarkDotNet.Attributes;

namespace ShadowMmu.Benchmarks.Shadow;

/// <summary>
/// Two vCPUs faulting at once (INVLPG and refault, 1,024 faults each an invocation, on 32 pages of their own), the
/// second on a worker thread: the shape of issue 18's measures, each subclass saying where the two vCPUs run.
/// </summary>
[MemoryDiagnoser]
public abstract class TwoVcpuFaultBenchmarks
{
    private Vcpu _first = null!;
    private Vm[] _vms = null!;
    private VcpuWorker? _worker;

    /// <summary>The paging mode.</summary>
    [Params("legacy32", "pae", "long4", "long5", "ept4", "ept5")]
    public string Mode { get; set; } = "long4";

    [GlobalSetup]
    public void Setup()
    {
        (Vcpu first, Vcpu second) = MakeVcpus(Mode);
        _first = first;
        _vms = first.Vm == second.Vm ? new[] { first.Vm } : new[] { first.Vm, second.Vm };
        _worker = new VcpuWorker(second, ShadowRig.Base);
        for (int i = 0; i < 16; i++)
        {
            Faults();
        }

        if (!Array.TrueForAll(_vms, vm => vm.Audit().Clean))
        {
            throw new InvalidOperationException("The shadow MMU's audit failed after the vCPUs faulted.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _worker?.Dispose();
        _worker = null;
    }

    /// <summary>One operation is one fault of each vCPU at once (the time of two faults in parallel; the report halves it).</summary>
    [Benchmark(OperationsPerInvoke = FaultThroughputBenchmarks.FaultsPerVcpu)]
    public void Faults()
    {
        _worker!.Start(FaultThroughputBenchmarks.FaultsPerVcpu);
        VcpuWorker.Faults(_first, ShadowRig.Base, FaultThroughputBenchmarks.FaultsPerVcpu);
        _worker.Wait();
    }

    /// <summary>The two vCPUs, each faulting from <see cref="ShadowRig.Base"/> in its own address space.</summary>
    protected abstract (Vcpu First, Vcpu Second) MakeVcpus(string mode);
}

/// <summary>
/// Issue 18's control: two independent VMs of one vCPU each, faulting side by side (as <see cref="FaultThroughputBenchmarks"/>
/// does with two vCPUs of one VM). They share nothing but the machine: what two cores can do in parallel, against which
/// the two vCPUs of one VM are judged.
/// </summary>
public class ControlFaultThroughputBenchmarks : TwoVcpuFaultBenchmarks
{
    /// <inheritdoc/>
    protected override (Vcpu First, Vcpu Second) MakeVcpus(string mode) =>
        (new ShadowRig(mode, 1).Vcpus[0], new ShadowRig(mode, 1).Vcpus[0]);
}

/// <summary>
/// Issue 18's subject on disjoint pages: two vCPUs of one VM, each in its own address space (its own guest tables, so
/// its own shadow pages), faulting at once as <see cref="ControlFaultThroughputBenchmarks"/>' two VMs do. They share
/// the VM: its mmu_lock (on the shared side, each vCPU its own reader), pools and counters. The shared-tables case, both
/// vCPUs through the same shadow pages, is <see cref="FaultThroughputBenchmarks"/> with two vCPUs.
/// </summary>
public class DisjointFaultThroughputBenchmarks : TwoVcpuFaultBenchmarks
{
    /// <inheritdoc/>
    protected override (Vcpu First, Vcpu Second) MakeVcpus(string mode)
    {
        var rig = new ShadowRig(mode, 2, ownAddressSpaces: true);
        if (rig.Vcpus[0].RootFor(ShadowRig.Base) == rig.Vcpus[1].RootFor(ShadowRig.Base))
        {
            throw new InvalidOperationException("The two vCPUs share their shadow root.");
        }

        return (rig.Vcpus[0], rig.Vcpus[1]);
    }
}

/// <summary>
/// The mmu_lock's cost alone, taken and released with nothing inside: the spin lock of today, and the two sides of
/// <see cref="MmuRwLock"/> (issue 18), on one thread and on two threads at once (each its own reader).
/// </summary>
[MemoryDiagnoser]
public class MmuLockBenchmarks
{
    /// <summary>Holds per thread per invocation.</summary>
    public const int Ops = 1024;

    private readonly MmuSpinLock _spin = new();
    private readonly MmuRwLock _rw = new();
    private int _reader0, _reader1;
    private LockWorker? _worker;

    /// <summary>Threads taking the lock at once (the machine has 2 cores).</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _reader0 = _rw.AddReader();
        _reader1 = _rw.AddReader();
        if (Threads == 2)
        {
            _worker = new LockWorker(this);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _worker?.Dispose();
        _worker = null;
    }

    /// <summary>MmuSpinLock: one word every holder writes.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SpinLock()
    {
        _worker?.Start(LockKind.Spin);
        SpinHolds(_spin);
        _worker?.Wait();
    }

    /// <summary>MmuRwLock's shared side: each thread writes only its own indicator.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void Shared()
    {
        _worker?.Start(LockKind.Shared);
        SharedHolds(_rw, _reader0);
        _worker?.Wait();
    }

    /// <summary>MmuRwLock's exclusive side (two readers registered, neither inside: the writer reads both indicators).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void Exclusive()
    {
        _worker?.Start(LockKind.Exclusive);
        ExclusiveHolds(_rw);
        _worker?.Wait();
    }

    private static void SpinHolds(MmuSpinLock mmuLock)
    {
        for (int i = 0; i < Ops; i++)
        {
            using (mmuLock.Enter())
            {
            }
        }
    }

    private static void SharedHolds(MmuRwLock rw, int reader)
    {
        for (int i = 0; i < Ops; i++)
        {
            using (rw.EnterShared(reader))
            {
            }
        }
    }

    private static void ExclusiveHolds(MmuRwLock rw)
    {
        for (int i = 0; i < Ops; i++)
        {
            using (rw.Enter())
            {
            }
        }
    }

    private enum LockKind
    {
        Spin,
        Shared,
        Exclusive,
    }

    // The second thread: runs the same batch of holds (as reader 1 on the shared side) when started.
    private sealed class LockWorker : IDisposable
    {
        private readonly BatchWorker _worker;
        private LockKind _kind;

        public LockWorker(MmuLockBenchmarks owner) =>
            _worker = new BatchWorker("lock worker", () =>
            {
                switch (_kind)
                {
                    case LockKind.Spin: SpinHolds(owner._spin); break;
                    case LockKind.Shared: SharedHolds(owner._rw, owner._reader1); break;
                    default: ExclusiveHolds(owner._rw); break;
                }
            });

        public void Start(LockKind kind)
        {
            _kind = kind;
            _worker.Start();
        }

        public void Wait() => _worker.Wait();

        public void Dispose() => _worker.Dispose();
    }
}
