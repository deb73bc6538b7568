using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using ShadowMmu.Benchmarks.Native;
using ShadowMmu.Benchmarks.Walks;

namespace ShadowMmu.Benchmarks.Proposed;

/// <summary>
/// The evidence for the changes proposed to the generator: the emitted <see cref="Long4Walker"/> and
/// <see cref="Legacy32Walker"/> against <see cref="Long4WalkerProposed"/> and <see cref="Legacy32WalkerProposed"/> (the
/// same walks with the proposed emission), the C unrolled walker and the C floor, on the hot set.
/// </summary>
[MemoryDiagnoser]
public unsafe class ProposedEmissionBenchmarks
{
    private WalkImage _image = null!;
    private VaList _list = null!;
    private CwWalk* _cwalk;
    private uint _cursor;
    private ulong _zero;
    private Long4Generated _generated;
    private ProposedImpl _proposed;
    private Legacy32Generated _generated32;
    private Proposed32Impl _proposed32;
    private bool _legacy32;

    /// <summary>Mode and page size.</summary>
    [Params(WalkCase.Legacy32_4K, WalkCase.Legacy32_4M, WalkCase.Long4_4K, WalkCase.Long4_2M, WalkCase.Long4_1G)]
    public string Case { get; set; } = WalkCase.Long4_4K;

