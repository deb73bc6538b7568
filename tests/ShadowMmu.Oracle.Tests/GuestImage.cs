using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using ShadowMmu.Oracle;

namespace ShadowMmu.Oracle.Tests;

/// <summary>
/// A hand-built guest-physical image: a root table at CR3, the harness code pages mapped, and helpers to
/// lay out the path of a test VA. Tables come from a bump allocator starting right after the root.
/// </summary>
internal sealed class GuestImage
{
    public const ulong P = 1UL << 0;
    public const ulong RW = 1UL << 1;
    public const ulong US = 1UL << 2;
    public const ulong A = 1UL << 5;
    public const ulong D = 1UL << 6;
    public const ulong PS = 1UL << 7;
    public const ulong XD = 1UL << 63;

    /// <summary>Present, writable, user: what every table pointer gets unless a test says otherwise.</summary>
    public const ulong Open = P | RW | US;

    private ulong nextPage;

    public GuestImage(OracleMode mode, int bytes = 1 << 20)
    {
        Mode = mode;
        Bytes = new byte[bytes];
        nextPage = 0x1000;
        Cr3 = AllocPage();
        CodeEntries = OracleGuestCode.MapCodePages(Bytes, mode, Cr3, AllocPage);
    }

    public OracleMode Mode { get; }

    public byte[] Bytes { get; }

    public ulong Cr3 { get; }

    /// <summary>The entries that map the harness code pages.</summary>
    public IReadOnlyList<ulong> CodeEntries { get; }

    public int EntrySize => Mode is OracleMode.Legacy32 or OracleMode.Legacy32Pse ? 4 : 8;

    public int TopLevel => Mode switch
    {
        OracleMode.Legacy32 or OracleMode.Legacy32Pse => 2,
        OracleMode.Pae => 3,
        OracleMode.Long4 => 4,
        _ => 5,
    };

    public ulong AllocPage()
    {
        ulong page = nextPage;
        nextPage += 0x1000;
        if (nextPage > (ulong)Bytes.Length)
        {
            throw new InvalidOperationException("The test image is full.");
        }

        return page;
    }

    /// <summary>
    /// Lays out the path of <paramref name="va"/> from the root down to <paramref name="leafLevel"/>
    /// (1 = PTE, 2 = PDE, 3 = PDPTE), creating missing tables with <paramref name="tableFlags"/> (PAE PDPTEs
    /// get P only), and stores <paramref name="leaf"/> as the leaf entry. Returns the guest-physical address
    /// of the entry at each level: <c>path[level]</c>.
    /// </summary>
    public ulong[] Map(ulong va, int leafLevel, ulong leaf, ulong tableFlags = Open)
    {
        var path = new ulong[TopLevel + 1];
        ulong table = Mode == OracleMode.Pae ? Cr3 & ~0x1FUL : Cr3 & ~0xFFFUL;
        for (int level = TopLevel; level >= leafLevel; level--)
        {
            ulong entryPa = EntryAddress(table, va, level);
            path[level] = entryPa;
            if (level == leafLevel)
            {
                Write(entryPa, leaf);
                break;
            }

            ulong entry = Read(entryPa);
            if ((entry & P) == 0)
            {
                ulong page = AllocPage();
                entry = page | (Mode == OracleMode.Pae && level == 3 ? P : tableFlags);
                Write(entryPa, entry);
            }

            table = entry & (EntrySize == 4 ? 0xFFFF_F000UL : 0x000F_FFFF_FFFF_F000UL);
        }

        return path;
    }

    public ulong EntryAddress(ulong table, ulong va, int level)
    {
        if (EntrySize == 4)
        {
            return table + (((va >> (12 + (10 * (level - 1)))) & 0x3FF) * 4);
        }

        ulong mask = Mode == OracleMode.Pae && level == 3 ? 3UL : 511UL;
        return table + (((va >> (12 + (9 * (level - 1)))) & mask) * 8);
    }

    public ulong Read(ulong pa) => EntrySize == 4
        ? BinaryPrimitives.ReadUInt32LittleEndian(Bytes.AsSpan((int)pa))
        : BinaryPrimitives.ReadUInt64LittleEndian(Bytes.AsSpan((int)pa));

    public void Write(ulong pa, ulong value)
    {
        if (EntrySize == 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan((int)pa), checked((uint)value));
        }
        else
        {
            BinaryPrimitives.WriteUInt64LittleEndian(Bytes.AsSpan((int)pa), value);
        }
    }

    public void Or(ulong pa, ulong bits) => Write(pa, Read(pa) | bits);

    public void Clear(ulong pa, ulong bits) => Write(pa, Read(pa) & ~bits);

    /// <summary>The update an access makes when it sets <paramref name="bits"/> in the entry at <paramref name="pa"/>.</summary>
    public OraclePteUpdate Sets(ulong pa, ulong bits) => new(pa, Read(pa), Read(pa) | bits, EntrySize);
}
