using System;
using System.Collections.Generic;

namespace ShadowMmu.Tests.Matrix;

/// <summary>
/// Where the matrix puts its tables and which address it walks, per mode. Indices are computed here from the SDM
/// index fields, independently of the specs and of <see cref="PageTableBuilder"/>. Every index is non-zero and the
/// IA-32e addresses are in the upper (sign-extended) half, so that index, canonical and CR3 masking bugs show.
/// </summary>
internal sealed class MatrixLayout
{
    /// <summary>Guest memory each test allocates: the tables sit below 16 MiB.</summary>
    public const ulong MemorySize = 16UL << 20;

    public const ulong Pwu = 0x7;
    public const ulong PsBit = 1UL << 7;

    private readonly Dictionary<int, ulong> _tables = new();

    private MatrixLayout(PagingKind kind)
    {
        Kind = kind;
        switch (kind)
        {
            case PagingKind.Legacy32:
                EntryBytes = 4;
                RootLevel = 2;
                Va = (0x2B5UL << 22) | (0x1C7UL << 12) | 0x9A4;
                _tables[2] = 0x0012_3000;
                _tables[1] = 0x00C0_5000;
                AltTable = 0x00E0_5000; // PT address with PDE bit 21 set
                Frame4K = 0xABCD_E000;
                AltFrame4K = 0x5A5A_5000;
                FrameLarge = 0x3_B7C0_0000; // 4 MiB page above 4 GiB through PSE-36
                break;
            case PagingKind.Pae:
                EntryBytes = 8;
                RootLevel = 3;
                Va = (2UL << 30) | (0x15AUL << 21) | (0x0C3UL << 12) | 0x7E1;
                _tables[3] = 0x0012_3FE0; // 32-byte aligned PDPT inside a page
                _tables[2] = 0x0034_5000;
                _tables[1] = 0x0056_7000;
                Frame4K = 0x9_8765_4000;
                FrameLarge = 0x7_6540_0000;
                break;
            case PagingKind.Long4:
                EntryBytes = 8;
                RootLevel = 4;
                Va = 0xFFFF_0000_0000_0000UL | (0x1A3UL << 39) | (0x0B7UL << 30) | (0x15AUL << 21) | (0x0C3UL << 12) | 0x7E1;
                _tables[4] = 0x0012_3000;
                _tables[3] = 0x0034_5000;
                _tables[2] = 0x0056_7000;
                _tables[1] = 0x0078_9000;
                Frame4K = 0x9_8765_4000;
                FrameLarge = 0x7_6540_0000;
                Frame1G = 0x5_4000_0000;
                break;
            case PagingKind.Long5:
                EntryBytes = 8;
                RootLevel = 5;
                Va = 0xFE00_0000_0000_0000UL | (0x1E9UL << 48) | (0x0A3UL << 39) | (0x0B7UL << 30) | (0x15AUL << 21) | (0x0C3UL << 12) | 0x7E1;
                _tables[5] = 0x0012_3000;
                _tables[4] = 0x009A_B000;
                _tables[3] = 0x0034_5000;
                _tables[2] = 0x0056_7000;
                _tables[1] = 0x0078_9000;
                Frame4K = 0x9_8765_4000;
                FrameLarge = 0x7_6540_0000;
                Frame1G = 0x5_4000_0000;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    public PagingKind Kind { get; }

    public string ModeName => Kind switch
    {
        PagingKind.Legacy32 => "legacy32",
        PagingKind.Pae => "pae",
        PagingKind.Long4 => "long4",
        _ => "long5",
    };

    public int EntryBytes { get; }

    public int RootLevel { get; }

    public ulong Va { get; }

    /// <summary>CR3's table address.</summary>
    public ulong Root => _tables[RootLevel];

    public ulong AltTable { get; }

    public ulong Frame4K { get; }

    public ulong AltFrame4K { get; }

    /// <summary>The 4 MiB (32-bit) or 2 MiB frame.</summary>
    public ulong FrameLarge { get; }

    public ulong Frame1G { get; }

    public static MatrixLayout For(string mode) => For(Parse(mode));

    public static MatrixLayout For(PagingKind kind) => new(kind);

    public static PagingKind Parse(string mode) => mode switch
    {
        "legacy32" => PagingKind.Legacy32,
        "pae" => PagingKind.Pae,
        "long4" => PagingKind.Long4,
        "long5" => PagingKind.Long5,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    public int Index(int level)
    {
        if (Kind == PagingKind.Legacy32)
        {
            return (int)((Va >> (12 + (10 * (level - 1)))) & 0x3FF);
        }

        if (Kind == PagingKind.Pae && level == 3)
        {
            return (int)((Va >> 30) & 3);
        }

        return (int)((Va >> (12 + (9 * (level - 1)))) & 0x1FF);
    }

    public ulong EntryGpa(int level) => _tables[level] + ((ulong)Index(level) * (ulong)EntryBytes);

    /// <summary>
    /// The permissive path to a leaf at <paramref name="leafLevel"/>: table pointers P|R/W|U/S with A clear (so a
    /// translation must set A in each), the leaf P|R/W|U/S with A and D clear. For 32-bit paging with a 4 KiB leaf the
    /// path also holds the level-1 entry of the table that PDE bit 21 selects (<see cref="PathEntry.Alternate"/>).
    /// </summary>
    public PathEntry[] Path(int leafLevel)
    {
        var path = new List<PathEntry>();
        for (int level = RootLevel; level >= leafLevel; level--)
        {
            var e = new PathEntry { Level = level, Gpa = EntryGpa(level) };
            if (level == leafLevel)
            {
                e.Value = Pwu | Frame(level);
                e.Roles = Roles.P | Roles.W | Roles.U;
                if (level > 1)
                {
                    e.Value |= PsBit;
                    e.Roles |= Roles.Ps;
                }
            }
            else if (Kind == PagingKind.Pae && level == 3)
            {
                e.Value = 1 | _tables[2];
                e.Roles = Roles.P;
                e.Register = true;
            }
            else
            {
                e.Value = Pwu | _tables[level - 1];
                e.Roles = Roles.P | Roles.W | Roles.U;
            }

            if (Kind == PagingKind.Legacy32 && level == 1)
            {
                e.Alternate = false;
                path.Add(e);
                e.Alternate = true;
                e.Gpa = AltTable + ((ulong)Index(1) * 4);
                e.Value = Pwu | AltFrame4K;
            }

            path.Add(e);
        }

        return path.ToArray();
    }

    private ulong Frame(int level) => (Kind, level) switch
    {
        (_, 1) => Frame4K,
        (PagingKind.Legacy32, 2) => SdmModel.Encode4M(FrameLarge),
        (_, 2) => FrameLarge,
        _ => Frame1G,
    };

    /// <summary>Path index of <paramref name="level"/> (the primary entry for level 1).</summary>
    public static int IndexOf(PathEntry[] path, int level) => Array.FindIndex(path, e => e.Level == level);
}
