using ShadowMmu.Oracle;

namespace ShadowMmu.Oracle.Tests;

/// <summary>Builds <see cref="OracleCase"/>s with the control registers a paging mode needs.</summary>
internal static class Cases
{
    public const ulong Cr0Base = 0x8000_0031; // PG, NE, ET, PE
    public const ulong Cr0Wp = 1UL << 16;
    public const ulong Cr4Pse = 1UL << 4;
    public const ulong Cr4Pae = 1UL << 5;
    public const ulong Cr4La57 = 1UL << 12;
    public const ulong Cr4Smep = 1UL << 20;
    public const ulong Cr4Smap = 1UL << 21;
    public const ulong Cr4Pke = 1UL << 22;
    public const ulong EferLme = 1UL << 8;
    public const ulong EferNxe = 1UL << 11;

    public static OracleCase For(
        GuestImage image,
        OracleAccess access,
        ulong va,
        int cpl = 0,
        bool wp = true,
        bool nxe = false,
        ulong extraCr4 = 0,
        uint pkru = 0,
        bool ac = false)
    {
        ulong cr4 = image.Mode switch
        {
            OracleMode.Legacy32 => 0,
            OracleMode.Legacy32Pse => Cr4Pse,
            OracleMode.Pae or OracleMode.Long4 => Cr4Pae,
            _ => Cr4Pae | Cr4La57,
        };
        ulong efer = (image.Mode is OracleMode.Long4 or OracleMode.Long5 ? EferLme : 0) | (nxe ? EferNxe : 0);
        ulong cr0 = Cr0Base | (wp ? Cr0Wp : 0);
        return new OracleCase(cr0, image.Cr3, cr4 | extraCr4, efer, pkru, ac, cpl, access, va);
    }
}
