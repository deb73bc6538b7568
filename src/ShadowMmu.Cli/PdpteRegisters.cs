using System;
using System.Globalization;

namespace ShadowMmu.Cli;

/// <summary>Where a PAE walk's four PDPTE registers come from.</summary>
internal enum PdpteSource : byte
{
    /// <summary>
    /// The image's PDPT, read as the registers held it when CR3 was loaded: reserved bits below bit 12 (2:1 and 8:5) are
    /// ignored, because a memory image shows the table as it is now, and QEMU's TCG sets bit 5 (an accessed flag) in
    /// PDPTEs as it walks, after the registers were loaded. Address bits at or above MAXPHYADDR still fault.
    /// </summary>
    Image,

    /// <summary>The SDM at a MOV to CR3: the image's PDPTEs as they are; a present one with any reserved bit set is a #GP(0).</summary>
    Strict,

    /// <summary>The four values the user gave (<c>--pdptes</c>), checked as the SDM checks a load.</summary>
    Given,
}

/// <summary>A PAE walk's PDPTE registers: where they come from and, when given, their values.</summary>
internal readonly record struct PdpteChoice(PdpteSource Source, ulong Pdpte0 = 0, ulong Pdpte1 = 0, ulong Pdpte2 = 0, ulong Pdpte3 = 0)
{
    /// <summary>The default: the image's PDPTEs as the registers held them.</summary>
    public static PdpteChoice FromImage => default;

    /// <summary>The given value of register <paramref name="i"/>.</summary>
    public ulong this[int i] => i switch { 0 => Pdpte0, 1 => Pdpte1, 2 => Pdpte2, _ => Pdpte3 };

    /// <summary>Reads <c>A,B,C,D</c> (four hex or decimal numbers); null with an error otherwise.</summary>
    public static PdpteChoice? Parse(string text, out string? error)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new ulong[4];
        if (parts.Length != 4)
        {
            error = $"'{text}' is not four PDPTEs (give A,B,C,D)";
            return null;
        }

        for (int i = 0; i < 4; i++)
        {
            if (!Numbers.TryParse(parts[i], out values[i]))
            {
                error = $"PDPTE {i.ToString(CultureInfo.InvariantCulture)}: '{parts[i]}' {Numbers.Problem(parts[i])}";
                return null;
            }
        }

        error = null;
        return new PdpteChoice(PdpteSource.Given, values[0], values[1], values[2], values[3]);
    }
}

/// <summary>Builds a walker whose root registers (PAE's PDPTEs) hold what <see cref="PdpteChoice"/> says.</summary>
internal static class PdpteRegisters
{
    /// <summary>
    /// A walker for <paramref name="cpu"/>; <paramref name="ignoredBits"/> are the reserved bits it ignored (OR of all
    /// four).
    /// </summary>
    public static IGuestPageWalker CreateWalker(GuestMemory memory, in CpuState cpu, PagingModeInfo mode, PdpteChoice choice, out ulong ignoredBits)
    {
        ignoredBits = 0;
        int count = PagingModeFacts.Of(mode).RootRegisters;
        if (count == 0 || choice.Source == PdpteSource.Strict)
        {
            return PagingModes.CreateWalker(memory, cpu);
        }

        Span<ulong> registers = stackalloc ulong[count];
        if (choice.Source == PdpteSource.Given)
        {
            for (int i = 0; i < count; i++)
            {
                registers[i] = choice[i];
            }
        }
        else
        {
            ignoredBits = PagingModes.ReadRootRegistersAsLoaded(memory, cpu, registers);
        }

        return PagingModes.CreateWalker(memory, cpu, registers);
    }
}
