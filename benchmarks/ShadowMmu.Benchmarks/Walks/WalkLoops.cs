using System.Runtime.CompilerServices;
using ShadowMmu.Benchmarks.Native;

namespace ShadowMmu.Benchmarks.Walks;

/// <summary>One walk by some implementation, returning the physical address; implemented by structs so that the loops
/// below are compiled once per implementation and call it directly (no interface dispatch).</summary>
internal interface IWalkImpl
{
    ulong Walk(ref GuestWalk walk, ulong va);
}

/// <summary>
/// The benchmark loops, the same shape as the C batches in <c>cwalk.c</c>: a cursor over a power-of-two array that
/// goes on from batch to batch; serialized walks take the next address as <c>va ^ (pa &amp; zero)</c>, with
/// <c>zero</c> a field the JIT cannot see is 0, so that each walk waits for the previous one's result.
/// </summary>
internal static unsafe class WalkLoops
{
    public static ulong Serialized<T>(ref T impl, VaList list, ref uint cursor, int n, ulong zero)
        where T : struct, IWalkImpl
    {
        T local = impl;
        var walk = default(GuestWalk);
        ulong* vas = list.Vas;
        uint mask = list.Mask;
        uint i = cursor;
        ulong pa = 0, sum = 0;
        for (int k = 0; k < n; k++)
        {
            ulong va = vas[i] ^ (pa & zero);
            pa = local.Walk(ref walk, va);
            sum += pa;
            i = (i + 1) & mask;
        }

        cursor = i;
        return sum;
    }

    public static ulong Independent<T>(ref T impl, VaList list, ref uint cursor, int n)
        where T : struct, IWalkImpl
    {
        T local = impl;
        var walk = default(GuestWalk);
        ulong* vas = list.Vas;
        uint mask = list.Mask;
        uint i = cursor;
        ulong sum = 0;
        for (int k = 0; k < n; k++)
        {
            sum += local.Walk(ref walk, vas[i]);
            i = (i + 1) & mask;
        }

        cursor = i;
        return sum;
    }
}

// ---- The generated walkers, called on their sealed types: a direct call to WalkAddr ----

internal struct Legacy32Generated : IWalkImpl
{
    public Legacy32Walker W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Walk(ref GuestWalk walk, ulong va)
    {
        W.WalkAddr(ref walk, va, AccessKind.Read, 3, false);
        return walk.PhysicalAddress;
    }
}

internal struct PaeGenerated : IWalkImpl
{
    public PaeWalker W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Walk(ref GuestWalk walk, ulong va)
    {
        W.WalkAddr(ref walk, va, AccessKind.Read, 3, false);
        return walk.PhysicalAddress;
    }
}

internal struct Long4Generated : IWalkImpl
{
    public Long4Walker W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Walk(ref GuestWalk walk, ulong va)
    {
        W.WalkAddr(ref walk, va, AccessKind.Read, 3, false);
        return walk.PhysicalAddress;
    }
}

internal struct Long5Generated : IWalkImpl
{
    public Long5Walker W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Walk(ref GuestWalk walk, ulong va)
    {
        W.WalkAddr(ref walk, va, AccessKind.Read, 3, false);
        return walk.PhysicalAddress;
    }
}

internal struct Ept4Generated : IWalkImpl
{
    public Ept4Walker W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Walk(ref GuestWalk walk, ulong va)
    {
        W.WalkAddr(ref walk, va, AccessKind.Read, 3, false);
        return walk.PhysicalAddress;
    }
}

internal struct Ept5Generated : IWalkImpl
{
    public Ept5Walker W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Walk(ref GuestWalk walk, ulong va)
    {
        W.WalkAddr(ref walk, va, AccessKind.Read, 3, false);
        return walk.PhysicalAddress;
    }
}

/// <summary>Any walker through <see cref="IGuestPageWalker"/>: what a caller that holds the interface pays.</summary>
internal struct InterfaceWalker : IWalkImpl
{
    public IGuestPageWalker W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Walk(ref GuestWalk walk, ulong va)
    {
        W.WalkAddr(ref walk, va, AccessKind.Read, 3, false);
        return walk.PhysicalAddress;
    }
}

/// <summary>The reference walker (the spec interpreter), on its sealed type.</summary>
internal struct ReferenceImpl : IWalkImpl
{
    public ReferenceWalker W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Walk(ref GuestWalk walk, ulong va)
    {
        W.WalkAddr(ref walk, va, AccessKind.Read, 3, false);
        return walk.PhysicalAddress;
    }
}

/// <summary>The C# floor for one case: the dependent loads, no checks (see <see cref="Floors"/>).</summary>
internal unsafe struct FloorImpl<TFloor> : IWalkImpl
    where TFloor : struct, IFloor
{
    public CwCtx* Ctx;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Walk(ref GuestWalk walk, ulong va) => TFloor.Walk(Ctx, va);
}
