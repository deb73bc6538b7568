using System;
using System.Linq;
using BenchmarkDotNet.Attributes;
using ShadowMmu.Benchmarks.Walks;

namespace ShadowMmu.Benchmarks.Nested;

/// <summary>
/// The two-dimensional walk, the cost that users of nested paging weigh: a long4 guest's linear addresses through its
/// own tables and ept4 (4 KiB EPT pages, A/D on, all flags already set as in a warm guest), on a hot set of 64 pages.
/// Against it: the guest walk alone (the same tables, walked as if guest-physical were host-physical) and one EPT walk
/// alone; a 4-level guest under 4-level EPT makes 5 EPT walks and 4 guest reads per translation.
/// </summary>
[MemoryDiagnoser]
public class NestedPagingBenchmarks
{
    private const int Pages = 64;

    // Walks per invocation: the 64 pages 64 times, as many as the walk benchmarks make, so that the quick run's
    // in-process host (which allocates a little on another thread now and then) stays far below a byte per walk.
    private const int Ops = Pages * 64;
    private const ulong Offset = 0x100_0000;        // guest-physical X is at host-physical X + 16 MiB
    private const ulong VaBase = 0x7F00_0000_0000;

    private GuestMemory _host = null!;
    private GuestMemory _flat = null!;
    private Long4Walker _nested = null!;
    private Long4Walker _guestOnly = null!;
    private Ept4Walker _ept = null!;
    private ReferenceWalker _reference = null!;
    private ulong[] _vas = Array.Empty<ulong>();
    private ulong[] _gpas = Array.Empty<ulong>();
    private ulong _zero;

    /// <summary>Latency (each address depends on the previous result) or throughput.</summary>
    [Params(WalkDependency.Serialized, WalkDependency.Independent)]
    public WalkDependency Dependency { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        PagingModeInfo long4 = PagingModes.All.Single(m => m.Name == "long4");
        PagingModeInfo ept4 = PagingModes.All.Single(m => m.Name == "ept4");

        // The guest's tables and data in a guest-physical image, copied to their host-physical place.
        _flat = GuestMemory.Allocate(Offset);
        var guest = new PageTableBuilder(_flat, long4, 0x1000, 0x40_0000);
        _vas = new ulong[Pages];
        _gpas = new ulong[Pages];
        for (int i = 0; i < Pages; i++)
        {
            // Four clusters of 16 pages, as the walk benchmarks' hot set: entries spread over the cache sets.
            _vas[i] = VaBase + ((ulong)(i / 16) << 30) + ((ulong)(i % 16) * 0x5000) + 0x123;
            _gpas[i] = 0x80_0000 + ((ulong)i << 12);
            guest.Map(_vas[i] & ~0xFFFUL, _gpas[i], 0x1000, 0x7 | 0x60);
            _gpas[i] |= 0x123;
        }

        _host = GuestMemory.Allocate(2 * Offset);
        var bytes = new byte[Offset];
        _flat.Read(0, bytes);
        _host.Write(Offset, bytes);
        var ept = new PageTableBuilder(_host, ept4, 0x1000, 0x80_0000);
        for (ulong gpa = 0; gpa < Offset; gpa += 0x1000)
        {
            ept.Map(gpa, gpa + Offset, 0x1000, 0x37 | 0x300);
        }

        var cpu = new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, guest.Root, Cr4.PAE, Efer.LME | Efer.LMA | Efer.NXE);
        var eptCpu = new CpuState(0, 0, 0, 0, Eptp: EptPointer.Make(ept.Root, 4, accessedDirty: true));
        _ept = new Ept4Walker(_host, eptCpu);
        _nested = new Long4Walker(_host, cpu);
        _guestOnly = new Long4Walker(_flat, cpu);
        _reference = ReferenceWalker.Nested(_host, cpu, _ept);
        _zero = 0;

        // Same results, and warm A/D flags: every implementation translates every address to the same place.
        var nested = default(NestedWalk);
        var walk = default(GuestWalk);
        for (int i = 0; i < Pages; i++)
        {
            _nested.WalkNested(ref nested, _vas[i], AccessKind.Read, 3, false, _ept);
            ulong hpa = nested.HostPhysicalAddress;
            _reference.WalkNested(ref nested, _vas[i], AccessKind.Read, 3, false);
            bool agree = nested.HostPhysicalAddress == hpa && hpa == _gpas[i] + Offset
                && _guestOnly.WalkAddr(ref walk, _vas[i], AccessKind.Read, 3, false) && walk.PhysicalAddress == _gpas[i]
                && _ept.WalkGpa(ref walk, _gpas[i], AccessKind.Read, EptAccessFlags.Final) && walk.PhysicalAddress == hpa;
            if (!agree)
            {
                throw new InvalidOperationException($"The walks of 0x{_vas[i]:x} disagree.");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _host.Dispose();
        _flat.Dispose();
    }

    /// <summary>The generated two-dimensional walk (Long4Walker.WalkNested through Ept4Walker).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public ulong Nested()
    {
        var nested = default(NestedWalk);
        ulong hpa = 0, sum = 0;
        bool serialized = Dependency == WalkDependency.Serialized;
        for (int k = 0; k < Ops; k++)
        {
            int i = k & (Pages - 1);
            ulong va = serialized ? _vas[i] ^ (hpa & _zero) : _vas[i];
            _nested.WalkNested(ref nested, va, AccessKind.Read, 3, false, _ept);
            hpa = nested.HostPhysicalAddress;
            sum += hpa;
        }

        return sum;
    }

    /// <summary>The reference walker's two-dimensional walk (the guest's spec interpreted, the same generated EPT walker).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong NestedReference()
    {
        var nested = default(NestedWalk);
        ulong hpa = 0, sum = 0;
        bool serialized = Dependency == WalkDependency.Serialized;
        for (int k = 0; k < Ops; k++)
        {
            int i = k & (Pages - 1);
            ulong va = serialized ? _vas[i] ^ (hpa & _zero) : _vas[i];
            _reference.WalkNested(ref nested, va, AccessKind.Read, 3, false);
            hpa = nested.HostPhysicalAddress;
            sum += hpa;
        }

        return sum;
    }

    /// <summary>The guest walk alone: the same guest tables, guest-physical taken as host-physical.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong GuestOnly()
    {
        var walk = default(GuestWalk);
        ulong pa = 0, sum = 0;
        bool serialized = Dependency == WalkDependency.Serialized;
        for (int k = 0; k < Ops; k++)
        {
            int i = k & (Pages - 1);
            ulong va = serialized ? _vas[i] ^ (pa & _zero) : _vas[i];
            _guestOnly.WalkAddr(ref walk, va, AccessKind.Read, 3, false);
            pa = walk.PhysicalAddress;
            sum += pa;
        }

        return sum;
    }

    /// <summary>One EPT walk alone: the final guest-physical addresses through ept4.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong EptOnly()
    {
        var walk = default(GuestWalk);
        ulong hpa = 0, sum = 0;
        bool serialized = Dependency == WalkDependency.Serialized;
        for (int k = 0; k < Ops; k++)
        {
            int i = k & (Pages - 1);
            ulong gpa = serialized ? _gpas[i] ^ (hpa & _zero) : _gpas[i];
            _ept.WalkGpa(ref walk, gpa, AccessKind.Read, EptAccessFlags.Final);
            hpa = walk.PhysicalAddress;
            sum += hpa;
        }

        return sum;
    }
}
