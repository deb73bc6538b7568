using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace ShadowMmu.Roots;

/// <summary>What a probe found below a table (the table included), summed over every table it references.</summary>
internal struct Subtree
{
    /// <summary>Tables whose every present entry is well formed.</summary>
    public long Tables;

    /// <summary>
    /// Tables with a present entry that no walk could use: a reserved bit set, or a table it references that lies
    /// outside the dump or in frame 0. The tables below a bad table are not read.
    /// </summary>
    public long BadTables;

    /// <summary>Good tables with no present entry (a real table referenced by its parent rarely is).</summary>
    public long EmptyTables;

    /// <summary>Leaf entries: pages of any size.</summary>
    public long Pages;

    /// <summary>Leaf entries reached with U/S set at every level (user pages; PAE's PDPTEs carry no U/S).</summary>
    public long UserPages;

    /// <summary>Leaf entries whose page the dump does not hold (device memory in a real table; most of a data page read as one).</summary>
    public long PagesOutside;

    /// <summary>Bytes mapped (saturating).</summary>
    public ulong Bytes;

    public void Add(in Subtree other)
    {
        Tables += other.Tables;
        BadTables += other.BadTables;
        EmptyTables += other.EmptyTables;
        Pages += other.Pages;
        UserPages += other.UserPages;
        PagesOutside += other.PagesOutside;
        Bytes = Bytes + other.Bytes < Bytes ? ulong.MaxValue : Bytes + other.Bytes;
    }
}

/// <summary>What a probe found from one root down.</summary>
internal struct RootWalk
{
    /// <summary>False when the dump does not hold the root table.</summary>
    public bool Held;

    /// <summary>Present root entries that no walk could use (see <see cref="Subtree.BadTables"/>).</summary>
    public int BadEntries;

    /// <summary>Entries that are not present but not clear either (operating systems clear unused top-level entries).</summary>
    public int StrayEntries;

    /// <summary>Root entries that reference the root table itself (Windows' self-map), the first one's index in <see cref="SelfReferenceIndex"/>.</summary>
    public int SelfReferences;

    /// <summary>The index of the first self-referencing entry, or -1.</summary>
    public int SelfReferenceIndex;

    /// <summary>
    /// The first two root entries that reference the same table (an alias: the same memory mapped at two places, as
    /// boot-time tables map the kernel both where it runs and at its physical address), or (-1, -1).
    /// </summary>
    public (int First, int Second) Alias;

    /// <summary>Everything below the root, the root's own leaves included (32-bit paging's 4 MiB pages).</summary>
    public Subtree Below;

    /// <summary>True when every table read is well formed.</summary>
    public readonly bool Clean => Held && BadEntries == 0 && Below.BadTables == 0;

    /// <summary>Good tables read, the root included.</summary>
    public readonly long Tables => Below.Tables + (Held ? 1 : 0);
}

/// <summary>
/// Reads the tables below candidate roots of one paging mode, checking each table as the processor would find it and
/// counting what it maps. A table reached again (the kernel half every Linux process shares, espfix's one page mapped
/// 65,536 times) is read once: its summary is kept by frame and level. Not thread-safe: one probe per thread.
/// </summary>
internal sealed class TableProbe
{
    private readonly TableFormat _format;
    private readonly HeldMemory _held;
    private readonly Dictionary<ulong, Subtree> _memo = new();

    public TableProbe(TableFormat format, HeldMemory held)
    {
        _format = format;
        _held = held;
    }

    /// <summary>Tables read so far (each once).</summary>
    public int TablesRead => _memo.Count;

    /// <summary>Walks everything below the root table at <paramref name="root"/> (CR3's address bits).</summary>
    public RootWalk Walk(ulong root)
    {
        var walk = new RootWalk { SelfReferenceIndex = -1, Alias = (-1, -1) };
        LevelFormat top = _format.Level(_format.RootLevel);
        if (root == 0 || !_held.Holds(root, (ulong)_format.RootBytes))
        {
            return walk;
        }

        walk.Held = true;
        ulong rootFrame = root & ~0xFFFUL;
        Entries entries = Read(root, top.Entries);
        for (int i = 0; i < top.Entries; i++)
        {
            ulong entry = entries[i];
            if ((entry & _format.PresentBit) == 0)
            {
                walk.StrayEntries += entry != 0 ? 1 : 0;
                continue;
            }

            if (top.MapsPage(entry))
            {
                if ((entry & top.PageReserved) != 0)
                {
                    walk.BadEntries++;
                }
                else
                {
                    CountLeaf(ref walk.Below, top, entry);
                }

                continue;
            }

            ulong table = entry & top.TableMask;
            if (!UsableTable(top, entry))
            {
                walk.BadEntries++;
                continue;
            }

            if (table == rootFrame && !top.Register)
            {
                walk.SelfReferences++;
                walk.SelfReferenceIndex = walk.SelfReferenceIndex < 0 ? i : walk.SelfReferenceIndex;
            }
            else if (walk.Alias.First < 0 && FirstReferenceTo(entries, i, top) is int earlier and >= 0)
            {
                walk.Alias = (earlier, i);
            }

            Subtree below = top.Register ? Table(top.Level - 1, table) : UserOnlyIf(entry, Table(top.Level - 1, table));
            if (top.Register && below.Tables == 1 && below.EmptyTables == 1)
            {
                // PAE's four PDPTEs are loaded with CR3, so operating systems keep all four present, with empty page
                // directories where nothing is mapped yet: those are not the odd empty table that speaks against a root.
                below.EmptyTables = 0;
            }

            walk.Below.Add(below);
        }

        return walk;
    }