    /// <summary>Latency or throughput.</summary>
    [Params(WalkDependency.Serialized, WalkDependency.Independent)]
    public WalkDependency Dependency { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        WalkCase c = WalkCase.Get(Case);
        _image = WalkImage.Get(c, WalkPattern.Hot);
        _list = WalkImage.Addresses(c, WalkPattern.Hot);
        _cwalk = (CwWalk*)NativeMemory.AlignedAlloc((nuint)sizeof(CwWalk), 64);
        *_cwalk = default;
        _zero = 0;
        _legacy32 = c.Mode == "legacy32";
        if (_legacy32)
        {
            _generated32.W = new Legacy32Walker(_image.Memory, _image.Cpu);
            _proposed32.W = new Legacy32WalkerProposed(_image.Memory, _image.Cpu);
            CheckSameAsGenerated(_generated32.W, _proposed32.W.WalkAddr, _list, _image.Memory, c.EntryBytes);
        }
        else
        {
            _generated.W = new Long4Walker(_image.Memory, _image.Cpu);
            _proposed.W = new Long4WalkerProposed(_image.Memory, _image.Cpu);
            CheckSameAsGenerated(_generated.W, _proposed.W.WalkAddr, _list, _image.Memory, c.EntryBytes);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => NativeMemory.AlignedFree(_cwalk);

    /// <summary>The emitted walker.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = WalkBenchmarks.Ops)]
    public ulong Generated() => _legacy32 ? Run(ref _generated32) : Run(ref _generated);

    /// <summary>The proposed emission.</summary>
    [Benchmark(OperationsPerInvoke = WalkBenchmarks.Ops)]
    public ulong Proposed() => _legacy32 ? Run(ref _proposed32) : Run(ref _proposed);

    /// <summary>C, unrolled by hand, gcc -O2.</summary>
    [Benchmark(OperationsPerInvoke = WalkBenchmarks.Ops)]
    public ulong NativeUnrolled() => RunNative(_legacy32 ? CwImpl.Legacy32Unrolled : CwImpl.Long4Unrolled);

    /// <summary>The C floor.</summary>
    [Benchmark(OperationsPerInvoke = WalkBenchmarks.Ops)]
    public ulong FloorC() => RunNative(NativeWalkers.Floor(Case));

    private ulong Run<T>(ref T impl)
        where T : struct, IWalkImpl =>
        Dependency == WalkDependency.Serialized
            ? WalkLoops.Serialized(ref impl, _list, ref _cursor, WalkBenchmarks.Ops, _zero)
            : WalkLoops.Independent(ref impl, _list, ref _cursor, WalkBenchmarks.Ops);

    private ulong RunNative(CwImpl impl)
    {
        uint cursor = _cursor;
        ulong sum = NativeWalkers.Run(impl, Dependency == WalkDependency.Serialized ? 1 : 0, _image.Ctx, _cwalk, _list.Vas, _list.Mask,
            &cursor, WalkBenchmarks.Ops, _zero, (int)AccessKind.Read, 3, 0);
        _cursor = cursor;
        return sum;
    }

    /// <summary>Every hot address, every access kind, CPL and AC, and with the leaf's A and D flags cleared: the same record.</summary>
    internal static void CheckSameAsGenerated(IGuestPageWalker generated, WalkAddrFn proposed, VaList list, GuestMemory memory, int entryBytes)
    {
        var failures = new List<string>();
        for (int i = 0; i < list.Count; i++)
        {
            // A and D clear in the leaf: both walks set them with the same compare-exchange and list the same update.
            var probe = default(GuestWalk);
            generated.WalkAddr(ref probe, list[i], AccessKind.Read, 3, false);
            ulong leafGpa = probe.PteGpa[probe.Level - 1], leaf = probe.Ptes[probe.Level - 1];
            var ga = default(GuestWalk);
            var pa = default(GuestWalk);
            memory.WriteEntry(leafGpa, leaf & ~0x60UL, entryBytes);
            generated.WalkAddr(ref ga, list[i], AccessKind.Write, 3, false);
            memory.WriteEntry(leafGpa, leaf & ~0x60UL, entryBytes);
            proposed(ref pa, list[i], AccessKind.Write, 3, false);
            memory.WriteEntry(leafGpa, leaf, entryBytes);
            if (ga.UpdateCount != 1 || pa.UpdateCount != 1 || ga.Updates[0] != pa.Updates[0] || ga.Ptes[ga.Level - 1] != pa.Ptes[pa.Level - 1])
            {
                failures.Add($"0x{list[i]:x} A/D: generated {ga.UpdateCount} updates, proposed {pa.UpdateCount}");
            }

            foreach (AccessKind kind in new[] { AccessKind.Read, AccessKind.Write, AccessKind.Fetch })
            {
                foreach (int cpl in new[] { 0, 3 })
                {
                    foreach (bool ac in new[] { false, true })
                    {
                        var g = default(GuestWalk);
                        var p = default(GuestWalk);
                        bool gOk = generated.WalkAddr(ref g, list[i], kind, cpl, ac);
                        bool pOk = proposed(ref p, list[i], kind, cpl, ac);
                        if (gOk != pOk || g.ToString() != p.ToString() || g.Level != p.Level || g.MaxLevel != p.MaxLevel
                            || g.ErrorCode != p.ErrorCode || g.ProtectionKey != p.ProtectionKey || g.UpdateCount != p.UpdateCount
                            || !Same(g.Ptes, p.Ptes) || !Same(g.PteGpa, p.PteGpa) || !Same(g.TableGfn, p.TableGfn))
                        {
                            failures.Add($"0x{list[i]:x} {kind} cpl {cpl} ac {ac}: generated {g}, proposed {p}");
                        }
                    }
                }
            }
        }

        if (failures.Count > 0)
        {
            throw new InvalidOperationException("The proposed walker differs from the generated one:\n" + string.Join("\n", failures));
        }

        static bool Same(LevelValues a, LevelValues b)
        {
            for (int l = 0; l < 5; l++)
            {
                if (a[l] != b[l])
                {
                    return false;
                }
            }

            return true;
        }
    }
}

/// <summary>A WalkAddr, for the check.</summary>
internal delegate bool WalkAddrFn(ref GuestWalk walk, ulong va, AccessKind kind, int cpl, bool ac);

internal struct Proposed32Impl : IWalkImpl
{
    public Legacy32WalkerProposed W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Walk(ref GuestWalk walk, ulong va)
    {
        W.WalkAddr(ref walk, va, AccessKind.Read, 3, false);
        return walk.PhysicalAddress;
    }
}

internal struct ProposedImpl : IWalkImpl
{
    public Long4WalkerProposed W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Walk(ref GuestWalk walk, ulong va)
    {
        W.WalkAddr(ref walk, va, AccessKind.Read, 3, false);
        return walk.PhysicalAddress;
    }
}
