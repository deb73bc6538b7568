using System;
using BenchmarkDotNet.Attributes;

namespace ShadowMmu.Benchmarks.Shadow;

/// <summary>
/// The shadow MMU's fault path per mode, in a steady state (every shadow page already made): the guest walk alone,
/// Fetch alone, Fetch with a prefetch of seven neighbours, the whole fault handler (walk, fetch, prefetch, the
/// mmu_lock), a vCPU's INVLPG and refault, and a trapped guest PTE write. One operation is one of each.
/// </summary>
[MemoryDiagnoser]
public class FaultBenchmarks
{
    /// <summary>Operations per invocation.</summary>
    public const int Ops = 1024;

    private ShadowRig _rig = null!;
    private Vcpu _vcpu = null!;
    private ShadowPage _leafPage = null!;
    private GuestWalk _walk;
    private uint _leafAccess;
    private ulong _pfn;
    private int _faultIndex;
    private int _mode;
    private Legacy32Ops _legacy32;
    private PaeOps _pae;
    private Long4Ops _long4;
    private Long5Ops _long5;
    private Ept4Ops _ept4;
    private Ept5Ops _ept5;

    /// <summary>The paging mode.</summary>
    [Params("legacy32", "pae", "long4", "long5", "ept4", "ept5")]
    public string Mode { get; set; } = "long4";

    [GlobalSetup]
    public void Setup()
    {
        _rig = new ShadowRig(Mode, 1);
        _vcpu = _rig.Vcpus[0];
        switch (_vcpu.Walker)
        {
            case Legacy32Walker w: _legacy32.W = w; _mode = 0; break;
            case PaeWalker w: _pae.W = w; _mode = 1; break;
            case Long4Walker w: _long4.W = w; _mode = 2; break;
            case Long5Walker w: _long5.W = w; _mode = 3; break;
            case Ept4Walker w: _ept4.W = w; _mode = 4; break;
            case Ept5Walker w: _ept5.W = w; _mode = 5; break;
        }

        _walk = default;
        if (!_vcpu.Walker.WalkAddr(ref _walk, _rig.FaultVa, AccessKind.Read, 3, false))
        {
            throw new InvalidOperationException($"The fault address does not translate: {_walk}.");
        }

        _leafAccess = ShadowRig.LeafAccess(in _walk, _rig.Cpu, write: false, cpl: 3);
        _pfn = _rig.Vm.Host.Resolve(_walk.Gfn);
        _leafPage = _rig.LeafShadowPage(_vcpu, _rig.FaultVa);
        _faultIndex = Vcpu.ShadowIndex(_rig.FaultVa, 1);

        // Each benchmark body once, so that a broken path fails here rather than measuring nonsense.
        Walk();
        Fetch();
        FetchAndPrefetch7();
        Fault();
        InvlpgAndAccess();
        TrappedPteWrite();
        TrappedPteWriteAndRefault();
        if (!_rig.Vm.Audit().Clean)
        {
            throw new InvalidOperationException("The shadow MMU's audit failed after the benchmark bodies ran.");
        }
    }

    /// <summary>The guest walk of the fault address (generated, sealed type).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public bool Walk() => _mode switch
    {
        0 => Walks(ref _legacy32),
        1 => Walks(ref _pae),
        2 => Walks(ref _long4),
        3 => Walks(ref _long5),
        4 => Walks(ref _ept4),
        _ => Walks(ref _ept5),
    };

    /// <summary>
    /// The generated Fetch, the mmu_lock held (taken once for the batch): the shadow pages along the walk found and the
    /// guest entries re-checked, the leaf installed (replacing itself), the prefetch finding its seven neighbours mapped.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int Fetch() => _mode switch
    {
        0 => Fetches(ref _legacy32, prefetch: false),
        1 => Fetches(ref _pae, prefetch: false),
        2 => Fetches(ref _long4, prefetch: false),
        3 => Fetches(ref _long5, prefetch: false),
        4 => Fetches(ref _ept4, prefetch: false),
        _ => Fetches(ref _ept5, prefetch: false),
    };

    /// <summary>
    /// Fetch with prefetch work: before each Fetch the seven neighbours' shadow leaves are dropped (Vm.DropSpte, as a
    /// zap would), and Fetch's prefetch maps all seven again from the group it read. Prefetch = this minus Fetch.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int FetchAndPrefetch7() => _mode switch
    {
        0 => Fetches(ref _legacy32, prefetch: true),
        1 => Fetches(ref _pae, prefetch: true),
        2 => Fetches(ref _long4, prefetch: true),
        3 => Fetches(ref _long5, prefetch: true),
        4 => Fetches(ref _ept4, prefetch: true),
        _ => Fetches(ref _ept5, prefetch: true),
    };

    /// <summary>
    /// The whole fault handler, Vcpu.HandleFault itself: the counters, the guest walk without the lock (through the
    /// walker's interface, as a vCPU holds it), the leaf rights, the page cache topped up, then under the mmu_lock making
    /// room and the generated Fetch (with prefetch).
    /// </summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int Fault() => Faults();

    /// <summary>What a vCPU sees: INVLPG (under the lock), then the access misses the shadow tables, faults (the handler above) and retries.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void InvlpgAndAccess()
    {
        Vcpu vcpu = _vcpu;
        ulong va = _rig.FaultVa;
        for (int i = 0; i < Ops; i++)
        {
            ShadowRig.InvlpgAndFault(vcpu, va);
        }
    }

