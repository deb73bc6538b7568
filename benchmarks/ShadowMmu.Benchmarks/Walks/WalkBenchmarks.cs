using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Attributes;
using ShadowMmu.Benchmarks.Native;

namespace ShadowMmu.Benchmarks.Walks;

/// <summary>
/// WalkAddr per mode (EPT: the final translation of a user-mode linear address's guest-physical address), page size, access pattern and dependency: the generated walker (on its sealed type), the
/// reference interpreter, the native C walkers (looped and unrolled) and the floors (C and C#), on the same tables
/// and the same addresses, each checked at setup to give the same results. One operation is one walk.
/// </summary>
[MemoryDiagnoser]
public unsafe class WalkBenchmarks
{
    /// <summary>Walks per invocation: every implementation runs the same batch.</summary>
    public const int Ops = 4096;

    private WalkImage _image = null!;
    private VaList _list = null!;
    private CwWalk* _cwalk;
    private CwImpl _unrolled, _loop, _floor;
    private uint _cursor;
    private ulong _zero;
    private int _mode;
    private Legacy32Generated _legacy32;
    private PaeGenerated _pae;
    private Long4Generated _long4;
    private Long5Generated _long5;
    private Ept4Generated _ept4;
    private Ept5Generated _ept5;
    private ReferenceImpl _reference;

    /// <summary>Environment variable (or <c>--cases</c>): a comma-separated subset of the cases to run.</summary>
    public const string CasesVariable = "SHADOWMMU_BENCH_CASES";

    /// <summary>Environment variable (or <c>--patterns</c>): a comma-separated subset of the patterns to run.</summary>
    public const string PatternsVariable = "SHADOWMMU_BENCH_PATTERNS";

    /// <summary>Paging mode and page size.</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = WalkCase.Long4_4K;

    /// <summary>Which pages.</summary>
    [ParamsSource(nameof(Patterns))]
    public WalkPattern Pattern { get; set; }

    /// <summary>Every case, or those <see cref="CasesVariable"/> names.</summary>
    public static IEnumerable<string> Cases => Subset(CasesVariable, WalkCase.All.Select(c => c.Name));

    /// <summary>Every pattern, or those <see cref="PatternsVariable"/> names.</summary>
    public static IEnumerable<WalkPattern> Patterns =>
        Subset(PatternsVariable, Enum.GetNames<WalkPattern>()).Select(Enum.Parse<WalkPattern>);

    /// <summary>Latency (serialized) or throughput (independent).</summary>
    [Params(WalkDependency.Serialized, WalkDependency.Independent)]
    public WalkDependency Dependency { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        NativeWalkers.CheckLayout();
        WalkCase c = WalkCase.Get(Case);
        _image = WalkImage.Get(c, Pattern);
        _list = WalkImage.Addresses(c, Pattern);
        _cwalk = (CwWalk*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)sizeof(CwWalk), 64);
        *_cwalk = default;
        _unrolled = NativeWalkers.Unrolled(c.Mode);
        _loop = NativeWalkers.Loop(c.Mode);
        _floor = NativeWalkers.Floor(c.FloorCase);
        _zero = 0;
        _cursor = 0;
        IGuestPageWalker generated = PagingModes.CreateWalker(c.Mode, _image.Memory, _image.Cpu);
        _mode = c.Mode switch { "legacy32" => 0, "pae" => 1, "long4" => 2, "long5" => 3, "ept4" => 4, _ => 5 };
        switch (generated)
        {
            case Legacy32Walker w: _legacy32.W = w; break;
            case PaeWalker w: _pae.W = w; break;
            case Long4Walker w: _long4.W = w; break;
            case Long5Walker w: _long5.W = w; break;
            case Ept4Walker w: _ept4.W = w; break;
            case Ept5Walker w: _ept5.W = w; break;
        }

        _reference.W = ReferenceWalker.For(c.Info, _image.Memory, _image.Cpu);

