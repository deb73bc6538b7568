using System;
using ShadowMmu.Specs;

namespace ShadowMmu;

public sealed partial class ReferenceWalker
{
    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The spec is not an EPT spec.</exception>
    public bool WalkGpa(ref GuestWalk walk, ulong gpa, AccessKind kind, EptAccessFlags flags)
    {
        if (!_spec.IsEpt)
        {
            throw new InvalidOperationException($"Mode '{_spec.Mode}' is not an EPT mode: walk it with WalkAddr.");
        }

        // A guest-physical address has at most 52 bits (MAXPHYADDR). EPT narrower than that (4 levels: 47:0) translates
        // none of the bits above its width: an address with one of them set is an EPT violation before any entry is
        // read, with no rights in the exit qualification (SDM Vol. 3C, the notes to "Exit Qualification for EPT
        // Violations"). It is recorded at level 0, as a #GP is.
        ulong address = _spec.LinearBits < GuestPhysicalBits ? gpa & ((1UL << GuestPhysicalBits) - 1) : TruncateToLinearBits(gpa);
        walk.Begin(address);
        if (_spec.LinearBits < GuestPhysicalBits && (address >> _spec.LinearBits) != 0)
        {
            walk.Restart(0);
            return walk.EptViolation(0, RequestQualification(kind, flags));
        }

        while (true)
        {
            walk.Restart(_spec.RootLevel);
            PassResult result = WalkEptOnce(ref walk, address, kind, flags);
            if (result != PassResult.Restart)
            {
                return result == PassResult.Translated;
            }
        }
    }

    /// <summary>The most bits a guest-physical address has: MAXPHYADDR is at most 52.</summary>
    private const int GuestPhysicalBits = 52;

    // The exit qualification's bits the request gives: the access (bits 0-2) and bits 7 to 11 as the caller's flags say.
    private uint RequestQualification(AccessKind kind, EptAccessFlags flags)
    {
        // SDM "Accessed and Dirty Flags for EPT": with them on, accesses to guest paging structures are writes for EPT,
        // and a violation by one reports both a read and a write.
        bool pagingStructureWrite = _rules.FlagExists(_spec.Accessed) && (flags & EptAccessFlags.GuestPagingStructure) != 0;
        uint qualification = kind switch
        {
            AccessKind.Read => EptViolationQualification.Read,
            AccessKind.Write => EptViolationQualification.Write,
            _ => EptViolationQualification.Fetch,
        };
        if (pagingStructureWrite)
        {
            qualification = EptViolationQualification.Read | EptViolationQualification.Write;
        }

        // Bits 7 to 11 (linear-address valid, final translation, the guest's U/S, R/W and XD) are the caller's to know.
        return qualification | ((uint)flags & 0xF80);
    }