    /// <summary>A guest write to a shadowed PTE (the same value again): trapped, the mmu_lock taken, the shadow entry it produced zapped.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void TrappedPteWrite()
    {
        Vm vm = _rig.Vm;
        ulong gpa = _rig.LeafGpa, value = _rig.LeafValue;
        int bytes = _rig.Mode.EntryBytes;
        for (int i = 0; i < Ops; i++)
        {
            vm.GuestWrite(gpa, value, bytes);
        }
    }

    /// <summary>The trapped PTE write, then the access that faults the zapped entry back in.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void TrappedPteWriteAndRefault()
    {
        Vm vm = _rig.Vm;
        Vcpu vcpu = _vcpu;
        ulong gpa = _rig.LeafGpa, value = _rig.LeafValue, va = _rig.FaultVa;
        int bytes = _rig.Mode.EntryBytes;
        for (int i = 0; i < Ops; i++)
        {
            vm.GuestWrite(gpa, value, bytes);
            vcpu.Access(va, AccessKind.Read, 3);
        }
    }

    /// <summary>The uncontended mmu_lock alone (enter and exit): part of every fault and trapped write.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void MmuLock()
    {
        var mmuLock = _rig.Vm.MmuLock;
        for (int i = 0; i < Ops; i++)
        {
            using (mmuLock.Enter())
            {
            }
        }
    }

    private bool Walks<T>(ref T ops)
        where T : struct, IModeOps
    {
        T local = ops;
        var walk = default(GuestWalk);
        ulong va = _rig.FaultVa;
        bool ok = true;
        for (int i = 0; i < Ops; i++)
        {
            ok &= local.Walk(ref walk, va, AccessKind.Read, 3, false);
        }

        return ok;
    }

    private int Fetches<T>(ref T ops, bool prefetch)
        where T : struct, IModeOps
    {
        T local = ops;
        Vm vm = _rig.Vm;
        Vcpu vcpu = _vcpu;
        ShadowPage leafPage = _leafPage;
        int first = _faultIndex & ~7;
        uint leafAccess = _leafAccess;
        int mapped = 0;
        using (vm.MmuLock.Enter())
        {
            for (int i = 0; i < Ops; i++)
            {
                if (prefetch)
                {
                    for (int n = first; n < first + 8; n++)
                    {
                        if (n != _faultIndex)
                        {
                            vm.DropSpte(leafPage, n);
                        }
                    }
                }

                mapped += local.Fetch(vcpu, ref _walk, leafAccess, _pfn, RecheckOrder.Fixed, null) == FetchOutcome.Mapped ? 1 : 0;
            }
        }

        return Expect(mapped);
    }

    private int Faults()
    {
        Vcpu vcpu = _vcpu;
        ulong va = _rig.FaultVa;
        long recheckFailures = _rig.Vm.Stats.RecheckFailures;
        var walk = default(GuestWalk);
        int retries = 0;
        for (int i = 0; i < Ops; i++)
        {
            retries += vcpu.HandleFault(ref walk, va, AccessKind.Read, 3, false) == Vcpu.FaultOutcome.Retry ? 1 : 0;
        }

        // Every fault walked, fetched and mapped: none was injected or emulated, no re-check failed.
        return Expect(_rig.Vm.Stats.RecheckFailures == recheckFailures ? retries : 0);
    }

    private static int Expect(int mapped) =>
        mapped == Ops ? mapped : throw new InvalidOperationException($"Fetch mapped {mapped} of {Ops}: a re-check failed in a steady state.");
}

/// <summary>Faults per second with one and two vCPUs on the same VM (INVLPG and refault, as in the tests' steady state).</summary>
[MemoryDiagnoser]
public class FaultThroughputBenchmarks
{
    /// <summary>Faults per vCPU per invocation.</summary>
    public const int FaultsPerVcpu = 1024;

    private ShadowRig _rig = null!;
    private VcpuWorker? _worker;

    /// <summary>The paging mode.</summary>
    [Params("legacy32", "pae", "long4", "long5", "ept4", "ept5")]
    public string Mode { get; set; } = "long4";

    /// <summary>vCPUs faulting at once (the machine has 2 cores).</summary>
    [Params(1, 2)]
    public int Vcpus { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _rig = new ShadowRig(Mode, Vcpus);
        if (Vcpus == 2)
        {
            _worker = new VcpuWorker(_rig.Vcpus[1], ShadowRig.Base + (32UL << 12));
        }

        // A few rounds with every vCPU faulting at once, then the audit (here rather than in the cleanup: the audit
        // allocates, and in process those bytes would be counted against the next benchmark).
        for (int i = 0; i < 16; i++)
        {
            Faults();
        }

        if (!_rig.Vm.Audit().Clean)
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

    /// <summary>One operation is one fault; faults per second = 1e9 / the time per operation.</summary>
    [Benchmark(OperationsPerInvoke = FaultsPerVcpu)]
    public void Faults()
    {
        // Per operation, each vCPU takes one fault; the operation count below is per vCPU, so the time per
        // operation is the time of Vcpus faults in parallel. The report divides it by Vcpus.
        _worker?.Start(FaultsPerVcpu);
        VcpuWorker.Faults(_rig.Vcpus[0], ShadowRig.Base, FaultsPerVcpu);
        _worker?.Wait();
    }
}
