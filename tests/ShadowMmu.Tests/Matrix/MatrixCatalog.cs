using System;
using System.Collections.Generic;

namespace ShadowMmu.Tests.Matrix;

/// <summary>Entry bits as the SDM places them.</summary>
internal static class Flags
{
    public static readonly Flag P = new(Roles.P, 1UL << 0);
    public static readonly Flag W = new(Roles.W, 1UL << 1);
    public static readonly Flag U = new(Roles.U, 1UL << 2);
    public static readonly Flag A = new(Roles.A, 1UL << 5);
    public static readonly Flag D = new(Roles.D, 1UL << 6);
    public static readonly Flag Ps = new(Roles.Ps, 1UL << 7);
    public static readonly Flag Xd = new(Roles.Xd, 1UL << 63);
    public static readonly Flag Key = new(Roles.Key, SdmModel.KeyBits);
    public static readonly Flag Bit21 = new(Roles.Alt, 1UL << 21);

    /// <summary>IA-32e table pointer: 6, 8 (Intel), 11:9, 62:52 ignored.</summary>
    public static readonly Flag IgnLongTable = new(Roles.Ign, SdmModel.Bits(52, 62) | SdmModel.Bits(8, 11) | (1UL << 6));

    /// <summary>IA-32e 4 KiB leaf: 7 (PAT), 8 (G), 11:9, 58:52 — nothing a walk looks at.</summary>
    public static readonly Flag IgnLong4K = new(Roles.Ign, SdmModel.Bits(52, 58) | SdmModel.Bits(7, 11));

    /// <summary>PAE or 32-bit table pointer: 6, 8, 11:9.</summary>
    public static readonly Flag IgnTable = new(Roles.Ign, SdmModel.Bits(8, 11) | (1UL << 6));

    /// <summary>PAE or 32-bit 4 KiB leaf: 7 (PAT), 8 (G), 11:9.</summary>
    public static readonly Flag Ign4K = new(Roles.Ign, SdmModel.Bits(7, 11));

    /// <summary>32-bit 4 MiB leaf: 8 (G), 11:9, 12 (PAT). (For 2 MiB/1 GiB leaves the sweep sets these bits one by one.)</summary>
    public static readonly Flag IgnLarge = new(Roles.Ign, SdmModel.Bits(8, 12));

    /// <summary>PAE PDPTE: 11:9 ignored, 4:3 PWT/PCD.</summary>
    public static readonly Flag IgnPdpte = new(Roles.Ign, SdmModel.Bits(9, 11) | SdmModel.Bits(3, 4));

    public static Flag Rsvd(int bit) => new(Roles.Rsvd, 1UL << bit);
}

/// <summary>
/// The matrices, per mode and area. Each returns runs whose case counts the tests also state as constants.
/// Dimensions (in the spirit of kvm-unit-tests x86/access.c): every combination of the listed entry flags, processor
/// state bits and the 12 accesses (read/write/fetch x CPL 0/3 x EFLAGS.AC 0/1).
/// </summary>
internal static class MatrixCatalog
{
    /// <summary>Bit 51: reserved at MAXPHYADDR 40 in every IA-32e and PAE entry.</summary>
    public const int HighReserved = 51;

    private const StateBits AllRights = StateBits.Wp | StateBits.Smep | StateBits.Smap | StateBits.Nxe;
    private const StateBits AllKeys = StateBits.Pke | StateBits.PkAd | StateBits.PkWd;

    /// <summary>4 KiB leaf: every leaf flag x WP/SMEP/SMAP/NXE/PKE/PKRU.AD/PKRU.WD x accesses; table pointers permissive.</summary>
    public static MatrixRun Leaf4K(PagingKind kind)
    {
        MatrixLayout layout = MatrixLayout.For(kind);
        var run = new MatrixRun("4K leaf", layout, layout.Path(1)) { VaryState = AllRights | AllKeys };
        if (kind == PagingKind.Legacy32)
        {
            // No XD, no protection key, no reserved bit in a 32-bit PTE; CR4.PSE set (PDE PS = 0 still means a table).
            run.FixedState = StateBits.Pse;
            return run.VaryFlags(1, Flags.P, Flags.W, Flags.U, Flags.A, Flags.D, Flags.Ign4K);
        }

        // PAE: bits 62:59 are reserved (62:M), so the key flag must give a RSVD fault there.
        Flag ignored = kind == PagingKind.Pae ? Flags.Ign4K : Flags.IgnLong4K;
        return run.VaryFlags(1, Flags.P, Flags.W, Flags.U, Flags.Xd, Flags.A, Flags.D, Flags.Rsvd(HighReserved), Flags.Key, ignored);
    }

