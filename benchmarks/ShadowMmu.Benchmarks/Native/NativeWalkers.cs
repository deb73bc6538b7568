using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ShadowMmu.Benchmarks.Native;

/// <summary>One level of the looped C walker's table (<c>cw_level</c>).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CwLevel
{
    public ulong IndexShift, IndexMask, TableMask, FrameMask, HighMask, HighShift, PageSize, Rsvd, RsvdPage, MapsPages, IsRegister;
}

/// <summary>Five <see cref="CwLevel"/>s, <c>[level - 1]</c>.</summary>
[InlineArray(5)]
internal struct CwLevels
{
    private CwLevel _first;
}

/// <summary>The C walkers' context (<c>cw_ctx</c>): guest memory and what the CPU state makes of the mode.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CwCtx
{
    public byte* Base;
    public ulong Size;
    public ulong Root;
    public ulong Xd;
    public fixed ulong Pdpte[4];
    public byte* Permissions;
    public ulong PermRow;
    public ulong FetchEc;
    public ulong PkruMask;
    public ulong Pkru;
    public ulong PdeMapsPages;
    public ulong RegisterFault;
    public ulong RootLevel;
    public ulong EntryBytes;
    public ulong LinearBits;
    public ulong Canonical;
    public ulong HasPkeys;
    public CwLevels Levels;
    public fixed ulong Rsvd[5];
    public fixed ulong RsvdPage[5];
    public ulong EptPresent;
    public ulong EptUserExec;
    public ulong EptUxIndex;
    public fixed ulong EptBadMtXwr[2];
    public ulong EptAd;
    public ulong EptGpaMask;
    public fixed ushort EptPerm[8];
}

/// <summary>The C walk record (<c>cw_walk</c>), <see cref="GuestWalk"/> field for field.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CwWalk
{
    public ulong Va;
    public fixed ulong PteGpa[5];
    public fixed ulong Ptes[5];
    public ulong Pa;
    public ulong PageSize;
    public int Level;
    public int MaxLevel;
    public uint PteAccess;
    public int Pkey;
    public uint ErrorCode;
    public byte Fault;
    public byte Outside;
    public byte MemoryType;
    public byte IgnorePat;
    public ulong PtAccess;
    public int UpdateCount;
    public fixed ulong Updates[24];

    /// <summary>The rights level <paramref name="level"/> inherited.</summary>
    public readonly byte InheritedAt(int level) => (byte)(PtAccess >> ((level - 1) * 8));
}

/// <summary>The implementations in <c>libshadowmmu_cwalk.so</c> (ids shared with <c>cwalk.c</c>).</summary>
internal enum CwImpl
{
    Legacy32Unrolled = 0,
    PaeUnrolled = 1,
    Long4Unrolled = 2,
    Long5Unrolled = 3,
    Loop = 4,
    Ept4Unrolled = 5,
    Ept5Unrolled = 6,
    EptLoop = 7,
    FloorLegacy32_4K = 10,
    FloorLegacy32_4M,
    FloorPae_4K,
    FloorPae_2M,
    FloorLong4_4K,
    FloorLong4_2M,
    FloorLong4_1G,
    FloorLong5_4K,
    FloorLong5_2M,
    FloorLong5_1G,
}

/// <summary>P/Invoke into the native C walkers: one call runs a whole batch of walks.</summary>
internal static unsafe partial class NativeWalkers
{
    private const string Library = "shadowmmu_cwalk";

    /// <summary>Runs <paramref name="n"/> walks of <paramref name="impl"/>; returns the sum of their physical addresses.</summary>
    [LibraryImport(Library, EntryPoint = "cw_run")]
    public static partial ulong Run(CwImpl impl, int serial, CwCtx* ctx, CwWalk* walk, ulong* vas, uint mask, uint* cursor, int n, ulong zero, int kind, int cpl, int ac);

    /// <summary>One walk (floors fill only the physical address).</summary>
    [LibraryImport(Library, EntryPoint = "cw_walk_one")]
    public static partial int WalkOne(CwImpl impl, CwCtx* ctx, CwWalk* walk, ulong va, int kind, int cpl, int ac);

    [LibraryImport(Library, EntryPoint = "cw_layout")]
    private static partial long Layout(int what);

