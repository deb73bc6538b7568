using System;
using System.Collections.Generic;

namespace ShadowMmu;

/// <summary>What a guest entry the workload rewrites is, and so which rewrites make sense for it.</summary>
internal enum WorkloadEntryKind : byte
{
    /// <summary>A PTE mapping a 4 KiB page.</summary>
    Leaf,

    /// <summary>An entry referencing a table, at a level where the entry may also map a large page.</summary>
    TableOrLarge,

    /// <summary>An entry referencing a table, at a level with no large pages (PML4E, PML5E).</summary>
    Table,

    /// <summary>A PAE PDPTE: only the present bit and the table it references (no rights, no A/D).</summary>
    PaePdpte,
}

/// <summary>One guest page-table entry that the workload's writer threads rewrite.</summary>
/// <param name="Gpa">Where the entry is.</param>
/// <param name="Level">Its level (1 = PTE).</param>
/// <param name="Original">The value the tables were built with; rewrites start from it, and "restore" writes it back.</param>
/// <param name="Va">A linear address whose translation goes through it (for INVLPG).</param>
/// <param name="Kind">What it is.</param>
internal readonly record struct WorkloadEntry(ulong Gpa, int Level, ulong Original, ulong Va, WorkloadEntryKind Kind);

/// <summary>
/// The guest of the simulation for one paging mode: 8 MiB of memory, two address spaces (two CR3 values, as two
/// processes have) built with <see cref="PageTableBuilder"/>, the linear addresses the vCPUs touch, the entries the
/// writers rewrite, and a kernel "direct map" through which a writer's vCPU can store to the page tables themselves.
/// </summary>
/// <remarks>
/// Layout: page tables in [4 KiB, 1 MiB) (address space A below 512 KiB, B above); data frames in [2 MiB, 8 MiB). The
/// working set is <see cref="Regions"/> page tables of <see cref="PagesPerRegion"/> 4 KiB pages each, spread over
/// several directories (and PDPTs, PML4s where the mode has them) and, in 32-bit paging, over all four 1 GiB quadrants;
/// plus <see cref="LargePages"/> large pages (2 MiB, or 4 MiB in 32-bit paging) and, in the 64-bit modes, a 1 GiB page.
/// Address space B maps the same linear addresses: it shares A's subtrees under half of the root entries and has its
/// own tables (mapping other frames) under the others.
/// </remarks>
internal sealed class WorkloadGuest : IDisposable
{
    /// <summary>Guest memory.</summary>
    public const ulong MemorySize = 8UL << 20;

    /// <summary>Page tables of the working set.</summary>
    public const int Regions = 12;

    /// <summary>4 KiB pages mapped in each.</summary>
    public const int PagesPerRegion = 256;

    /// <summary>
    /// The first pages of <see cref="Pages"/> (region 0, whose tables both address spaces share) are hot: a quarter of
    /// the accesses and of the PTE changes go there, and a quarter of the PDE changes go to its PDE (the first entry of
    /// level 2 in <see cref="EntriesByLevel"/>, as its PTEs are the first of level 1).
    /// </summary>
    public const int HotPages = PagesPerRegion;

    /// <summary>Large pages mapped besides.</summary>
    public const int LargePages = 4;

    private const ulong TablesA = 0x1000, TablesB = 0x8_0000, TablesEnd = 0x10_0000;
    private const ulong DataBase = 0x20_0000;
    private const int DataFrameCount = (int)((MemorySize - DataBase) >> 12);
    private const ulong HugeFrame = 0x4000_0000;   // 1 GiB pages map frames past the end of memory (reads translate, writes go nowhere)
    private const int FirstPte = 32;

    private readonly ulong[] _largeFrames;
    private Dictionary<ulong, int>[] _entryIndex = Array.Empty<Dictionary<ulong, int>>();

