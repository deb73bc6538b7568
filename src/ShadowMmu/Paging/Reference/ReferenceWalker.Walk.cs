using ShadowMmu.Specs;

namespace ShadowMmu;

public sealed partial class ReferenceWalker
{
    // How one pass over the levels ended.
    private enum PassResult
    {
        Translated,
        Faulted,

        // Setting an A/D flag found the entry changed since it was read: walk again.
        Restart,
    }

    /// <summary>
    /// Translates <paramref name="va"/> for an access of <paramref name="kind"/> at <paramref name="cpl"/>
    /// (3 = user mode) with EFLAGS.AC = <paramref name="ac"/>, setting A/D flags after a successful walk.
    /// Fills <paramref name="walk"/>; true when the address translated, false for a #PF or #GP.
    /// Never throws for any content of guest memory.
    /// </summary>
    public bool WalkAddr(ref GuestWalk walk, ulong va, AccessKind kind, int cpl, bool ac)
    {
        if (_spec.IsEpt)
        {
            // As the generated EPT walkers: the final translation of a linear address, CPL 3 standing for a user-mode one.
            return WalkGpa(ref walk, va, kind, EptAccessFlags.Final | (cpl == 3 ? EptAccessFlags.GuestUser : 0));
        }

        // Without 'canonical' the processor uses only the low linear-bits bits (32-bit and PAE paging).
        ulong linear = _spec.Canonical ? va : TruncateToLinearBits(va);
        walk.Begin(linear);
        if (RegisterLoadFaulted)
        {
            // The MOV to CR3 that loaded these registers raised #GP(0): this state is never walked.
            return walk.GeneralProtection();
        }

        // A non-canonical address is #GP(0) before anything is read.
        if (_spec.Canonical && !IsCanonical(linear))
        {
            return walk.GeneralProtection();
        }

        // KVM's walk_addr_generic retries from the top when an A/D compare-exchange loses a race. Every failed
        // exchange follows a changed entry, and in a single thread only this walk's own earlier flag updates
        // (self-referencing tables) change entries, which only ever adds flags, so the loop ends.
        while (true)
        {
            walk.Restart(_firstMemoryLevel);
            PassResult result = WalkOnce(ref walk, linear, kind, cpl, ac);
            if (result != PassResult.Restart)
            {
                return result == PassResult.Translated;
            }
        }
    }

    private PassResult WalkOnce(ref GuestWalk walk, ulong linear, AccessKind kind, int cpl, bool ac)
    {
        uint request = RequestErrorCode(kind, cpl);
        uint rights = AccessRights.All;
        ulong table = _root;
        ulong entry = 0;
        int level;
        for (level = _spec.RootLevel; level >= 1; level--)
        {
            LevelSpec levelSpec = _spec.GetLevel(level);
            ulong index = (linear & levelSpec.Index.Mask) >> levelSpec.Index.Lo;
            ulong gpa = table + (index * (ulong)_spec.EntryBytes);

            if (levelSpec.Register)
            {
                // The walk uses the registers loaded with CR3, not memory, and only tests P: reserved bits were
                // checked by the load, and the entries carry no rights and no accessed flag.
                entry = _registers[index];
                walk.Record(level, gpa, entry, rights);
                if (!_rules.IsPresent(entry))
                {
                    walk.PageFault(level, request);
                    return PassResult.Faulted;
                }

                table = ReferenceEntryRules.TableAddress(levelSpec, entry);
                continue;
            }

            // In a two-dimensional walk the entry's guest-physical address goes through EPT first.
            if (!TryTranslateGuestEntry(ref walk, level, gpa, out ulong address))
            {
                return PassResult.Faulted;
            }

            if (!TryReadEntry(address, out entry))
            {
                walk.OutsideMemory(level, gpa, rights, request);
                return PassResult.Faulted;
            }

            // Recorded with the rights inherited from the levels above (KVM's pt_access), then accumulated.
            walk.Record(level, gpa, entry, rights);
            rights = Accumulate(rights, entry);

            if (!_rules.IsPresent(entry))
            {
                walk.PageFault(level, request);
                return PassResult.Faulted;
            }

            bool isPage = _rules.MapsPage(levelSpec, entry, out ulong pageSizeReserved);
            ulong reserved = _rules.ReservedBits(levelSpec, isPage) | pageSizeReserved;
            if ((entry & reserved) != 0)
            {
                walk.PageFault(level, PageFaultErrorCode.Present | PageFaultErrorCode.Reserved | request);
                return PassResult.Faulted;
            }

            if (isPage)
            {
                break;
            }

            table = ReferenceEntryRules.TableAddress(levelSpec, entry);
        }

        // A parsed spec always maps a page at level 1, so the loop leaves through 'break' with level >= 1.
        int leafLevel = level;
        LevelSpec leaf = _spec.GetLevel(leafLevel);

        // Access rights, then protection keys; a PK violation may come with a rights violation in one error code.
        bool rightsFault = ReferenceAccessRules.RightsFault(rights, kind, cpl, ac, _cpu, _rules.ExecuteDisableEnabled);
        int key = _rules.ProtectionKey(entry);
        bool keyFault = _rules.ProtectionKeysEnabled && ReferenceAccessRules.ProtectionKeyFault(rights, kind, cpl, key, _cpu);
        if (rightsFault || keyFault)
        {
            uint errorCode = PageFaultErrorCode.Present | request;
            if (keyFault)
            {
                errorCode |= PageFaultErrorCode.ProtectionKey;
            }

            walk.PageFault(leafLevel, errorCode);
            return PassResult.Faulted;
        }

        // A/D only after the walk and the rights check succeed (KVM update_accessed_dirty_bits), from the first
        // level read from memory down to the leaf; register entries have no accessed flag.
        PassResult flagged = SetAccessedAndDirty(ref walk, leafLevel, kind == AccessKind.Write);
        if (flagged != PassResult.Translated)
        {
            return flagged;
        }

        ulong pageSize = leaf.Page!.Size;
        ulong physicalAddress = ReferenceEntryRules.PageFrame(leaf, entry) | (linear & (pageSize - 1));
        walk.Translated(leafLevel, physicalAddress, pageSize, rights, key);
        return PassResult.Translated;
    }

