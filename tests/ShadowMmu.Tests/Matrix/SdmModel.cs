using System;
using System.Text;

namespace ShadowMmu.Tests.Matrix;

/// <summary>The four paging modes the matrix knows, written out here rather than taken from the specs.</summary>
internal enum PagingKind
{
    Legacy32,
    Pae,
    Long4,
    Long5,
}

/// <summary>
/// What the bits a case sets in one entry mean, as the Intel SDM defines them. The expectation is computed from
/// these roles (and from the entry value only for the frame address), never from the walker or the specs.
/// </summary>
[Flags]
internal enum Roles : ushort
{
    None = 0,

    /// <summary>Bit 0.</summary>
    P = 1 << 0,

    /// <summary>Bit 1, R/W.</summary>
    W = 1 << 1,

    /// <summary>Bit 2, U/S.</summary>
    U = 1 << 2,

    /// <summary>Bit 63, XD (a reserved bit when EFER.NXE = 0).</summary>
    Xd = 1 << 3,

    /// <summary>Bit 5.</summary>
    A = 1 << 4,

    /// <summary>Bit 6 (dirty in a leaf, ignored in a table pointer).</summary>
    D = 1 << 5,

    /// <summary>A bit the case chose because the SDM reserves it in this entry (MAXPHYADDR bits, 20:13 of a 2 MiB page, ...).</summary>
    Rsvd = 1 << 6,

    /// <summary>Bits 62:59 = <see cref="SdmModel.Key"/> (a protection key in an IA-32e leaf, ignored in an IA-32e table pointer, reserved in PAE).</summary>
    Key = 1 << 7,

    /// <summary>Bits the SDM calls ignored in this entry.</summary>
    Ign = 1 << 8,

    /// <summary>Bit 7 (page size; reserved in PML4E/PML5E and, without 1-GByte pages, in a PDPTE).</summary>
    Ps = 1 << 9,

    /// <summary>Bit 21 of a 32-bit PDE with PS = 1: reserved in a 4 MiB page, an address bit when CR4.PSE = 0.</summary>
    Alt = 1 << 10,
}

/// <summary>Processor state a case varies.</summary>
[Flags]
internal enum StateBits : ushort
{
    None = 0,
    Wp = 1 << 0,
    Smep = 1 << 1,
    Smap = 1 << 2,
    Nxe = 1 << 3,
    Pke = 1 << 4,

    /// <summary>PKRU access-disable for the key under test.</summary>
    PkAd = 1 << 5,

    /// <summary>PKRU write-disable for the key under test.</summary>
    PkWd = 1 << 6,
    Pse = 1 << 7,

    /// <summary>CPUID 1-GByte pages.</summary>
    Page1Gb = 1 << 8,

    /// <summary>CPUID without PSE-36.</summary>
    NoPse36 = 1 << 9,
}

/// <summary>One entry on the path a case lays out (root first).</summary>
internal struct PathEntry
{
    public int Level;
    public ulong Gpa;
    public ulong Value;
    public Roles Roles;

    /// <summary>A PAE PDPTE: loaded into a register when the walker is built, never written by a walk.</summary>
    public bool Register;

    /// <summary>Level-1 entries of 32-bit paging only: null = the only one; true/false = reached with/without PDE bit 21.</summary>
    public bool? Alternate;

    public readonly string Name() => Level switch
    {
        5 => "PML5E",
        4 => "PML4E",
        3 => "PDPTE",
        2 => "PDE",
        _ => Alternate == true ? "PTE'" : "PTE",
    };
}

/// <summary>One access: kind, CPL, EFLAGS.AC.</summary>
internal readonly record struct MatrixAccess(AccessKind Kind, int Cpl, bool Ac)
{
    public static readonly MatrixAccess[] All = Build();

    private static MatrixAccess[] Build()
    {
        var all = new MatrixAccess[12];
        int i = 0;
        foreach (AccessKind kind in new[] { AccessKind.Read, AccessKind.Write, AccessKind.Fetch })
        {
            foreach (int cpl in new[] { 0, 3 })
            {
                foreach (bool ac in new[] { false, true })
                {
                    all[i++] = new MatrixAccess(kind, cpl, ac);
                }
            }
        }

        return all;
    }

    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()} CPL{Cpl}{(Ac ? " AC" : string.Empty)}";
}

/// <summary>The outcome the SDM prescribes.</summary>
internal struct Outcome
{
    public WalkFault Fault;
    public uint ErrorCode;

    /// <summary>Level the walk stopped at (fault) or the leaf level (translation).</summary>
    public int Level;
    public ulong Pa;
    public ulong PageSize;
    public uint Access;

    /// <summary>Protection key to compare, or -1 when the mode/state gives none to compare.</summary>
    public int Key;

