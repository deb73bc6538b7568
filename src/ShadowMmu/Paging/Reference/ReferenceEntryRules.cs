using System;
using System.Collections.Generic;
using ShadowMmu.Specs;

namespace ShadowMmu;

/// <summary>
/// What a paging spec says about one entry, read under one processor state: which flag bits are set, whether an
/// entry maps a page or references a table, which bits must be 0, and where the next table or the page frame is.
/// The reference walker asks these questions at every level of every walk; nothing is precomputed beyond the
/// spec itself, so each answer can be checked against the spec-language document line by line.
/// </summary>
internal sealed class ReferenceEntryRules
{
    // SpecVocabulary is the one table that maps a spec's condition words to PagingCondition members.
    private static readonly Dictionary<string, PagingCondition> ConditionsByName = BuildConditionTable();

    private readonly PagingSpec _spec;
    private readonly CpuState _cpu;

    public ReferenceEntryRules(PagingSpec spec, in CpuState cpu)
    {
        _spec = spec;
        _cpu = cpu;
    }

    /// <summary>Whether a spec condition holds; no condition always holds.</summary>
    public bool Holds(SpecCondition? condition)
    {
        if (condition is not SpecCondition c)
        {
            return true;
        }

        bool value = _cpu.Test(ConditionsByName[c.Name]);
        return c.Negated ? !value : value;
    }

    /// <summary>
    /// Whether an optional flag (accessed, dirty, page-size, execute-disable) exists in this state: it must be
    /// declared, and its <c>when</c> condition, if any, must hold.
    /// </summary>
    public bool FlagExists(FlagBit? flag) => flag is FlagBit f && Holds(f.When);

    public static bool IsSet(ulong entry, int bit) => ((entry >> bit) & 1) != 0;

    // Present, R/W and U/S are required flags; the language gives a condition on them no meaning, so none is read.
    public bool IsPresent(ulong entry) => IsSet(entry, _spec.Present.Bit);

    public bool IsWritable(ulong entry) => IsSet(entry, _spec.Writable.Bit);

    public bool IsUser(ulong entry) => IsSet(entry, _spec.User.Bit);

    /// <summary>True when the mode has an execute-disable bit and its condition (EFER.NXE) holds.</summary>
    public bool ExecuteDisableEnabled => FlagExists(_spec.ExecuteDisable);

    public bool IsExecuteDisabled(ulong entry) => ExecuteDisableEnabled && IsSet(entry, _spec.ExecuteDisable!.Value.Bit);

    /// <summary>True when the mode has protection keys and their condition (CR4.PKE in IA-32e mode) holds.</summary>
    public bool ProtectionKeysEnabled => _spec.ProtectionKey != null && Holds(_spec.ProtectionKeyWhen);

    /// <summary>The leaf's protection key, or 0 when protection keys are off (the field is then ignored).</summary>
    public int ProtectionKey(ulong leafEntry)
    {
        if (!ProtectionKeysEnabled)
        {
            return 0;
        }

        BitRange field = _spec.ProtectionKey!.Value;
        return (int)((leafEntry & field.Mask) >> field.Lo);
    }

    /// <summary>
    /// Whether <paramref name="entry"/> (present) maps a page at <paramref name="level"/>. Level 1 always does.
    /// Above it, a level with a <c>page</c> rule maps a page when the page-size bit is set and the rule's condition
    /// holds. When the condition fails, <c>else ignored</c> means PS is ignored (the entry references a table) and
    /// <c>else reserved</c> means PS is a reserved bit: it is returned in <paramref name="pageSizeReserved"/>.
    /// </summary>
    public bool MapsPage(LevelSpec level, ulong entry, out ulong pageSizeReserved)
    {
        pageSizeReserved = 0;
        if (level.Level == 1)
        {
            return true;
        }

        PageRule? page = level.Page;
        if (page == null || !FlagExists(_spec.PageSize))
        {
            return false;
        }

        int psBit = _spec.PageSize!.Value.Bit;
        if (!Holds(page.When))
        {
            if (page.ElseReserved)
            {
                pageSizeReserved = 1UL << psBit;
            }

            return false;
        }

        return IsSet(entry, psBit);
    }

    /// <summary>
    /// The bits that must be 0 in an entry of <paramref name="level"/> that maps a page (<paramref name="isPage"/>)
    /// or references a table: every <c>reserved</c> rule for that case whose condition holds, plus the address
    /// bits that would form physical-address bits at or above MAXPHYADDR.
    /// </summary>
    public ulong ReservedBits(LevelSpec level, bool isPage)
    {
        ulong mask = 0;
        for (int i = 0; i < level.Reserved.Count; i++)
        {
            ReservedRule rule = level.Reserved[i];
            bool caseMatches = rule.Case == EntryCase.Any
                || (rule.Case == EntryCase.Page && isPage)
                || (rule.Case == EntryCase.Table && !isPage);
            if (caseMatches && Holds(rule.When))
            {
                mask |= rule.Bits.Mask;
            }
        }

        if (isPage)
        {
            PageRule page = level.Page!;
            mask |= AddressBitsAtOrAboveMaxPhysAddr(page.Frame, 0);
            if (page.High is BitRange high)
            {
                // Entry bit high.Lo holds physical-address bit HighAt, and so on upwards.
                mask |= AddressBitsAtOrAboveMaxPhysAddr(high, page.HighAt - high.Lo);
            }
        }
        else if (level.Table is BitRange table)
        {
            mask |= AddressBitsAtOrAboveMaxPhysAddr(table, 0);
        }

        return mask;
    }

    /// <summary>The physical address of the table that a table entry of <paramref name="level"/> references.</summary>
    public static ulong TableAddress(LevelSpec level, ulong entry) => entry & level.Table!.Value.Mask;

    /// <summary>The physical address of the page a leaf entry maps: its frame bits, plus any high (PSE-36) bits moved up.</summary>
    public static ulong PageFrame(LevelSpec level, ulong entry)
    {
        PageRule page = level.Page!;
        ulong frame = entry & page.Frame.Mask;
        if (page.High is BitRange high)
        {
            frame |= ((entry & high.Mask) >> high.Lo) << page.HighAt;
        }

        return frame;
    }

    // Entry bit b of the field holds physical-address bit b + shift; those at or above MAXPHYADDR "must be 0".
    private ulong AddressBitsAtOrAboveMaxPhysAddr(BitRange field, int shift)
    {
        ulong mask = 0;
        for (int bit = field.Lo; bit <= field.Hi; bit++)
        {
            if (bit + shift >= _cpu.MaxPhysAddr)
            {
                mask |= 1UL << bit;
            }
        }

        return mask;
    }

    private static Dictionary<string, PagingCondition> BuildConditionTable()
    {
        var table = new Dictionary<string, PagingCondition>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> pair in SpecVocabulary.Conditions)
        {
            table[pair.Key] = Enum.Parse<PagingCondition>(pair.Value);
        }

        return table;
    }
}