    private PassResult WalkEptOnce(ref GuestWalk walk, ulong gpa, AccessKind kind, EptAccessFlags flags)
    {
        EptSpec ept = _spec.Ept!;
        bool modeBasedExecute = _rules.FlagExists(ept.UserExecute);
        bool accessedDirty = _rules.FlagExists(_spec.Accessed);

        bool pagingStructureWrite = accessedDirty && (flags & EptAccessFlags.GuestPagingStructure) != 0;
        uint qualification = RequestQualification(kind, flags);

        uint rights = EptRights.All;
        ulong table = _root;
        ulong entry = 0;
        int level;
        for (level = _spec.RootLevel; level >= 1; level--)
        {
            LevelSpec levelSpec = _spec.GetLevel(level);
            ulong index = (gpa & levelSpec.Index.Mask) >> levelSpec.Index.Lo;
            ulong address = table + (index * (ulong)_spec.EntryBytes);
            if (!TryReadEntry(address, out entry))
            {
                walk.EptOutsideMemory(level, address, rights, qualification);
                return PassResult.Faulted;
            }

            walk.Record(level, address, entry, rights);
            rights &= EptRightsOf(entry, ept, modeBasedExecute);

            // An entry with no right at all is not present: a violation.
            if (!IsEptPresent(entry, ept, modeBasedExecute))
            {
                walk.EptViolation(level, qualification);
                return PassResult.Faulted;
            }

            bool isPage = _rules.MapsPage(levelSpec, entry, out ulong pageSizeReserved);
            if (IsEptMisconfigured(entry, levelSpec, isPage, pageSizeReserved, ept, modeBasedExecute))
            {
                walk.EptMisconfiguration(level);
                return PassResult.Faulted;
            }

            if (isPage)
            {
                break;
            }

            table = ReferenceEntryRules.TableAddress(levelSpec, entry);
        }

        int leafLevel = level;
        uint needed = kind switch
        {
            AccessKind.Read => EptRights.Read,
            AccessKind.Write => EptRights.Write,
            _ => modeBasedExecute && (flags & EptAccessFlags.GuestUser) != 0 ? EptRights.UserExecute : EptRights.Execute,
        };
        if (pagingStructureWrite)
        {
            needed = EptRights.Write;
        }

        if ((rights & needed) == 0)
        {
            walk.EptViolation(leafLevel, qualification | EptRights.Qualification(rights));
            return PassResult.Faulted;
        }

        if (accessedDirty && SetAccessedAndDirty(ref walk, leafLevel, kind == AccessKind.Write || pagingStructureWrite) == PassResult.Restart)
        {
            return PassResult.Restart;
        }

        LevelSpec leaf = _spec.GetLevel(leafLevel);
        ulong pageSize = leaf.Page!.Size;
        int memoryType = (int)((entry & ept.MemoryType.Mask) >> ept.MemoryType.Lo);
        bool ignorePat = ept.IgnorePat is FlagBit ipat && ReferenceEntryRules.IsSet(entry, ipat.Bit);
        walk.TranslatedEpt(leafLevel, ReferenceEntryRules.PageFrame(leaf, entry) | (gpa & (pageSize - 1)), pageSize, rights, memoryType, ignorePat);
        return PassResult.Translated;
    }

    // R, W, X and, only under mode-based execute control, user-execute, as EptRights bits.
    private uint EptRightsOf(ulong entry, EptSpec ept, bool modeBasedExecute)
    {
        uint rights = 0;
        if (ReferenceEntryRules.IsSet(entry, _spec.Present.Bit))
        {
            rights |= EptRights.Read;
        }

        if (ReferenceEntryRules.IsSet(entry, _spec.Writable.Bit))
        {
            rights |= EptRights.Write;
        }

        if (ReferenceEntryRules.IsSet(entry, ept.Execute.Bit))
        {
            rights |= EptRights.Execute;
        }

        if (modeBasedExecute && ReferenceEntryRules.IsSet(entry, ept.UserExecute!.Value.Bit))
        {
            rights |= EptRights.UserExecute;
        }

        return rights;
    }

    private bool IsEptPresent(ulong entry, EptSpec ept, bool modeBasedExecute) => EptRightsOf(entry, ept, modeBasedExecute) != 0;

    // SDM "EPT Misconfigurations": a reserved bit set (the level's rules and address bits at or above MAXPHYADDR);
    // bit 0 clear with bit 1 set; bit 0 clear with bit 2 (or, under mode-based execute control, bit 10) set when the
    // processor does not support execute-only translations; a reserved memory type in an entry that maps a page.
    private bool IsEptMisconfigured(ulong entry, LevelSpec level, bool isPage, ulong pageSizeReserved, EptSpec ept, bool modeBasedExecute)
    {
        if ((entry & (_rules.ReservedBits(level, isPage) | pageSizeReserved)) != 0)
        {
            return true;
        }

        uint rights = EptRightsOf(entry, ept, modeBasedExecute);
        bool readable = (rights & EptRights.Read) != 0;
        if (!readable && (rights & EptRights.Write) != 0)
        {
            return true;
        }

        bool executeOnlyAllowed = ept.ExecuteOnly && _rules.Holds(ept.ExecuteOnlyWhen);
        if (!readable && !executeOnlyAllowed && (rights & (EptRights.Execute | EptRights.UserExecute)) != 0)
        {
            return true;
        }

        int memoryType = (int)((entry & ept.MemoryType.Mask) >> ept.MemoryType.Lo);
        return isPage && IsReservedMemoryType(ept, memoryType);
    }

    // A plain loop: the walk allocates nothing, the reference walker's included.
    private static bool IsReservedMemoryType(EptSpec ept, int memoryType)
    {
        for (int i = 0; i < ept.ReservedMemoryTypes.Count; i++)
        {
            if (ept.ReservedMemoryTypes[i] == memoryType)
            {
                return true;
            }
        }

        return false;
    }
}
