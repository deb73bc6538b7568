using System;
using System.Buffers.Binary;

namespace ShadowMmu.Oracle.Harness;

/// <summary>
/// A 2 MiB 4-level image with known answers, used to calibrate the context offsets and to self-test the
/// method: <see cref="FaultVa"/> maps a present, supervisor, read-only page; <see cref="OutsideVa"/> a
/// user-writable page at a physical address outside the image.
/// </summary>
internal static class CalibrationImage
{
    public const ulong Cr0 = 0x8001_0033; // PG, WP, NE, ET, MP, PE
    public const ulong Cr3 = 0x1000;
    public const ulong Cr4 = X86Bits.Cr4Pae;
    public const ulong Efer = X86Bits.EferLme | X86Bits.EferLma | X86Bits.EferNxe;

    public const ulong FaultVa = (1UL << 39) | (0x123UL << 12) | 0x456;
    public const ulong OutsideVa = FaultVa + 0x1000;
    public const ulong OutsidePa = 0x4000_0000 | 0x456;

    private const int Bytes = 2 << 20;

    public static byte[] Create()
    {
        var image = new byte[Bytes];
        ulong next = Cr3 + 0x1000;
        ulong Allocate()
        {
            ulong page = next;
            next += 0x1000;
            return page;
        }

        OracleGuestCode.MapCodePages(image, OracleMode.Long4, Cr3, Allocate);

        const ulong Table = X86Bits.Present | X86Bits.Writable | X86Bits.User;
        ulong pdpt = Allocate();
        ulong pd = Allocate();
        ulong pt = Allocate();
        Put(image, Cr3 + (((FaultVa >> 39) & 511) * 8), pdpt | Table);
        Put(image, pdpt + (((FaultVa >> 30) & 511) * 8), pd | Table);
        Put(image, pd + (((FaultVa >> 21) & 511) * 8), pt | Table);
        Put(image, pt + (((FaultVa >> 12) & 511) * 8), 0x15_0000 | X86Bits.Present);
        Put(image, pt + (((OutsideVa >> 12) & 511) * 8), (OutsidePa & ~0xFFFUL) | Table);
        return image;
    }

    public static OracleCase Case(OracleAccess access, int cpl, ulong va) =>
        new(Cr0, Cr3, Cr4, Efer, Pkru: 0, Ac: false, cpl, access, va);

    private static void Put(Span<byte> image, ulong pa, ulong value) =>
        BinaryPrimitives.WriteUInt64LittleEndian(image[(int)pa..], value);
}
