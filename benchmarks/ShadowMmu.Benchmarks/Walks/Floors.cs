using System.Runtime.CompilerServices;
using ShadowMmu.Benchmarks.Native;

namespace ShadowMmu.Benchmarks.Walks;

/// <summary>A C# floor: a static walk selected by type, so that each loop instantiation calls it directly.</summary>
internal unsafe interface IFloor
{
    static abstract ulong Walk(CwCtx* c, ulong va);
}

/// <summary>
/// The memory floor in C#: the same chain of dependent loads as a walk of that mode and page size (the entry, masked to
/// the next table), with no bounds, present, reserved-bit or rights check and no walk record. Like the C floors in
/// <c>cwalk.c</c> they read the native copy through the context and are not inlined, as a walker is not.
/// </summary>
internal static unsafe class Floors
{
    private const ulong A12 = 0x000F_FFFF_FFFF_F000, A21 = 0x000F_FFFF_FFE0_0000, A30 = 0x000F_FFFF_C000_0000;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Long5_4K(CwCtx* c, ulong va)
    {
        byte* b = c->Base;
        ulong t = c->Root;
        t = *(ulong*)(b + t + ((va >> 45) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 36) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 27) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 18) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 9) & 0xFF8));
        return (t & A12) | (va & 0xFFF);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Long5_2M(CwCtx* c, ulong va)
    {
        byte* b = c->Base;
        ulong t = c->Root;
        t = *(ulong*)(b + t + ((va >> 45) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 36) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 27) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 18) & 0xFF8));
        return (t & A21) | (va & 0x1F_FFFF);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Long5_1G(CwCtx* c, ulong va)
    {
        byte* b = c->Base;
        ulong t = c->Root;
        t = *(ulong*)(b + t + ((va >> 45) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 36) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 27) & 0xFF8));
        return (t & A30) | (va & 0x3FFF_FFFF);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Long4_4K(CwCtx* c, ulong va)
    {
        byte* b = c->Base;
        ulong t = c->Root;
        t = *(ulong*)(b + t + ((va >> 36) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 27) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 18) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 9) & 0xFF8));
        return (t & A12) | (va & 0xFFF);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Long4_2M(CwCtx* c, ulong va)
    {
        byte* b = c->Base;
        ulong t = c->Root;
        t = *(ulong*)(b + t + ((va >> 36) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 27) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 18) & 0xFF8));
        return (t & A21) | (va & 0x1F_FFFF);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Long4_1G(CwCtx* c, ulong va)
    {
        byte* b = c->Base;
        ulong t = c->Root;
        t = *(ulong*)(b + t + ((va >> 36) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 27) & 0xFF8));
        return (t & A30) | (va & 0x3FFF_FFFF);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Pae_4K(CwCtx* c, ulong va)
    {
        byte* b = c->Base;
        ulong t = c->Pdpte[(int)(va >> 30) & 3] & A12;
        t = *(ulong*)(b + t + ((va >> 18) & 0xFF8)) & A12;
        t = *(ulong*)(b + t + ((va >> 9) & 0xFF8));
        return (t & A12) | (va & 0xFFF);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Pae_2M(CwCtx* c, ulong va)
    {
        byte* b = c->Base;
        ulong t = c->Pdpte[(int)(va >> 30) & 3] & A12;
        t = *(ulong*)(b + t + ((va >> 18) & 0xFF8));
        return (t & A21) | (va & 0x1F_FFFF);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Legacy32_4K(CwCtx* c, ulong va)
    {
        byte* b = c->Base;
        ulong t = c->Root;
        t = *(uint*)(b + t + ((va >> 20) & 0xFFC)) & 0xFFFF_F000U;
        t = *(uint*)(b + t + ((va >> 10) & 0xFFC));
        return (t & 0xFFFF_F000U) | (va & 0xFFF);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong Legacy32_4M(CwCtx* c, ulong va)
    {
        ulong t = *(uint*)(c->Base + c->Root + ((va >> 20) & 0xFFC));
        return (t & 0xFFC0_0000U) | (va & 0x3F_FFFF);
    }
}

internal unsafe struct FloorLegacy32_4K : IFloor { public static ulong Walk(CwCtx* c, ulong va) => Floors.Legacy32_4K(c, va); }
internal unsafe struct FloorLegacy32_4M : IFloor { public static ulong Walk(CwCtx* c, ulong va) => Floors.Legacy32_4M(c, va); }
internal unsafe struct FloorPae_4K : IFloor { public static ulong Walk(CwCtx* c, ulong va) => Floors.Pae_4K(c, va); }
internal unsafe struct FloorPae_2M : IFloor { public static ulong Walk(CwCtx* c, ulong va) => Floors.Pae_2M(c, va); }
internal unsafe struct FloorLong4_4K : IFloor { public static ulong Walk(CwCtx* c, ulong va) => Floors.Long4_4K(c, va); }
internal unsafe struct FloorLong4_2M : IFloor { public static ulong Walk(CwCtx* c, ulong va) => Floors.Long4_2M(c, va); }
internal unsafe struct FloorLong4_1G : IFloor { public static ulong Walk(CwCtx* c, ulong va) => Floors.Long4_1G(c, va); }
internal unsafe struct FloorLong5_4K : IFloor { public static ulong Walk(CwCtx* c, ulong va) => Floors.Long5_4K(c, va); }
internal unsafe struct FloorLong5_2M : IFloor { public static ulong Walk(CwCtx* c, ulong va) => Floors.Long5_2M(c, va); }
internal unsafe struct FloorLong5_1G : IFloor { public static ulong Walk(CwCtx* c, ulong va) => Floors.Long5_1G(c, va); }