    // R/W and U/S are ANDed over the levels; an execute-disable bit that counts clears X.
    private uint Accumulate(uint rights, ulong entry)
    {
        if (!_rules.IsWritable(entry))
        {
            rights &= ~AccessRights.Write;
        }

        if (!_rules.IsUser(entry))
        {
            rights &= ~AccessRights.User;
        }

        if (_rules.IsExecuteDisabled(entry))
        {
            rights &= ~AccessRights.Execute;
        }

        return rights;
    }

    // The error-code bits that describe the access itself: W/R, U/S, and I/D for a fetch when the mode's
    // execute-disable bit is enabled or SMEP is on (SDM "Page-Fault Error Code").
    private uint RequestErrorCode(AccessKind kind, int cpl)
    {
        uint code = 0;
        if (kind == AccessKind.Write)
        {
            code |= PageFaultErrorCode.Write;
        }

        if (cpl == 3)
        {
            code |= PageFaultErrorCode.User;
        }

        if (kind == AccessKind.Fetch && (_cpu.Test(PagingCondition.Cr4Smep) || _rules.ExecuteDisableEnabled))
        {
            code |= PageFaultErrorCode.Fetch;
        }

        return code;
    }

    // Restart when an entry changed since the walk read it (the caller walks again); Faulted when, in a
    // two-dimensional walk, EPT refused the write of a flag.
    private PassResult SetAccessedAndDirty(ref GuestWalk walk, int leafLevel, bool write)
    {
        for (int level = walk.MaxLevel; level >= leafLevel; level--)
        {
            ulong flags = 0;
            if (_rules.FlagExists(_spec.Accessed))
            {
                flags |= 1UL << _spec.Accessed!.Value.Bit;
            }

            if (level == leafLevel && write && _rules.FlagExists(_spec.Dirty))
            {
                flags |= 1UL << _spec.Dirty!.Value.Bit;
            }

            if (flags == 0)
            {
                continue;
            }

            if (_walkingEpt != null)
            {
                PassResult result = SetFlagNested(ref walk, level, flags);
                if (result != PassResult.Translated)
                {
                    return result;
                }
            }
            else if (!walk.TrySetFlags(Memory, level, flags, _spec.EntryBytes))
            {
                return PassResult.Restart;
            }
        }

        return PassResult.Translated;
    }

    // Bits 63:N-1 all equal: all zeros or all ones.
    private bool IsCanonical(ulong va)
    {
        int bits = _spec.LinearBits;
        if (bits >= 64)
        {
            return true;
        }

        ulong upper = va >> (bits - 1);
        ulong allOnes = ulong.MaxValue >> (bits - 1);
        return upper == 0 || upper == allOnes;
    }

    private ulong TruncateToLinearBits(ulong va) =>
        _spec.LinearBits >= 64 ? va : va & ((1UL << _spec.LinearBits) - 1);
}