    /// <summary>Path indices (bit i = path[i]) whose entry was used by the translation.</summary>
    public int Walked;

    /// <summary>Path index of the leaf, -1 on a fault.</summary>
    public int Leaf;
}

/// <summary>
/// Expected results of a guest page walk computed from Intel SDM Vol. 3A, ch. "Paging" (sections "Access Rights",
/// "Protection Keys", "Page-Fault Exceptions", "Accessed and Dirty Flags", the entry-format tables), in the style of
/// kvm-unit-tests x86/access.c <c>ac_test_check</c>: from the flags a case sets, not from any walker.
/// </summary>
internal static class SdmModel
{
    /// <summary>The non-zero protection key a case puts in bits 62:59 (0b1011: bits 59, 60 and 62).</summary>
    public const int Key = 11;

    public const ulong KeyBits = (ulong)Key << 59;

    public static bool IsLong(PagingKind kind) => kind is PagingKind.Long4 or PagingKind.Long5;

    public static ulong Bits(int lo, int hi) => hi < lo ? 0 : (hi >= 63 ? ulong.MaxValue : (1UL << (hi + 1)) - 1) & ~((1UL << lo) - 1);

    /// <summary>
    /// PKRU for a state: AD/WD of the key under test as the state says (key <see cref="Key"/> in IA-32e modes, key 0
    /// elsewhere, where a walker wrongly applying keys would find 0), and AD|WD for every key other than 0 and
    /// <see cref="Key"/>, so that reading the key from the wrong bits shows.
    /// </summary>
    public static uint Pkru(PagingKind kind, StateBits state)
    {
        int target = IsLong(kind) ? Key : 0;
        uint pkru = 0;
        for (int k = 0; k < 16; k++)
        {
            if (k != 0 && k != Key)
            {
                pkru |= 3u << (2 * k);
            }
        }

        if ((state & StateBits.PkAd) != 0)
        {
            pkru |= 1u << (2 * target);
        }

        if ((state & StateBits.PkWd) != 0)
        {
            pkru |= 2u << (2 * target);
        }

        return pkru;
    }

    /// <summary>The processor state for a case. CR3's bits 4:3 (PWT/PCD, ignored by PAE) are set so that masking them is tested.</summary>
    public static CpuState Cpu(PagingKind kind, StateBits state, ulong root, int maxPhysAddr)
    {
        ulong cr0 = Cr0.PE | Cr0.PG | ((state & StateBits.Wp) != 0 ? Cr0.WP : 0);
        ulong cr4 = (state & StateBits.Pse) != 0 ? Cr4.PSE : 0;
        cr4 |= kind != PagingKind.Legacy32 ? Cr4.PAE : 0;
        cr4 |= kind == PagingKind.Long5 ? Cr4.LA57 : 0;
        cr4 |= (state & StateBits.Smep) != 0 ? Cr4.SMEP : 0;
        cr4 |= (state & StateBits.Smap) != 0 ? Cr4.SMAP : 0;
        cr4 |= (state & StateBits.Pke) != 0 ? Cr4.PKE : 0;
        ulong efer = IsLong(kind) ? Efer.LME | Efer.LMA : 0;
        efer |= (state & StateBits.Nxe) != 0 ? Efer.NXE : 0;
        CpuFeatures features = CpuFeatures.All;
        if ((state & StateBits.Page1Gb) == 0)
        {
            features &= ~CpuFeatures.Page1Gb;
        }

        if ((state & StateBits.NoPse36) != 0)
        {
            features &= ~CpuFeatures.Pse36;
        }

        return new CpuState(cr0, root | 0x18, cr4, efer, Pkru(kind, state), maxPhysAddr, features);
    }

