namespace ShadowMmu;

/// <summary>
/// The EPT pointer (Intel SDM Vol. 3C, "Extended-Page-Table Pointer (EPTP)"): the root table, the memory type used
/// for the paging structures, the page-walk length and the A/D enable.
/// </summary>
public static class EptPointer
{
    /// <summary>Bits 2:0: memory type for accessing the EPT paging structures.</summary>
    public const ulong MemoryTypeMask = 0x7;

    /// <summary>Bits 5:3: page-walk length minus 1 (3 for 4-level EPT, 4 for 5-level).</summary>
    public const ulong WalkLengthMask = 0x38;

    /// <summary>Bit 6: accessed and dirty flags for EPT.</summary>
    public const ulong AccessedDirty = 1 << 6;

    /// <summary>Bit 7: supervisor shadow-stack access rights (not modelled; must be 0 here).</summary>
    public const ulong SupervisorShadowStack = 1 << 7;

    /// <summary>The EPTP value for a root table at <paramref name="root"/> with <paramref name="levels"/> levels, write-back.</summary>
    public static ulong Make(ulong root, int levels, bool accessedDirty = false) =>
        (root & ~0xFFFUL) | 6 | ((ulong)(levels - 1) << 3) | (accessedDirty ? AccessedDirty : 0);

    /// <summary>The number of levels bits 5:3 give.</summary>
    public static int Levels(ulong eptp) => (int)((eptp & WalkLengthMask) >> 3) + 1;

    /// <summary>
    /// Why VM entry would fail with <paramref name="eptp"/> (SDM "Checks on VMX Controls": memory type UC or WB, a
    /// page-walk length the processor supports, bits 11:7 and the address bits at or above MAXPHYADDR clear),
    /// or null when it is valid.
    /// </summary>
    public static string? Validate(ulong eptp, int maxPhysAddr)
    {
        ulong memoryType = eptp & MemoryTypeMask;
        if (memoryType != 0 && memoryType != 6)
        {
            return $"EPTP memory type {memoryType} is neither UC (0) nor WB (6)";
        }

        int levels = Levels(eptp);
        if (levels != 4 && levels != 5)
        {
            return $"EPTP page-walk length {levels} is neither 4 nor 5 (bits 5:3 hold the length minus 1)";
        }

        if ((eptp & 0xF80) != 0)
        {
            return "EPTP bits 11:7 are reserved here (supervisor shadow-stack rights are not modelled)";
        }

        if (maxPhysAddr < 64 && (eptp >> maxPhysAddr) != 0)
        {
            return $"EPTP sets address bits at or above MAXPHYADDR ({maxPhysAddr})";
        }

        return null;
    }
}