    /// <summary>The unrolled walker for <paramref name="mode"/>.</summary>
    public static CwImpl Unrolled(string mode) => mode switch
    {
        "legacy32" => CwImpl.Legacy32Unrolled,
        "pae" => CwImpl.PaeUnrolled,
        "long4" => CwImpl.Long4Unrolled,
        "long5" => CwImpl.Long5Unrolled,
        "ept4" => CwImpl.Ept4Unrolled,
        "ept5" => CwImpl.Ept5Unrolled,
        _ => throw new ArgumentException($"No C walker for '{mode}'.", nameof(mode)),
    };

    /// <summary>The looped walker for <paramref name="mode"/>: the x86 one, or the EPT one.</summary>
    public static CwImpl Loop(string mode) => mode is "ept4" or "ept5" ? CwImpl.EptLoop : CwImpl.Loop;

    /// <summary>The floor for a case (<c>mode-size</c>; EPT cases take their <see cref="Walks.WalkCase.FloorCase"/>).</summary>
    public static CwImpl Floor(string caseName) => caseName switch
    {
        "legacy32-4K" => CwImpl.FloorLegacy32_4K,
        "legacy32-4M" => CwImpl.FloorLegacy32_4M,
        "pae-4K" => CwImpl.FloorPae_4K,
        "pae-2M" => CwImpl.FloorPae_2M,
        "long4-4K" => CwImpl.FloorLong4_4K,
        "long4-2M" => CwImpl.FloorLong4_2M,
        "long4-1G" => CwImpl.FloorLong4_1G,
        "long5-4K" => CwImpl.FloorLong5_4K,
        "long5-2M" => CwImpl.FloorLong5_2M,
        "long5-1G" => CwImpl.FloorLong5_1G,
        _ => throw new ArgumentException($"No C floor for '{caseName}'.", nameof(caseName)),
    };

    // A record whose field offsets the layout check measures.
    private static GuestWalk Probe;

    /// <summary>Throws when the C structs are laid out differently from these, or from <see cref="GuestWalk"/> (a changed <c>cwalk.c</c>).</summary>
    public static void CheckLayout()
    {
        Check(0, sizeof(CwCtx), "sizeof(cw_ctx)");
        Check(1, sizeof(CwWalk), "sizeof(cw_walk)");
        Check(2, (long)Marshal.OffsetOf<CwWalk>(nameof(CwWalk.Pa)), "offsetof(cw_walk, pa)");
        Check(3, (long)Marshal.OffsetOf<CwCtx>(nameof(CwCtx.Levels)), "offsetof(cw_ctx, lv)");
        Check(4, (long)Marshal.OffsetOf<CwWalk>(nameof(CwWalk.UpdateCount)), "offsetof(cw_walk, update_count)");
        Check(5, sizeof(CwLevel), "sizeof(cw_level)");
        Check(6, (long)Marshal.OffsetOf<CwCtx>(nameof(CwCtx.EptPresent)), "offsetof(cw_ctx, ept_present)");
        Check(7, (long)Marshal.OffsetOf<CwWalk>(nameof(CwWalk.MemoryType)), "offsetof(cw_walk, memory_type)");
        Check(8, (long)Marshal.OffsetOf<CwWalk>(nameof(CwWalk.PtAccess)), "offsetof(cw_walk, pt_access)");
        Check(1, sizeof(GuestWalk), "sizeof(cw_walk), as GuestWalk's");
        Check(2, (long)Unsafe.ByteOffset(ref Unsafe.As<GuestWalk, byte>(ref Probe), ref Unsafe.As<ulong, byte>(ref Probe.PhysicalAddress)), "offsetof(cw_walk, pa), as GuestWalk's");
        Check(8, (long)Unsafe.ByteOffset(ref Unsafe.As<GuestWalk, byte>(ref Probe), ref Unsafe.As<LevelAccess, byte>(ref Probe.PtAccess)), "offsetof(cw_walk, pt_access), as GuestWalk's");

        static void Check(int what, long managed, string name)
        {
            long native = Layout(what);
            if (native != managed)
            {
                throw new InvalidOperationException($"{name} is {native} in C but {managed} in C#: cwalk.c and NativeWalkers.cs disagree.");
            }
        }
    }
}