    /// <summary>
    /// One upper level's flags combined with the leaf's. Level 2 is the large run; the others (PDPTE, PML4E, PML5E,
    /// and the PAE PDPTE register) are smaller.
    /// </summary>
    public static MatrixRun Upper(PagingKind kind, int level)
    {
        MatrixLayout layout = MatrixLayout.For(kind);
        PathEntry[] path = layout.Path(1);
        int leaf = MatrixLayout.IndexOf(path, 1);
        if (SdmModel.IsLong(kind))
        {
            // The leaf carries key 11, so that PK faults depend on U/S of the upper level too.
            path[leaf].Value |= SdmModel.KeyBits;
            path[leaf].Roles |= Roles.Key;
        }

        var run = new MatrixRun(Name(kind, level) + " + PTE", layout, path);
        switch (kind, level)
        {
            case (PagingKind.Legacy32, 2):
                run.VaryState = AllRights | StateBits.Pke | StateBits.PkAd;
                run.FixedState = StateBits.Pse;
                run.VaryFlags(2, Flags.P, Flags.W, Flags.U, Flags.A, Flags.IgnTable);
                return run.VaryFlags(1, Flags.P, Flags.W, Flags.U);
            case (PagingKind.Pae, 2):
                run.VaryState = AllRights;
                run.VaryFlags(2, Flags.P, Flags.W, Flags.U, Flags.Xd, Flags.A, Flags.Rsvd(HighReserved), Flags.Key);
                return run.VaryFlags(1, Flags.P, Flags.W, Flags.U, Flags.Xd, Flags.Rsvd(HighReserved));
            case (PagingKind.Pae, 3):
                // The PDPTE register: P, and bits that are reserved there although they mean R/W, U/S, A, XD elsewhere.
                run.VaryState = AllRights;
                run.VaryFlags(3, Flags.P, Flags.W, Flags.U, Flags.A, Flags.Xd, Flags.Rsvd(HighReserved), Flags.IgnPdpte);
                return run.VaryFlags(1, Flags.W, Flags.U, Flags.Xd);
            case (_, 2):
                run.VaryState = AllRights | StateBits.Pke;
                run.FixedState = StateBits.PkAd;
                run.VaryFlags(2, Flags.P, Flags.W, Flags.U, Flags.Xd, Flags.A, Flags.Rsvd(HighReserved), Flags.IgnLongTable);
                return run.VaryFlags(1, Flags.P, Flags.W, Flags.U, Flags.Xd, Flags.Rsvd(HighReserved));
            case (_, 3 or 4 or 5) when SdmModel.IsLong(kind) && level <= layout.RootLevel:
                run.VaryState = AllRights | StateBits.Pke;
                run.FixedState = StateBits.PkAd;
                run.VaryFlags(level, Flags.P, Flags.W, Flags.U, Flags.Xd, Flags.A, Flags.Rsvd(HighReserved), Flags.IgnLongTable);
                return run.VaryFlags(1, Flags.W, Flags.U, Flags.Xd);
            default:
                throw new ArgumentOutOfRangeException(nameof(level), $"{kind} has no level {level} to vary");
        }
    }

    /// <summary>A large leaf: 2 MiB (PAE/IA-32e), 1 GiB (IA-32e, CPUID 1-GByte pages), 4 MiB (32-bit, CR4.PSE).</summary>
    public static MatrixRun Large(PagingKind kind, int level)
    {
        MatrixLayout layout = MatrixLayout.For(kind);
        string name = kind == PagingKind.Legacy32 ? "4M leaf" : level == 2 ? "2M leaf" : "1G leaf";
        var run = new MatrixRun(name, layout, layout.Path(level)) { VaryState = AllRights | AllKeys };
        switch (kind, level)
        {
            case (PagingKind.Legacy32, 2):
                // Bit 21 is reserved in a 4 MiB PDE at MAXPHYADDR 40 with PSE-36; bit 12 is PAT.
                run.FixedState = StateBits.Pse;
                return run.VaryFlags(2, Flags.P, Flags.W, Flags.U, Flags.A, Flags.D, Flags.Bit21, Flags.IgnLarge);
            case (_, 2):
                // CR4.PSE stays clear: PAE and IA-32e paging honour PS without it. Bit 20 (of 20:13) is reserved in a
                // 2 MiB page; the key bits are reserved in PAE.
                return run.VaryFlags(2, Flags.P, Flags.W, Flags.U, Flags.Xd, Flags.A, Flags.D, Flags.Rsvd(20), Flags.Key);
            case (_, 3) when SdmModel.IsLong(kind):
                // Bit 13 (of 29:13) is reserved in a 1 GiB page.
                run.FixedState = StateBits.Page1Gb;
                return run.VaryFlags(3, Flags.P, Flags.W, Flags.U, Flags.Xd, Flags.A, Flags.D, Flags.Rsvd(13), Flags.Key);
            default:
                throw new ArgumentOutOfRangeException(nameof(level), $"{kind} has no large page at level {level}");
        }
    }