        // Same inputs, same results: every implementation on a sample of this pattern's addresses.
        WalkVerifier.CheckSample(_image, _list, generated, _reference.W, maxSamples: 256);
    }

    private static IEnumerable<string> Subset(string variable, IEnumerable<string> all)
    {
        string? wanted = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(wanted))
        {
            return all;
        }

        var names = wanted.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return all.Where(a => names.Contains(a, StringComparer.OrdinalIgnoreCase)).ToList();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        System.Runtime.InteropServices.NativeMemory.AlignedFree(_cwalk);
        _cwalk = null;
    }

    /// <summary>The generated walker, called on its sealed type.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public ulong Generated() => _mode switch
    {
        0 => Run(ref _legacy32),
        1 => Run(ref _pae),
        2 => Run(ref _long4),
        3 => Run(ref _long5),
        4 => Run(ref _ept4),
        _ => Run(ref _ept5),
    };

    /// <summary>The reference walker: the spec interpreted, one loop iteration per level.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong Reference() => Run(ref _reference);

    /// <summary>C, one loop over the levels (KVM's walk_addr_generic shape), gcc -O2.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong NativeLoop() => RunNative(_loop);

    /// <summary>C, unrolled by hand: one block per level with constant shifts and masks, gcc -O2.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong NativeUnrolled() => RunNative(_unrolled);

    /// <summary>The floor in C: the dependent loads alone.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong FloorC() => RunNative(_floor);

    /// <summary>The floor in C#: the dependent loads alone (EPT cases: the 4- or 5-level paging floor, the same loads).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong FloorCs() => _image.Case.FloorCase switch
    {
        WalkCase.Legacy32_4K => RunFloor<FloorLegacy32_4K>(),
        WalkCase.Legacy32_4M => RunFloor<FloorLegacy32_4M>(),
        WalkCase.Pae_4K => RunFloor<FloorPae_4K>(),
        WalkCase.Pae_2M => RunFloor<FloorPae_2M>(),
        WalkCase.Long4_4K => RunFloor<FloorLong4_4K>(),
        WalkCase.Long4_2M => RunFloor<FloorLong4_2M>(),
        WalkCase.Long4_1G => RunFloor<FloorLong4_1G>(),
        WalkCase.Long5_4K => RunFloor<FloorLong5_4K>(),
        WalkCase.Long5_2M => RunFloor<FloorLong5_2M>(),
        _ => RunFloor<FloorLong5_1G>(),
    };

    private ulong Run<T>(ref T impl)
        where T : struct, IWalkImpl =>
        Dependency == WalkDependency.Serialized
            ? WalkLoops.Serialized(ref impl, _list, ref _cursor, Ops, _zero)
            : WalkLoops.Independent(ref impl, _list, ref _cursor, Ops);

    private ulong RunFloor<TFloor>()
        where TFloor : struct, IFloor
    {
        var floor = new FloorImpl<TFloor> { Ctx = _image.Ctx };
        return Run(ref floor);
    }

    private ulong RunNative(CwImpl impl)
    {
        uint cursor = _cursor;
        ulong sum = NativeWalkers.Run(impl, Dependency == WalkDependency.Serialized ? 1 : 0, _image.Ctx, _cwalk, _list.Vas, _list.Mask,
            &cursor, Ops, _zero, (int)AccessKind.Read, 3, 0);
        if (sum == ulong.MaxValue)
        {
            throw new InvalidOperationException($"The C library has no implementation {impl}.");
        }

        _cursor = cursor;
        return sum;
    }
}

/// <summary>The same generated walk through <see cref="IGuestPageWalker"/>, against the sealed type: the dispatch cost.</summary>
[MemoryDiagnoser]
public class InterfaceDispatchBenchmarks
{
    private VaList _list = null!;
    private uint _cursor;
    private ulong _zero;
    private Long4Generated _sealed;
    private InterfaceWalker _interface;

    /// <summary>Latency or throughput.</summary>
    [Params(WalkDependency.Serialized, WalkDependency.Independent)]
    public WalkDependency Dependency { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        WalkCase c = WalkCase.Get(WalkCase.Long4_4K);
        WalkImage image = WalkImage.Get(c, WalkPattern.Hot);
        _list = WalkImage.Addresses(c, WalkPattern.Hot);
        _sealed.W = new Long4Walker(image.Memory, image.Cpu);
        _interface.W = PagingModes.CreateWalker(c.Mode, image.Memory, image.Cpu);
        _zero = 0;
    }

    /// <summary>long4, 4 KiB pages, hot set: on the sealed Long4Walker.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = WalkBenchmarks.Ops)]
    public ulong SealedType() => Dependency == WalkDependency.Serialized
        ? WalkLoops.Serialized(ref _sealed, _list, ref _cursor, WalkBenchmarks.Ops, _zero)
        : WalkLoops.Independent(ref _sealed, _list, ref _cursor, WalkBenchmarks.Ops);

    /// <summary>The same walks through IGuestPageWalker.</summary>
    [Benchmark(OperationsPerInvoke = WalkBenchmarks.Ops)]
    public ulong Interface() => Dependency == WalkDependency.Serialized
        ? WalkLoops.Serialized(ref _interface, _list, ref _cursor, WalkBenchmarks.Ops, _zero)
        : WalkLoops.Independent(ref _interface, _list, ref _cursor, WalkBenchmarks.Ops);
}