    /// <summary>
    /// The SDM's answer for an access to <paramref name="va"/> through <paramref name="path"/> (root first; entries
    /// after the leaf are ignored).
    /// </summary>
    public static Outcome Expect(PagingKind kind, ReadOnlySpan<PathEntry> path, StateBits state, int maxPhysAddr, MatrixAccess access, ulong va)
    {
        bool isLong = IsLong(kind);
        bool nxe = (state & StateBits.Nxe) != 0;
        bool wp = (state & StateBits.Wp) != 0;
        bool smep = (state & StateBits.Smep) != 0;
        bool smap = (state & StateBits.Smap) != 0;

        // PKE has effect only in IA-32e mode (SDM "Protection Keys").
        bool pke = (state & StateBits.Pke) != 0 && isLong;
        bool pse = (state & StateBits.Pse) != 0;
        bool gb = (state & StateBits.Page1Gb) != 0;
        bool write = access.Kind == AccessKind.Write;
        bool fetch = access.Kind == AccessKind.Fetch;
        bool user = access.Cpl == 3;

        // Error-code bits every #PF of this access carries. I/D: fetch and (SMEP or (PAE/IA-32e paging and NXE)).
        uint ec = (write ? PageFaultErrorCode.Write : 0) | (user ? PageFaultErrorCode.User : 0);
        if (fetch && (smep || (kind != PagingKind.Legacy32 && nxe)))
        {
            ec |= PageFaultErrorCode.Fetch;
        }

        var outcome = new Outcome { Key = -1, Leaf = -1 };

        // PAE: the PDPTE registers are loaded when CR3 is; a present PDPTE with a reserved bit fails that load, #GP(0).
        // (Only the PDPTE of this case can be present: the other three are zero.)
        foreach (PathEntry e in path)
        {
            const Roles pdpteReserved = Roles.W | Roles.U | Roles.A | Roles.D | Roles.Xd | Roles.Rsvd | Roles.Key | Roles.Ps;
            if (e.Register && (e.Roles & Roles.P) != 0 && (e.Roles & pdpteReserved) != 0)
            {
                outcome.Fault = WalkFault.GeneralProtection;
                return outcome;
            }
        }

        bool writable = true, userAddr = true, xd = false;
        bool alternate = false;
        int walked = 0;
        for (int i = 0; i < path.Length; i++)
        {
            PathEntry e = path[i];
            if (e.Alternate.HasValue && e.Alternate.Value != alternate)
            {
                continue;
            }

            Roles r = e.Roles;
            if ((r & Roles.P) == 0)
            {
                return Fault(ref outcome, e.Level, ec);
            }

            if (e.Register)
            {
                // No R/W, U/S, XD or A in a PAE PDPTE (reserved bits were handled above).
                continue;
            }

            walked |= 1 << i;
            bool ps = (r & Roles.Ps) != 0;
            bool leaf = e.Level == 1
                || (ps && e.Level == 2 && (kind != PagingKind.Legacy32 || pse))
                || (ps && e.Level == 3 && isLong && gb);

            bool reserved = (r & Roles.Rsvd) != 0
                || ((r & Roles.Xd) != 0 && kind != PagingKind.Legacy32 && !nxe)
                || ((r & Roles.Key) != 0 && kind == PagingKind.Pae)
                || (ps && isLong && e.Level >= 4)
                || (ps && isLong && e.Level == 3 && !gb)
                || ((r & Roles.Alt) != 0 && leaf);
            if (reserved)
            {
                return Fault(ref outcome, e.Level, ec | PageFaultErrorCode.Present | PageFaultErrorCode.Reserved);
            }

            writable &= (r & Roles.W) != 0;
            userAddr &= (r & Roles.U) != 0;
            xd |= (r & Roles.Xd) != 0 && kind != PagingKind.Legacy32 && nxe;
            if (!leaf)
            {
                alternate = kind == PagingKind.Legacy32 && e.Level == 2 && (r & Roles.Alt) != 0;
                continue;
            }

            // Access rights (SDM "Determination of Access Rights").
            bool rightsFault;
            if (fetch)
            {
                rightsFault = xd || (user ? !userAddr : smep && userAddr);
            }
            else if (user)
            {
                rightsFault = !userAddr || (write && !writable);
            }
            else
            {
                // Explicit supervisor data access: R/W counts with CR0.WP; SMAP unless EFLAGS.AC.
                rightsFault = (write && wp && !writable) || (smap && userAddr && !access.Ac);
            }

            // Protection keys: data accesses to user-mode addresses.
            int key = isLong && (r & Roles.Key) != 0 ? Key : 0;
            bool pkFault = false;
            if (pke && !fetch && userAddr)
            {
                uint pkru = Pkru(kind, state);
                bool ad = ((pkru >> (2 * key)) & 1) != 0;
                bool wd = ((pkru >> (2 * key + 1)) & 1) != 0;
                pkFault = ad || (wd && write && (user || wp));
            }

            if (rightsFault || pkFault)
            {
                return Fault(ref outcome, e.Level, ec | PageFaultErrorCode.Present | (pkFault ? PageFaultErrorCode.ProtectionKey : 0));
            }

            ulong size = PageSize(kind, e.Level);
            ulong linear = kind is PagingKind.Legacy32 or PagingKind.Pae ? va & 0xFFFF_FFFF : va;
            outcome.Fault = WalkFault.None;
            outcome.Level = e.Level;
            outcome.PageSize = size;
            outcome.Pa = FrameOf(kind, e.Level, e.Value, maxPhysAddr, (state & StateBits.NoPse36) == 0) | (linear & (size - 1));
            outcome.Access = (userAddr ? AccessRights.User : 0) | (writable ? AccessRights.Write : 0) | (xd ? 0 : AccessRights.Execute);
            outcome.Key = pke ? key : -1;
            outcome.Walked = walked;
            outcome.Leaf = i;
            return outcome;
        }

        throw new InvalidOperationException("The path has no leaf.");
    }

