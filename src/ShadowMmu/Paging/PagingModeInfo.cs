namespace ShadowMmu;

/// <summary>The facts about a paging mode that its spec states and its users ask for.</summary>
/// <param name="Name">The mode's name in its spec (<c>long4</c>).</param>
/// <param name="Title">A human title (<c>4-level paging</c>).</param>
/// <param name="RootLevel">Number of levels, the root's level number.</param>
/// <param name="EntryBytes">Size of an entry: 4 or 8.</param>
/// <param name="LinearBits">Width of a linear address.</param>
/// <param name="SpecFile">File name of the spec.</param>
/// <param name="SpecText">The spec itself, for the reference walker.</param>
/// <param name="Format">The entry format: the processor's page tables, or extended page tables.</param>
public sealed record PagingModeInfo(string Name, string Title, int RootLevel, int EntryBytes, int LinearBits, string SpecFile, string SpecText,
    PagingFormat Format = PagingFormat.X86)
{
    /// <summary>True for an EPT mode: its walks translate guest-physical addresses and end in EPT violations or misconfigurations.</summary>
    public bool IsEpt => Format == PagingFormat.Ept;
}

/// <summary>The entry format a mode's tables use.</summary>
public enum PagingFormat
{
    /// <summary>x86 paging (32-bit, PAE, 4-level, 5-level): linear to physical addresses, faults are #PF or #GP.</summary>
    X86,

    /// <summary>Extended page tables: guest-physical to host-physical addresses, faults are EPT violations or misconfigurations.</summary>
    Ept,
}

/// <summary>Helpers the generated walkers share.</summary>
public static class PhysicalAddressBits
{
    /// <summary>
    /// The bits of <paramref name="entryMask"/> that hold physical-address bits at or above
    /// <paramref name="maxPhysAddr"/>, where entry bit b holds physical-address bit b + <paramref name="shift"/>.
    /// They are reserved: an entry with one of them set faults.
    /// </summary>
    public static ulong AtOrAbove(int maxPhysAddr, ulong entryMask, int shift)
    {
        int first = maxPhysAddr - shift;
        if (first <= 0)
        {
            return entryMask;
        }

        return first >= 64 ? 0 : entryMask & ~((1UL << first) - 1);
    }
}