    /// <summary>PS in a PDPTE without CPUID 1-GByte pages: a reserved bit (unless the PDPTE is not present).</summary>
    public static MatrixRun Page1GbMissing(PagingKind kind)
    {
        MatrixLayout layout = MatrixLayout.For(kind);
        var run = new MatrixRun("1G leaf, no CPUID.1GB", layout, layout.Path(3)) { VaryState = AllRights | StateBits.Pke | StateBits.PkAd };
        return run.VaryFlags(3, Flags.P, Flags.W, Flags.U, Flags.Xd, Flags.A, Flags.D, Flags.Key);
    }

    /// <summary>
    /// 32-bit paging, PDE with PS = 1, CR4.PSE on and off: with PSE on it maps a 4 MiB page (its address bits 20:13 are
    /// physical bits 39:32, bit 21 reserved); with PSE off PS is ignored, the PDE points to a page table, and bit 21 is
    /// an address bit that selects a second page table.
    /// </summary>
    public static MatrixRun PseToggle()
    {
        MatrixLayout layout = MatrixLayout.For(PagingKind.Legacy32);
        PathEntry[] path = layout.Path(1);
        path[0].Value |= MatrixLayout.PsBit;
        path[0].Roles |= Roles.Ps;
        var run = new MatrixRun("PDE.PS with CR4.PSE 0/1", layout, path) { VaryState = AllRights | StateBits.Pse };
        run.VaryFlags(2, Flags.P, Flags.W, Flags.U, Flags.A, Flags.D, Flags.Bit21);
        return run.VaryFlags(1, Flags.P, Flags.W, Flags.U);
    }

    /// <summary>
    /// Every bit of every entry kind, set alone in an otherwise permissive path, at MAXPHYADDR 36, 40 and 52 (32-bit
    /// paging also 32; 4 MiB pages also without PSE-36), EFER.NXE 0/1, CR0.WP = 1, all 12 accesses. Bits that are the
    /// address of the next table, P, and the PS bit that makes the entry what it is, are not swept.
    /// </summary>
    public static List<MatrixRun> Sweep(PagingKind kind)
    {
        var runs = new List<MatrixRun>();
        MatrixLayout layout = MatrixLayout.For(kind);
        int width = kind == PagingKind.Legacy32 ? 32 : 64;
        // MAXPHYADDR 32 only for 32-bit paging: the other layouts put frames above 4 GiB.
        int[] widths = kind == PagingKind.Legacy32 ? new[] { 32, 36, 40, 52 } : new[] { 36, 40, 52 };
        foreach (int m in widths)
        {
            foreach ((int level, int leafLevel, StateBits fixedState) in SweepTargets(kind))
            {
                PathEntry[] path = layout.Path(leafLevel);
                if (kind == PagingKind.Legacy32 && ((fixedState & StateBits.NoPse36) != 0 || m == 32))
                {
                    // Without PSE-36 (or at MAXPHYADDR 32) a 4 MiB page lies below 4 GiB: drop the frame's bits 39:32 (PDE bits 20:13).
                    path[^1].Value &= ~SdmModel.Bits(13, 20);
                }

                for (int bit = 0; bit < width; bit++)
                {
                    Roles role = SweepRole(kind, level, leafLevel, bit, m, (fixedState & StateBits.NoPse36) == 0, (fixedState & StateBits.Pse) != 0, out bool skip);
                    if (skip)
                    {
                        continue;
                    }

                    string target = level == leafLevel ? $"leaf {level}" : $"level {level}";
                    var run = new MatrixRun($"sweep {target}/{leafLevel} bit {bit}", layout, path)
                    {
                        VaryState = StateBits.Nxe,
                        FixedState = fixedState | StateBits.Wp,
                        MaxPhysAddr = m,
                    };
                    runs.Add(run.VaryFlags(level, new Flag(role, 1UL << bit)));
                }
            }
        }

        return runs;
    }