    private WorkloadGuest(PagingModeInfo mode, GuestMemory memory)
    {
        Mode = mode;
        Memory = memory;
        EntryBytes = mode.EntryBytes;
        HasNx = mode.EntryBytes == 8;
        Flags = GuestEntryFlags.For(mode);
        FrameMask = mode.EntryBytes == 8 ? 0x000F_FFFF_FFFF_F000UL : 0xFFFF_F000UL;
        LargePageSize = mode.Name == "legacy32" ? 4UL << 20 : 2UL << 20;
        HasHugePages = mode.RootLevel >= 4;
        _largeFrames = mode.Name == "legacy32" ? new[] { 0x40_0000UL } : new[] { 0x20_0000UL, 0x40_0000UL, 0x60_0000UL };
    }

    /// <summary>The paging mode.</summary>
    public PagingModeInfo Mode { get; }

    /// <summary>Guest memory (owned).</summary>
    public GuestMemory Memory { get; }

    /// <summary>4 or 8.</summary>
    public int EntryBytes { get; }

    /// <summary>True where entries have an execute-disable bit (EFER.NXE is set).</summary>
    public bool HasNx { get; }

    /// <summary>Where the entries keep their flags.</summary>
    internal GuestEntryFlags Flags { get; }

    /// <summary>Frame bits of an entry referencing a table.</summary>
    public ulong FrameMask { get; }

    /// <summary>Size of the level-2 large pages.</summary>
    public ulong LargePageSize { get; }

    /// <summary>True where level 3 maps 1 GiB pages.</summary>
    public bool HasHugePages { get; }

    /// <summary>The registers of address space A.</summary>
    public CpuState StateA { get; private set; }

    /// <summary>The registers of address space B.</summary>
    public CpuState StateB { get; private set; }

    /// <summary>Page-aligned linear addresses the vCPUs access: the 4 KiB pages, then pages inside the large ones.</summary>
    public ulong[] Pages { get; private set; } = Array.Empty<ulong>();

    /// <summary>How many of <see cref="Pages"/> are 4 KiB pages (the rest lie in large pages).</summary>
    public int SmallPages { get; private set; }

    /// <summary>The entries writers rewrite, grouped by level: <c>EntriesByLevel[level]</c> (index 0 unused).</summary>
    public WorkloadEntry[][] EntriesByLevel { get; private set; } = Array.Empty<WorkloadEntry[]>();

    /// <summary>Finds the entry at <paramref name="gpa"/> among <c>EntriesByLevel[level]</c> (read-only lookup, safe from any thread).</summary>
    public bool TryFindEntry(int level, ulong gpa, out int index)
    {
        index = -1;
        return level > 0 && level < _entryIndex.Length && _entryIndex[level].TryGetValue(gpa, out index);
    }

    /// <summary>The PTEs of <see cref="EntriesByLevel"/> grouped by the table that holds them (the fork workload rewrites a table at a time).</summary>
    public WorkloadEntry[][] LeafTables { get; private set; } = Array.Empty<WorkloadEntry[]>();

    /// <summary>Per level, the table frames (as entry frame bits) that entries of that level reference in either address space.</summary>
    public ulong[][] TablesByLevel { get; private set; } = Array.Empty<ulong[]>();

    /// <summary>Where the kernel's direct map starts: guest-physical address X is at linear address DirectMap + X (X below 1 MiB at least).</summary>
    public ulong DirectMap { get; private set; }

    /// <summary>Page-table pages in use.</summary>
    public int TablePages { get; private set; }

    /// <summary>A 2 MiB (4 MiB) frame for a level-2 entry turned into a large page.</summary>
    public ulong LargeFrame(int choice) => _largeFrames[choice % _largeFrames.Length];

    /// <summary>The frame a 1 GiB page maps.</summary>
    public static ulong HugePageFrame => HugeFrame;

    /// <summary>A data frame (4 KiB) by number, wrapping.</summary>
    public static ulong DataFrame(int n) => DataBase + ((ulong)(n % DataFrameCount) << 12);

