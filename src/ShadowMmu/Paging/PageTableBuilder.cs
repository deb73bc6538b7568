using System;
using System.Collections.Generic;
using ShadowMmu.Specs;

namespace ShadowMmu;

/// <summary>
/// Builds guest page tables for any paging mode, from the mode's own spec: allocates table pages from a range of
/// guest memory and writes the entries that map a linear address. For tests, examples, workloads and benchmarks;
/// the guest's own kernel would do this in real life.
/// </summary>
public sealed class PageTableBuilder
{
    /// <summary>Present, writable, user-accessible: what a table entry on the way to a page grants.</summary>
    public const ulong TableFlags = 0x7;

    private readonly GuestMemory _memory;
    private readonly PagingSpec _spec;
    private readonly ulong _limit;
    private ulong _nextFree;

    /// <summary>Creates the root table in the first free page of [<paramref name="firstFree"/>, <paramref name="limit"/>).</summary>
    /// <exception cref="ArgumentException">The mode's spec is invalid or the range is empty.</exception>
    public PageTableBuilder(GuestMemory memory, PagingModeInfo mode, ulong firstFree, ulong limit)
    {
        SpecParseResult parsed = SpecParser.Parse(mode.SpecFile, mode.SpecText);
        _spec = parsed.Spec ?? throw new ArgumentException($"The spec of '{mode.Name}' is invalid.", nameof(mode));
        _memory = memory;
        _nextFree = (firstFree + 0xFFF) & ~0xFFFUL;
        _limit = Math.Min(limit, memory.Size);
        Mode = mode;
        Root = AllocatePage();
    }

    /// <summary>The mode the tables are for.</summary>
    public PagingModeInfo Mode { get; }

    /// <summary>The value for CR3: the root table (PAE: the page-directory-pointer table).</summary>
    public ulong Root { get; }

    /// <summary>The next page the builder would allocate.</summary>
    public ulong NextFree => _nextFree;

    /// <summary>Every table page allocated so far, the root first.</summary>
    public List<ulong> TablePages { get; } = new();

    /// <summary>A zeroed 4 KiB page from the builder's range.</summary>
    /// <exception cref="InvalidOperationException">The range is used up.</exception>
    public ulong AllocatePage()
    {
        if (_nextFree + 0x1000 > _limit)
        {
            throw new InvalidOperationException("The page-table range is used up.");
        }

        ulong page = _nextFree;
        _nextFree += 0x1000;
        _memory.Write(page, new byte[0x1000]);
        TablePages.Add(page);
        return page;
    }

    /// <summary>
    /// Maps the page of <paramref name="pageSize"/> at <paramref name="va"/> to <paramref name="pa"/> with the leaf
    /// flags <paramref name="leafFlags"/> (present and the page-size bit are added), creating missing tables whose
    /// entries get <paramref name="tableFlags"/> (register levels get only the present bit).
    /// </summary>
    /// <returns>The guest-physical address of the leaf entry.</returns>
    /// <exception cref="ArgumentException">No level maps pages of that size, or an entry on the way maps a page already.</exception>
    public ulong Map(ulong va, ulong pa, ulong pageSize, ulong leafFlags, ulong tableFlags = TableFlags)
    {
        LevelSpec? leafLevel = null;
        foreach (LevelSpec level in _spec.Levels)
        {
            if (level.Page != null && level.Page.Size == pageSize)
            {
                leafLevel = level;
            }
        }

        if (leafLevel == null)
        {
            throw new ArgumentException($"{Mode.Name} has no {pageSize >> 10} KiB pages.", nameof(pageSize));
        }

        ulong table = Root;
        foreach (LevelSpec level in _spec.Levels)
        {
            ulong gpa = EntryGpa(table, level, va);
            if (level.Level == leafLevel.Level)
            {
                ulong entry = leafFlags | Bit(_spec.Present) | FrameBits(leafLevel.Page!, pa);
                if (level.Level > 1)
                {
                    entry |= Bit(_spec.PageSize!.Value);
                }

                _memory.WriteEntry(gpa, entry, _spec.EntryBytes);
                return gpa;
            }

            ulong existing = _memory.ReadEntry(gpa, _spec.EntryBytes);
            if ((existing & Bit(_spec.Present)) == 0)
            {
                ulong next = AllocatePage();
                ulong flags = level.Register ? Bit(_spec.Present) : tableFlags | Bit(_spec.Present);
                _memory.WriteEntry(gpa, flags | next, _spec.EntryBytes);
                existing = flags | next;
            }
            else if (!level.Register && level.Page != null && (existing & Bit(_spec.PageSize!.Value)) != 0)
            {
                throw new ArgumentException($"0x{va:x} lies in a page that level {level.Level} maps already.", nameof(va));
            }

            table = existing & level.Table!.Value.Mask;
        }

        throw new InvalidOperationException("unreachable: the leaf level is one of the levels");
    }

    /// <summary>The guest-physical address of the entry for <paramref name="va"/> at <paramref name="level"/>, or null if a table above is missing.</summary>
    public ulong? EntryAddress(ulong va, int level)
    {
        ulong table = Root;
        foreach (LevelSpec spec in _spec.Levels)
        {
            ulong gpa = EntryGpa(table, spec, va);
            if (spec.Level == level)
            {
                return gpa;
            }

            ulong entry = _memory.ReadEntry(gpa, _spec.EntryBytes);
            if ((entry & Bit(_spec.Present)) == 0 || (spec.Page != null && !spec.Register && (entry & Bit(_spec.PageSize!.Value)) != 0))
            {
                return null;
            }

            table = entry & spec.Table!.Value.Mask;
        }

        return null;
    }

    private ulong EntryGpa(ulong table, LevelSpec level, ulong va) =>
        table + (((va >> level.Index.Lo) & ((1UL << level.Index.Width) - 1)) * (ulong)_spec.EntryBytes);

    private static ulong FrameBits(PageRule page, ulong pa)
    {
        ulong frame = pa & page.Frame.Mask;
        if (page.High != null)
        {
            BitRange high = page.High.Value;
            frame |= (pa >> (page.HighAt - high.Lo)) & high.Mask;
        }

        bool aligned = (pa & (page.Size - 1)) == 0;
        bool representable = (pa & ~(page.Frame.Mask | HighPhysicalMask(page))) == 0;
        if (!aligned || !representable)
        {
            throw new ArgumentException($"0x{pa:x} is not a {page.SizeName} frame this entry can hold.", nameof(pa));
        }

        return frame;
    }

    private static ulong HighPhysicalMask(PageRule page) =>
        page.High == null ? 0 : page.High.Value.Mask << (page.HighAt - page.High.Value.Lo);

    private static ulong Bit(FlagBit flag) => 1UL << flag.Bit;
}