    private static IEnumerable<(int Level, int LeafLevel, StateBits Fixed)> SweepTargets(PagingKind kind)
    {
        switch (kind)
        {
            case PagingKind.Legacy32:
                yield return (2, 1, StateBits.Pse);
                yield return (2, 1, StateBits.None);
                yield return (1, 1, StateBits.Pse);
                yield return (2, 2, StateBits.Pse);
                yield return (2, 2, StateBits.Pse | StateBits.NoPse36);
                break;
            case PagingKind.Pae:
                yield return (3, 1, StateBits.None);
                yield return (2, 1, StateBits.None);
                yield return (1, 1, StateBits.None);
                yield return (2, 2, StateBits.None);
                break;
            default:
                for (int level = kind == PagingKind.Long5 ? 5 : 4; level >= 1; level--)
                {
                    yield return (level, 1, StateBits.Page1Gb);
                }

                yield return (2, 2, StateBits.Page1Gb);
                yield return (3, 3, StateBits.Page1Gb);
                break;
        }
    }

    /// <summary>What the SDM's entry-format tables say bit <paramref name="bit"/> is.</summary>
    private static Roles SweepRole(PagingKind kind, int level, int leafLevel, int bit, int m, bool pse36, bool pse, out bool skip)
    {
        skip = false;
        bool leaf = level == leafLevel;
        if (bit == 0)
        {
            skip = true;
            return Roles.None;
        }

        if (kind == PagingKind.Legacy32)
        {
            switch (bit)
            {
                case 1: return Roles.W;
                case 2: return Roles.U;
                case 3 or 4: return Roles.None; // PWT, PCD
                case 5: return Roles.A;
                case 6: return leaf ? Roles.D : Roles.Ign;
                case 7:
                    // PAT in a PTE; PS of the PDE itself; PS of a table-pointing PDE is ignored only when CR4.PSE = 0.
                    skip = leafLevel == 2 || (level == 2 && pse);
                    return level == 1 ? Roles.None : Roles.Ign;
                case >= 8 and <= 11: return Roles.Ign; // G (leaf) or ignored
            }

            if (!leaf || level == 1)
            {
                skip = !leaf; // table address
                return Roles.None; // 4 KiB frame address
            }

            // 4 MiB PDE: 12 PAT; 20:13 physical bits 39:32 below M' = min(M, 40) with PSE-36; 21 reserved.
            if (bit == 12)
            {
                return Roles.None;
            }

            if (bit <= 21)
            {
                int mPrime = pse36 ? Math.Min(m, 40) : 32;
                return bit + 19 < mPrime ? Roles.None : Roles.Rsvd;
            }

            return Roles.None;
        }

        bool pae = kind == PagingKind.Pae;
        if (pae && level == 3)
        {
            // PDPTE register: 2:1, 8:5 and 63:M reserved; 4:3 PWT/PCD; 11:9 ignored; M-1:12 the directory.
            return bit switch
            {
                1 or 2 or (>= 5 and <= 8) => Roles.Rsvd,
                3 or 4 => Roles.None,
                >= 9 and <= 11 => Roles.Ign,
                _ when bit >= m => Roles.Rsvd,
                _ => Skip(out skip),
            };
        }

        switch (bit)
        {
            case 1: return Roles.W;
            case 2: return Roles.U;
            case 3 or 4: return Roles.None;
            case 5: return Roles.A;
            case 6: return leaf ? Roles.D : Roles.Ign;
            case 7:
                if (leaf && level == 1)
                {
                    return Roles.None; // PAT
                }

                if (!pae && level >= 4)
                {
                    return Roles.Rsvd; // PML4E/PML5E bit 7
                }

                skip = true; // PS itself
                return Roles.None;
            case >= 8 and <= 11: return Roles.Ign;
            case 63: return Roles.Xd;
        }

        if (bit >= 52)
        {
            // PAE: 62:52 reserved. IA-32e: 58:52 ignored, 62:59 the protection key in a leaf (PKE is off here), ignored above.
            return pae ? Roles.Rsvd : Roles.Ign;
        }

        if (bit >= m)
        {
            return Roles.Rsvd;
        }

        int frameLow = leafLevel switch { 1 => 12, 2 => 21, _ => 30 };
        if (!leaf)
        {
            skip = true; // next table's address
            return Roles.None;
        }

        if (bit >= frameLow)
        {
            return Roles.None; // frame address
        }

        // Below the frame of a large page: 12 is PAT, 13 up to the frame is reserved.
        return bit == 12 ? Roles.None : Roles.Rsvd;
    }

    private static Roles Skip(out bool skip)
    {
        skip = true;
        return Roles.None;
    }

    private static string Name(PagingKind kind, int level) => level switch
    {
        5 => "PML5E",
        4 => "PML4E",
        3 => kind == PagingKind.Pae ? "PDPTE register" : "PDPTE",
        _ => "PDE",
    };
}
