using System.Linq;

namespace ShadowMmu.Tests.Paging.Reference;

/// <summary>
/// What the reference-walker tests share: entry flag bits and register values written as the SDM numbers them
/// (not taken from the runtime's constants, so a wrong constant there cannot hide here), and a one-call walk.
/// </summary>
internal static class ReferenceWalkerHarness
{
    // Entry flags (SDM Vol. 3A, paging-structure entry formats).
    public const ulong P = 1UL << 0;
    public const ulong RW = 1UL << 1;
    public const ulong US = 1UL << 2;
    public const ulong A = 1UL << 5;
    public const ulong D = 1UL << 6;
    public const ulong PS = 1UL << 7;
    public const ulong XD = 1UL << 63;

    // Register bits.
    public const ulong Cr0PE = 1UL << 0;
    public const ulong Cr0WP = 1UL << 16;
    public const ulong Cr0PG = 1UL << 31;
    public const ulong Cr4PSE = 1UL << 4;
    public const ulong Cr4PAE = 1UL << 5;
    public const ulong Cr4LA57 = 1UL << 12;
    public const ulong Cr4SMEP = 1UL << 20;
    public const ulong Cr4SMAP = 1UL << 21;
    public const ulong Cr4PKE = 1UL << 22;
    public const ulong EferLME = 1UL << 8;
    public const ulong EferNXE = 1UL << 11;

    // Guest memory for every test: 64 KiB, tables at 0x1000, 0x2000, ...
    public const ulong MemorySize = 0x10000;

    public static PagingModeInfo Mode(string name) => PagingModes.All.Single(m => m.Name == name);

    public static ReferenceWalker Walker(string mode, GuestMemory memory, CpuState cpu) =>
        ReferenceWalker.For(Mode(mode), memory, cpu);

    public static bool Run(ReferenceWalker walker, ulong va, out GuestWalk walk, AccessKind kind = AccessKind.Read, int cpl = 0, bool ac = false)
    {
        walk = default;
        return walker.WalkAddr(ref walk, va, kind, cpl, ac);
    }
}
