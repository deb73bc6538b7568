using System.Linq;

namespace ShadowMmu.Tests.Matrix.Ept;

/// <summary>The processor state an EPT walk depends on, as the matrix varies it.</summary>
internal readonly record struct EptState(bool ExecuteOnly, bool ModeBasedExecute, bool AccessedDirty, bool Page1Gb, int MaxPhysAddr = 40)
{
    public CpuState ToCpu(ulong root, int levels) => new(
        0, 0, 0, 0,
        MaxPhysAddr: MaxPhysAddr,
        Features: CpuFeatures.All & ~((ExecuteOnly ? 0 : CpuFeatures.EptExecuteOnly) | (Page1Gb ? 0 : CpuFeatures.EptPage1Gb)),
        Eptp: EptPointer.Make(root, levels, AccessedDirty),
        ModeBasedExecute: ModeBasedExecute);

    public override string ToString() =>
        $"execonly={(ExecuteOnly ? 1 : 0)} mbec={(ModeBasedExecute ? 1 : 0)} ad={(AccessedDirty ? 1 : 0)} 1g={(Page1Gb ? 1 : 0)} maxphyaddr={MaxPhysAddr}";
}

/// <summary>One access the matrix makes: its kind and what is known about it.</summary>
internal readonly record struct EptMatrixAccess(AccessKind Kind, EptAccessFlags Flags)
{
    public static readonly EptMatrixAccess[] All =
    {
        new(AccessKind.Read, EptAccessFlags.Final),
        new(AccessKind.Write, EptAccessFlags.Final),
        new(AccessKind.Fetch, EptAccessFlags.Final),
        new(AccessKind.Read, EptAccessFlags.Final | EptAccessFlags.GuestUser),
        new(AccessKind.Write, EptAccessFlags.Final | EptAccessFlags.GuestUser | EptAccessFlags.GuestWritable),
        new(AccessKind.Fetch, EptAccessFlags.Final | EptAccessFlags.GuestUser),
        new(AccessKind.Read, EptAccessFlags.GuestLinearAddressValid | EptAccessFlags.GuestPagingStructure),
    };

    public override string ToString() => $"{Kind} {Flags}";
}

/// <summary>What the SDM says an EPT walk ends in.</summary>
internal readonly record struct EptExpectation(WalkFault Fault, int Level, uint Qualification, uint Rights, ulong Hpa, int MemoryType, bool IgnorePat, bool SetsDirty)
{
    public override string ToString() => Fault switch
    {
        WalkFault.None => $"translated at level {Level}: hpa 0x{Hpa:x} rights {Rights} type {MemoryType} ipat {IgnorePat}",
        WalkFault.EptViolation => $"violation at level {Level}, qualification 0x{Qualification:x}",
        _ => $"{Fault} at level {Level}",
    };
}

/// <summary>
/// The Intel SDM's EPT rules written out for the matrix, from Vol. 3C "EPT Translation Mechanism", "EPT
/// Misconfigurations", "EPT Violations", "Accessed and Dirty Flags for EPT" and the table "Exit Qualification for EPT
/// Violations", and from nothing in the spec language, the generator or the reference walker.
/// </summary>
internal static class EptSdmModel
{
    private static readonly int[] ReservedMemoryTypes = { 2, 3, 7 };

    /// <summary>The walk of <paramref name="gpa"/> over <paramref name="path"/> (root first, one entry a level, ending at the entry that maps the page).</summary>
    public static EptExpectation Expect(ulong[] path, int rootLevel, ulong gpa, EptState state, EptMatrixAccess access)
    {
        bool pagingStructureWrite = state.AccessedDirty && (access.Flags & EptAccessFlags.GuestPagingStructure) != 0;
        uint qualification = pagingStructureWrite ? 3u : access.Kind switch { AccessKind.Read => 1u, AccessKind.Write => 2u, _ => 4u };
        qualification |= (uint)access.Flags & 0xF80;

        uint and = 15;
        for (int i = 0; i < path.Length; i++)
        {
            int level = rootLevel - i;
            ulong e = path[i];
            uint r = (uint)(e & 7) | (state.ModeBasedExecute && Bit(e, 10) ? 8u : 0);
            and &= r;
            if (r == 0)
            {
                return new EptExpectation(WalkFault.EptViolation, level, qualification, 0, 0, 0, false, false);
            }

            bool leaf = i == path.Length - 1;
            if (IsMisconfigured(e, level, leaf, state))
            {
                return new EptExpectation(WalkFault.EptMisconfiguration, level, 0, 0, 0, 0, false, false);
            }
        }

        int leafLevel = rootLevel - path.Length + 1;
        ulong leafEntry = path[^1];
        uint needed = pagingStructureWrite ? 2u : access.Kind switch
        {
            AccessKind.Read => 1u,
            AccessKind.Write => 2u,
            _ => state.ModeBasedExecute && (access.Flags & EptAccessFlags.GuestUser) != 0 ? 8u : 4u,
        };
        if ((and & needed) == 0)
        {
            return new EptExpectation(WalkFault.EptViolation, leafLevel, qualification | (and << 3), 0, 0, 0, false, false);
        }

        ulong size = 1UL << (12 + (9 * (leafLevel - 1)));
        ulong hpa = (leafEntry & 0xF_FFFF_FFFF_F000UL & ~(size - 1)) | (gpa & (size - 1));
        bool dirty = state.AccessedDirty && (access.Kind == AccessKind.Write || pagingStructureWrite);
        // The walk reports rights in KVM's ACC encoding: X = 1, W = 2, R = 4 (in the place of U), user-execute = 8.
        uint acc = ((and & 1) << 2) | (and & 2) | ((and >> 2) & 1) | (and & 8);
        return new EptExpectation(WalkFault.None, leafLevel, 0, acc, hpa, (int)((leafEntry >> 3) & 7), Bit(leafEntry, 6), dirty);
    }

    /// <summary>The SDM's misconfigurations of a present entry at <paramref name="level"/>.</summary>
    public static bool IsMisconfigured(ulong e, int level, bool leaf, EptState state)
    {
        bool read = Bit(e, 0), write = Bit(e, 1), execute = Bit(e, 2);
        bool userExecute = state.ModeBasedExecute && Bit(e, 10);
        if (!read && write)
        {
            return true;
        }

        if (!read && !state.ExecuteOnly && (execute || userExecute))
        {
            return true;
        }

        if ((e & ReservedBits(level, leaf, state)) != 0)
        {
            return true;
        }

        if (level == 3 && leaf && !state.Page1Gb)
        {
            return true; // bit 7 of a PDPTE is reserved without 1-GByte page support
        }

        return leaf && ReservedMemoryTypes.Contains((int)((e >> 3) & 7));
    }

    /// <summary>The reserved bits of the SDM's EPT entry-format tables, address bits at or above MAXPHYADDR included.</summary>
    public static ulong ReservedBits(int level, bool leaf, EptState state)
    {
        ulong mask = Range(51, state.MaxPhysAddr); // address bits 51:M
        if (level >= 4)
        {
            mask |= Range(7, 3);
        }
        else if (!leaf && level >= 2)
        {
            mask |= Range(6, 3);
        }
        else if (leaf && level == 3)
        {
            mask |= Range(29, 12);
        }
        else if (leaf && level == 2)
        {
            mask |= Range(20, 12);
        }

        return mask;
    }

    private static ulong Range(int hi, int lo) => hi < lo ? 0 : ((hi - lo + 1 >= 64 ? ulong.MaxValue : (1UL << (hi - lo + 1)) - 1) << lo);

    private static bool Bit(ulong e, int bit) => ((e >> bit) & 1) != 0;
}