    private Subtree Table(int level, ulong table)
    {
        ulong key = table | (uint)level;
        if (_memo.TryGetValue(key, out Subtree known))
        {
            return known;
        }

        LevelFormat format = _format.Level(level);
        Entries entries = Read(table, format.Entries);
        var result = default(Subtree);
        int present = 0;
        bool bad = false;

        // First every entry, without going down: a table with one unusable entry is not a table, and nothing below it is read.
        if (!entries.AllZero)
        {
            for (int i = 0; i < entries.Count && !bad; i++)
            {
                ulong entry = entries[i];
                if ((entry & _format.PresentBit) == 0)
                {
                    continue;
                }

                present++;
                if (format.MapsPage(entry))
                {
                    bad = (entry & format.PageReserved) != 0;
                    if (!bad)
                    {
                        CountLeaf(ref result, format, entry);
                    }
                }
                else
                {
                    bad = !UsableTable(format, entry);
                }
            }
        }

        if (bad)
        {
            result = new Subtree { BadTables = 1 };
        }
        else
        {
            bool referencesTables = present > result.Pages;
            result.Tables = 1;
            result.EmptyTables = present == 0 ? 1 : 0;
            for (int i = 0; referencesTables && i < entries.Count; i++)
            {
                ulong entry = entries[i];
                if ((entry & _format.PresentBit) != 0 && !format.MapsPage(entry))
                {
                    result.Add(UserOnlyIf(entry, Table(level - 1, entry & format.TableMask)));
                }
            }
        }

        _memo[key] = result;
        return result;
    }

    // The index of the first present table entry before <paramref name="index"/> that references the same table, or -1.
    private int FirstReferenceTo(Entries entries, int index, LevelFormat top)
    {
        ulong table = entries[index] & top.TableMask;
        for (int j = 0; j < index; j++)
        {
            ulong entry = entries[j];
            if ((entry & _format.PresentBit) != 0 && !top.MapsPage(entry) && (entry & top.TableMask) == table)
            {
                return j;
            }
        }

        return -1;
    }

    // An entry that references a table: no reserved bit, and the table is in the dump and not in frame 0 (no operating
    // system keeps a page table there: the real-mode interrupt vector table and the BIOS data area do).
    private bool UsableTable(LevelFormat format, ulong entry)
    {
        ulong table = entry & format.TableMask;
        LevelFormat below = _format.Level(format.Level - 1);
        return (entry & format.TableReserved) == 0 && table != 0 && _held.Holds(table, (ulong)(below.Entries * _format.EntryBytes));
    }

    // A table's user pages are user pages only where the entry that references it allows user accesses too.
    private Subtree UserOnlyIf(ulong entry, Subtree below)
    {
        if ((entry & _format.UserBit) == 0)
        {
            below.UserPages = 0;
        }

        return below;
    }

    private void CountLeaf(ref Subtree subtree, LevelFormat format, ulong entry)
    {
        subtree.Pages++;
        subtree.UserPages += (entry & _format.UserBit) != 0 ? 1 : 0;
        subtree.Bytes += format.PageBytes;
        if (!_held.Holds(format.PageFrame(entry), 1))
        {
            subtree.PagesOutside++;
        }
    }

    private Entries Read(ulong table, int count) => _format.EntryBytes == 8
        ? new Entries(_held.Words(table, count), default)
        : new Entries(default, _held.Dwords(table, count));

    // A table's entries in place, 8 or 4 bytes each.
    private readonly ref struct Entries
    {
        private readonly ReadOnlySpan<ulong> _wide;
        private readonly ReadOnlySpan<uint> _narrow;

        public Entries(ReadOnlySpan<ulong> wide, ReadOnlySpan<uint> narrow)
        {
            _wide = wide;
            _narrow = narrow;
        }

        public int Count => _wide.Length + _narrow.Length;

        public bool AllZero => _wide.Length > 0
            ? MemoryMarshal.AsBytes(_wide).IndexOfAnyExcept((byte)0) < 0
            : MemoryMarshal.AsBytes(_narrow).IndexOfAnyExcept((byte)0) < 0;

        public ulong this[int index] => _wide.Length > 0 ? _wide[index] : _narrow[index];
    }
}