    public static ulong PageSize(PagingKind kind, int level) => level switch
    {
        1 => 1UL << 12,
        2 => kind == PagingKind.Legacy32 ? 1UL << 22 : 1UL << 21,
        3 => 1UL << 30,
        _ => throw new ArgumentOutOfRangeException(nameof(level)),
    };

    /// <summary>The page frame a leaf maps (SDM entry-format tables; PSE-36 with M' = min(MAXPHYADDR, 40)).</summary>
    public static ulong FrameOf(PagingKind kind, int level, ulong value, int maxPhysAddr, bool pse36)
    {
        if (kind == PagingKind.Legacy32)
        {
            if (level == 1)
            {
                return value & 0xFFFF_F000;
            }

            int highBits = pse36 ? Math.Min(maxPhysAddr, 40) - 32 : 0;
            return (value & 0xFFC0_0000) | (((value >> 13) & ((1UL << highBits) - 1)) << 32);
        }

        int low = level switch { 1 => 12, 2 => 21, _ => 30 };
        return value & Bits(low, maxPhysAddr - 1);
    }

    /// <summary>Encodes a 4 MiB frame (up to 40 bits) into a 32-bit PDE.</summary>
    public static ulong Encode4M(ulong pa) => (pa & 0xFFC0_0000) | (((pa >> 32) & 0xFF) << 13);

    private static Outcome Fault(ref Outcome outcome, int level, uint ec)
    {
        outcome.Fault = WalkFault.PageFault;
        outcome.ErrorCode = ec;
        outcome.Level = level;
        return outcome;
    }

    public static string Describe(uint ec)
    {
        var sb = new StringBuilder();
        sb.Append("0x").Append(ec.ToString("x"));
        sb.Append(" [");
        sb.Append((ec & PageFaultErrorCode.Present) != 0 ? "P" : "np");
        if ((ec & PageFaultErrorCode.Write) != 0)
        {
            sb.Append(" W");
        }

        if ((ec & PageFaultErrorCode.User) != 0)
        {
            sb.Append(" U");
        }

        if ((ec & PageFaultErrorCode.Reserved) != 0)
        {
            sb.Append(" RSVD");
        }

        if ((ec & PageFaultErrorCode.Fetch) != 0)
        {
            sb.Append(" I/D");
        }

        if ((ec & PageFaultErrorCode.ProtectionKey) != 0)
        {
            sb.Append(" PK");
        }

        return sb.Append(']').ToString();
    }

    public static string Describe(Roles roles)
    {
        if (roles == Roles.None)
        {
            return "-";
        }

        var sb = new StringBuilder();
        foreach (Roles r in Enum.GetValues<Roles>())
        {
            if (r != Roles.None && (roles & r) != 0)
            {
                if (sb.Length > 0)
                {
                    sb.Append(' ');
                }

                sb.Append(r switch
                {
                    Roles.Xd => "XD",
                    Roles.Rsvd => "RSVD",
                    Roles.Key => "PKEY" + Key,
                    Roles.Ign => "IGN",
                    Roles.Ps => "PS",
                    Roles.Alt => "BIT21",
                    _ => r.ToString(),
                });
            }
        }

        return sb.ToString();
    }

    public static string Describe(PagingKind kind, StateBits state, int maxPhysAddr)
    {
        var sb = new StringBuilder();
        foreach (StateBits s in Enum.GetValues<StateBits>())
        {
            if (s != StateBits.None && (state & s) != 0)
            {
                if (sb.Length > 0)
                {
                    sb.Append(' ');
                }

                sb.Append(s switch
                {
                    StateBits.Wp => "CR0.WP",
                    StateBits.Smep => "CR4.SMEP",
                    StateBits.Smap => "CR4.SMAP",
                    StateBits.Nxe => "EFER.NXE",
                    StateBits.Pke => "CR4.PKE",
                    StateBits.PkAd => "PKRU.AD",
                    StateBits.PkWd => "PKRU.WD",
                    StateBits.Pse => "CR4.PSE",
                    StateBits.Page1Gb => "CPUID.1GB",
                    StateBits.NoPse36 => "no-PSE36",
                    _ => s.ToString(),
                });
            }
        }

        if (sb.Length == 0)
        {
            sb.Append("all clear");
        }

        sb.Append($" (PKRU 0x{Pkru(kind, state):x8}, MAXPHYADDR {maxPhysAddr})");
        return sb.ToString();
    }
}
