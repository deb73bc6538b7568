using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace ShadowMmu.Oracle;

/// <summary>
/// Guest page-table entries for the harness's two code pages (<see cref="QemuMmu.SupervisorCodeVa"/> and
/// <see cref="QemuMmu.UserCodeVa"/>), which every test image must contain: the guest runs its access from
/// there. Both are identity-mapped (VA == PA), present and writable, executable, the user page
/// user-accessible, and every entry on their paths has A set (and D in the leaves), so the code fetch
/// changes no byte of the image and does not pollute the A/D diff.
/// </summary>
public static class OracleGuestCode
{
    private const ulong AddressMask64 = 0x000F_FFFF_FFFF_F000;
    private const ulong AddressMask32 = 0xFFFF_F000;
    private const ulong PaePdptMask = 0xFFFF_FFE0;

    /// <summary>
    /// Installs the code pages' paths into <paramref name="image"/> for <paramref name="mode"/>, starting at
    /// <paramref name="cr3"/>. Missing tables come from <paramref name="allocTablePage"/> (a free, zeroed,
    /// 4 KiB-aligned page inside the image). Present entries already on the path are reused and get A set
    /// (not PAE PDPTEs, which have no A bit); they must be non-leaf, writable, user-accessible and not
    /// execute-disabled, or the guest code could not run, which throws <see cref="OracleException"/>.
    /// Returns the guest-physical address of every entry written or touched, so that a generator can keep
    /// its own walks off them.
    /// </summary>
    public static IReadOnlyList<ulong> MapCodePages(Span<byte> image, OracleMode mode, ulong cr3, Func<ulong> allocTablePage)
    {
        ArgumentNullException.ThrowIfNull(allocTablePage);
        var touched = new List<ulong>();
        foreach ((ulong va, bool user) in new[] { (QemuMmu.SupervisorCodeVa, false), (QemuMmu.UserCodeVa, true) })
        {
            MapOne(image, mode, cr3, va, user, allocTablePage, touched);
        }

        return touched;
    }

    private static void MapOne(
        Span<byte> image, OracleMode mode, ulong cr3, ulong va, bool user, Func<ulong> allocTablePage, List<ulong> touched)
    {
        Level[] levels = LevelsOf(mode);
        ulong table = mode switch
        {
            OracleMode.Legacy32 or OracleMode.Legacy32Pse => cr3 & AddressMask32,
            OracleMode.Pae => cr3 & PaePdptMask,
            _ => cr3 & AddressMask64,
        };

        for (int i = 0; i < levels.Length; i++)
        {
            Level level = levels[i];
            ulong entryPa = table + (((va >> level.Shift) & level.IndexMask) * (ulong)level.EntrySize);
            RequireInside(image, entryPa, level.EntrySize, "paging-structure entry");
            bool leaf = i == levels.Length - 1;
            ulong entry = Read(image, entryPa, level.EntrySize);

            if (leaf)
            {
                ulong wanted = va | X86Bits.Present | X86Bits.Writable | X86Bits.Accessed | X86Bits.Dirty | (user ? X86Bits.User : 0);
                if ((entry & X86Bits.Present) != 0 && entry != wanted)
                {
                    throw new OracleException(
                        $"The PTE at 0x{entryPa:X} for code page 0x{va:X} is present with 0x{entry:X}, not the identity entry 0x{wanted:X}.");
                }

                Write(image, entryPa, level.EntrySize, wanted);
            }
            else if ((entry & X86Bits.Present) != 0)
            {
                RequireUsable(entryPa, entry, level, va);
                if (!level.IsPaePdpte)
                {
                    Write(image, entryPa, level.EntrySize, entry | X86Bits.Accessed);
                }

                table = entry & (level.EntrySize == 4 ? AddressMask32 : AddressMask64);
            }
            else
            {
                ulong page = allocTablePage();
                if ((page & 0xFFF) != 0)
                {
                    throw new OracleException($"allocTablePage returned 0x{page:X}, which is not 4 KiB-aligned.");
                }

                RequireInside(image, page, 4096, "table page from allocTablePage");
                image.Slice((int)page, 4096).Clear();
                ulong flags = level.IsPaePdpte
                    ? X86Bits.Present
                    : X86Bits.Present | X86Bits.Writable | X86Bits.User | X86Bits.Accessed;
                Write(image, entryPa, level.EntrySize, page | flags);
                table = page;
            }

            if (!touched.Contains(entryPa))
            {
                touched.Add(entryPa);
            }
        }
    }

    private static void RequireUsable(ulong entryPa, ulong entry, Level level, ulong va)
    {
        string? problem = null;
        if (level.IsPaePdpte)
        {
            // No R/W, U/S or XD here: QEMU and the SDM agree that only P matters for access rights.
        }
        else if ((entry & X86Bits.PageSize) != 0)
        {
            problem = "has PS set (a large page or a reserved bit)";
        }
        else if ((entry & (X86Bits.Writable | X86Bits.User)) != (X86Bits.Writable | X86Bits.User))
        {
            problem = "is not both writable and user-accessible";
        }
        else if (level.EntrySize == 8 && (entry & X86Bits.ExecuteDisable) != 0)
        {
            problem = "has XD set";
        }

        if (problem is not null)
        {
            throw new OracleException(
                $"The entry 0x{entry:X} at 0x{entryPa:X} on the path of code page 0x{va:X} {problem}; the guest code could not run.");
        }
    }

    private static Level[] LevelsOf(OracleMode mode) => mode switch
    {
        OracleMode.Legacy32 or OracleMode.Legacy32Pse => [new(22, 0x3FF, 4), new(12, 0x3FF, 4)],
        OracleMode.Pae => [new(30, 3, 8, IsPaePdpte: true), new(21, 511, 8), new(12, 511, 8)],
        OracleMode.Long4 => [new(39, 511, 8), new(30, 511, 8), new(21, 511, 8), new(12, 511, 8)],
        OracleMode.Long5 => [new(48, 511, 8), new(39, 511, 8), new(30, 511, 8), new(21, 511, 8), new(12, 511, 8)],
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    private static void RequireInside(Span<byte> image, ulong pa, int size, string what)
    {
        if (pa + (ulong)size > (ulong)image.Length)
        {
            throw new OracleException($"The {what} at 0x{pa:X} lies outside the image (0x{image.Length:X} bytes).");
        }
    }

    private static ulong Read(Span<byte> image, ulong pa, int size) => size == 4
        ? BinaryPrimitives.ReadUInt32LittleEndian(image[(int)pa..])
        : BinaryPrimitives.ReadUInt64LittleEndian(image[(int)pa..]);

    private static void Write(Span<byte> image, ulong pa, int size, ulong value)
    {
        if (size == 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(image[(int)pa..], (uint)value);
        }
        else
        {
            BinaryPrimitives.WriteUInt64LittleEndian(image[(int)pa..], value);
        }
    }

    private readonly record struct Level(int Shift, ulong IndexMask, int EntrySize, bool IsPaePdpte = false);
}