    /// <summary>How many data frames there are.</summary>
    public static int DataFrames => DataFrameCount;

    /// <summary>Builds the guest for <paramref name="mode"/>. The layout does not depend on any seed.</summary>
    public static WorkloadGuest Build(PagingModeInfo mode)
    {
        GuestMemory memory = GuestMemory.Allocate(MemorySize);
        try
        {
            var guest = new WorkloadGuest(mode, memory);
            guest.Populate();
            return guest;
        }
        catch
        {
            memory.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => Memory.Dispose();

    private void Populate()
    {
        var a = new PageTableBuilder(Memory, Mode, TablesA, TablesB);
        var b = new PageTableBuilder(Memory, Mode, TablesB, TablesEnd);
        var pages = new List<ulong>();
        var largeVas = new List<ulong>();

        // Address space A: everything.
        for (int r = 0; r < Regions; r++)
        {
            ulong region = RegionVa(r);
            for (int i = 0; i < PagesPerRegion; i++)
            {
                ulong va = region + ((ulong)(FirstPte + i) << 12);
                a.Map(va, DataFrame((r * PagesPerRegion) + i), 0x1000, LeafFlags(r, i));
                pages.Add(va);
            }
        }

        for (int k = 0; k < LargePages; k++)
        {
            ulong va = LargeVa(k);
            a.Map(va, LargeFrame(k), LargePageSize, Flags.Leaf(writable: true, user: true, execute: !(k == 3 && HasNx)));
            largeVas.Add(va);
        }

        if (HasHugePages)
        {
            a.Map(HugeVa, HugeFrame, 1UL << 30, Flags.Leaf(writable: true, user: true, execute: true));
            largeVas.Add(HugeVa);
        }

        DirectMap = DirectMapVa;
        ulong directPage = Mode.Name switch
        {
            "legacy32" => 4UL << 20,
            "pae" => 2UL << 20,
            _ => 1UL << 30,
        };
        // Kernel-only and not executable; EPT has no kernel-only, and writers store through it, so it is read-write there.
        a.Map(DirectMap, 0, directPage, Flags.IsEpt ? Flags.Leaf(writable: true, user: true, execute: false) : Flags.SupervisorOnly(Flags.Leaf(writable: true, user: true, execute: !HasNx)));

        // Address space B: its own tables (other frames) under the root entries it does not share, then A's root entries.
        for (int r = 0; r < Regions; r++)
        {
            if (SharedRoot(RegionVa(r)))
            {
                continue;
            }

            ulong region = RegionVa(r);
            for (int i = 0; i < PagesPerRegion; i++)
            {
                b.Map(region + ((ulong)(FirstPte + i) << 12), DataFrame((r * PagesPerRegion) + i + 700), 0x1000, LeafFlags(r, i + 1));
            }
        }

        for (int k = 0; k < LargePages; k++)
        {
            if (!SharedRoot(LargeVa(k)))
            {
                b.Map(LargeVa(k), LargeFrame(k + 1), LargePageSize, Flags.Leaf(writable: true, user: true, execute: true));
            }
        }

        int rootEntries = Mode.Name switch { "pae" => 4, "legacy32" => 1024, _ => 512 };
        for (int i = 0; i < rootEntries; i++)
        {
            ulong fromA = Memory.ReadEntry(a.Root + (ulong)(i * EntryBytes), EntryBytes);
            ulong gpaB = b.Root + (ulong)(i * EntryBytes);
            if (Flags.IsPresent(fromA) && !Flags.IsPresent(Memory.ReadEntry(gpaB, EntryBytes)))
            {
                Memory.WriteEntry(gpaB, fromA, EntryBytes);
            }
        }

        // Both builders' tables are in use (B's root too, even where it is all copies).
        TablePages = a.TablePages.Count + b.TablePages.Count;
        Pages = new ulong[pages.Count + (largeVas.Count * 64)];
        pages.CopyTo(Pages);
        SmallPages = pages.Count;
        int next = pages.Count;
        foreach (ulong large in largeVas)
        {
            // 64 pages spread over each large page: enough to fill direct shadow pages on both sides of a 2 MiB half.
            ulong size = large == HugeVa && HasHugePages ? 1UL << 30 : LargePageSize;
            ulong stride = size / 64;
            for (int j = 0; j < 64; j++)
            {
                Pages[next++] = large + ((ulong)j * stride) + ((ulong)(j % 7) << 12);
            }
        }

        CollectEntries(a, b);
        // The registers that select the mode (for EPT, L1's EPT with A/D flags on, as the spec allows).
        StateA = PagingModeFacts.Of(Mode).SelectingState(a.Root);
        StateB = PagingModeFacts.Of(Mode).SelectingState(b.Root);
    }

    /// <summary>
    /// Leaf flags of page <paramref name="i"/> of region <paramref name="r"/>: mostly user read-write, some read-only,
    /// supervisor-only or no-execute pages, a few never accessed (prefetch stops at them) or clean.
    /// </summary>
    private ulong LeafFlags(int r, int i)
    {
        ulong flags = Flags.Leaf(writable: i % 8 != 5, user: true, execute: !(HasNx && (i + r) % 5 == 2), accessed: i % 32 != 17, dirty: i % 11 != 3);
        return i % 16 == 9 ? Flags.SupervisorOnly(flags) : flags;
    }

    // ---- Linear addresses ----

    /// <summary>The first linear address of region <paramref name="r"/>'s page table.</summary>
    private ulong RegionVa(int r) => Mode.Name switch
    {
        // One page table per PDE, in all four 1 GiB quadrants of the directory (four shadow roots).
        "legacy32" => (ulong)(((r % 4) * 256) + 8 + (r / 4)) << 22,
        // Three PDPTE registers (the fourth holds the direct map), three tables under each directory.
        "pae" => ((ulong)(r % 3) << 30) | ((ulong)(4 + (r / 3)) << 21),
        // Two entries at each level above the directory.
        _ => TreeVa(r, 4 + (r >> (Mode.RootLevel - 2))),
    };

    private ulong LargeVa(int k) => Mode.Name switch
    {
        "legacy32" => (ulong)(((k % 4) * 256) + 100 + k) << 22,
        "pae" => ((ulong)(k % 3) << 30) | ((ulong)(100 + k) << 21),
        _ => TreeVa(k, 100 + k),
    };

    /// <summary>4/5-level: bit j of <paramref name="r"/> picks entry 1 or 2 at level root - j; <paramref name="pde"/> is the directory index.</summary>
    private ulong TreeVa(int r, int pde)
    {
        ulong va = (ulong)pde << 21;
        for (int level = Mode.RootLevel, bit = 0; level >= 3; level--, bit++)
        {
            ulong index = 1 + (ulong)((r >> bit) & 1);
            va |= index << (12 + (9 * (level - 1)));
        }

        return va;
    }

    private ulong HugeVa => (1UL << (12 + (9 * (Mode.RootLevel - 1)))) | (7UL << 30);

    /// <summary>The direct map: kernel-only, in the upper half where the mode has one.</summary>
    private ulong DirectMapVa => Mode.Name switch
    {
        "legacy32" => 0xFFC0_0000UL,
        "pae" => 0xC000_0000UL,
        "long4" => 0xFFFF_8000_0000_0000UL,
        // Guest-physical addresses have no upper half: the last quarter of root entries.
        "ept4" => 0x7F80_0000_0000UL,
        "ept5" => 0xFF_0000_0000_0000UL,
        _ => 0xFF00_0000_0000_0000UL,
    };

    /// <summary>True when B shares A's subtree under the root entry of <paramref name="va"/>.</summary>
    private bool SharedRoot(ulong va) => Mode.Name switch
    {
        "legacy32" => ((va >> 22) & 1) == 0,
        "pae" => ((va >> 30) & 3) == 0,
        _ => ((va >> (12 + (9 * (Mode.RootLevel - 1)))) & 511) == 1,
    };

    // ---- The entries writers rewrite ----

    private void CollectEntries(PageTableBuilder a, PageTableBuilder b)
    {
        int levels = Mode.RootLevel;
        var byLevel = new List<WorkloadEntry>[levels + 1];
        var tables = new HashSet<ulong>[levels + 1];
        for (int level = 1; level <= levels; level++)
        {
            byLevel[level] = new List<WorkloadEntry>();
            tables[level] = new HashSet<ulong>();
        }

        var seen = new HashSet<ulong>();
        var excluded = new HashSet<ulong>();
        foreach (PageTableBuilder builder in new[] { a, b })
        {
            for (int level = 1; level <= levels; level++)
            {
                if (builder.EntryAddress(DirectMap, level) is ulong gpa)
                {
                    excluded.Add(gpa);
                }
            }
        }

        foreach (PageTableBuilder builder in new[] { a, b })
        {
            foreach (ulong va in Pages)
            {
                for (int level = 1; level <= levels; level++)
                {
                    if (builder.EntryAddress(va, level) is not ulong gpa || excluded.Contains(gpa))
                    {
                        continue;
                    }

                    ulong value = Memory.ReadEntry(gpa, EntryBytes);
                    if (!Flags.IsPresent(value))
                    {
                        continue;
                    }

                    bool large = level > 1 && (value & Flags.PageSize) != 0 && !(Mode.Name == "pae" && level == 3);
                    if (level > 1 && !large)
                    {
                        tables[level].Add(value & FrameMask);
                    }

                    if (!seen.Add(gpa))
                    {
                        continue;
                    }

                    WorkloadEntryKind kind = level switch
                    {
                        1 => WorkloadEntryKind.Leaf,
                        3 when Mode.Name == "pae" => WorkloadEntryKind.PaePdpte,
                        2 => WorkloadEntryKind.TableOrLarge,
                        3 when HasHugePages => WorkloadEntryKind.TableOrLarge,
                        _ => WorkloadEntryKind.Table,
                    };
                    byLevel[level].Add(new WorkloadEntry(gpa, level, value, va, kind));
                }
            }
        }

        EntriesByLevel = new WorkloadEntry[levels + 1][];
        TablesByLevel = new ulong[levels + 1][];
        EntriesByLevel[0] = Array.Empty<WorkloadEntry>();
        TablesByLevel[0] = Array.Empty<ulong>();
        _entryIndex = new Dictionary<ulong, int>[levels + 1];
        _entryIndex[0] = new Dictionary<ulong, int>();
        for (int level = 1; level <= levels; level++)
        {
            EntriesByLevel[level] = byLevel[level].ToArray();
            _entryIndex[level] = new Dictionary<ulong, int>(EntriesByLevel[level].Length);
            for (int i = 0; i < EntriesByLevel[level].Length; i++)
            {
                _entryIndex[level][EntriesByLevel[level][i].Gpa] = i;
            }

            var list = new List<ulong>(tables[level]);
            list.Sort();
            TablesByLevel[level] = list.ToArray();
        }

        var byTable = new SortedDictionary<ulong, List<WorkloadEntry>>();
        foreach (WorkloadEntry entry in EntriesByLevel[1])
        {
            if (!byTable.TryGetValue(entry.Gpa >> 12, out List<WorkloadEntry>? group))
            {
                byTable.Add(entry.Gpa >> 12, group = new List<WorkloadEntry>());
            }

            group.Add(entry);
        }

        LeafTables = new WorkloadEntry[byTable.Count][];
        int t = 0;
        foreach (List<WorkloadEntry> group in byTable.Values)
        {
            LeafTables[t++] = group.ToArray();
        }
    }
}
