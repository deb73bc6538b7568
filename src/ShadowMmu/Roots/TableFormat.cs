using System;
using System.Linq;
using ShadowMmu.Specs;

namespace ShadowMmu.Roots;

/// <summary>
/// How the root finder reads the entries of one x86 paging mode, level by level, worked out once from the mode's spec
/// (the same text the generator and the reference walker read). The processor state is the one that selects the mode
/// with every feature on (NX, 1 GiB pages, PSE-36, CR4.PSE for 32-bit paging) and MAXPHYADDR 52: a dump does not say
/// its CPU's MAXPHYADDR, so only the bits the architecture always reserves count as reserved here, and the finder
/// checks instead that every table an entry references lies in the dump.
/// </summary>
internal sealed class TableFormat
{
    /// <summary>
    /// PAE: the bit of a PDPTE the SDM reserves and QEMU's TCG sets in memory as it walks (the accessed flag, bit 5):
    /// every PDPT of a guest run under TCG has it, so the finder tolerates it there (and only it).
    /// </summary>
    public const ulong QemuPdpteAccessed = 1UL << 5;

    private readonly LevelFormat[] _levels;

    private TableFormat(PagingModeInfo mode)
    {
        Mode = mode;
        PagingSpec spec = SpecParser.Parse(mode.SpecFile, mode.SpecText).Spec
            ?? throw new ArgumentException($"The spec of '{mode.Name}' is invalid.", nameof(mode));
        var cpu = PagingModeFacts.Of(mode).SelectingState(0) with { MaxPhysAddr = 52, Features = CpuFeatures.All };
        var rules = new ReferenceEntryRules(spec, cpu);
        EntryBytes = spec.EntryBytes;
        RootLevel = spec.RootLevel;
        RootMask = spec.Root.Mask;
        PresentBit = 1UL << spec.Present.Bit;
        UserBit = 1UL << spec.User.Bit;
        AccessedAndDirty = (spec.Accessed is { } a ? 1UL << a.Bit : 0) | (spec.Dirty is { } d ? 1UL << d.Bit : 0);
        _levels = new LevelFormat[RootLevel + 1];
        foreach (LevelSpec level in spec.Levels)
        {
            _levels[level.Level] = new LevelFormat(spec, level, rules);
        }

        RootBytes = _levels[RootLevel].Entries * EntryBytes;
    }

    /// <summary>The four x86 modes, in the order candidates of equal standing are listed.</summary>
    public static TableFormat Long4 { get; } = new(ModeNamed("long4"));

    /// <summary>5-level paging.</summary>
    public static TableFormat Long5 { get; } = new(ModeNamed("long5"));

    /// <summary>PAE paging.</summary>
    public static TableFormat Pae { get; } = new(ModeNamed("pae"));

    /// <summary>32-bit paging.</summary>
    public static TableFormat Legacy32 { get; } = new(ModeNamed("legacy32"));

    /// <summary>The mode.</summary>
    public PagingModeInfo Mode { get; }

    /// <summary>Bytes per entry: 8, or 4 for 32-bit paging.</summary>
    public int EntryBytes { get; }

    /// <summary>The root table's level (long4: 4; PAE: 3, the PDPT).</summary>
    public int RootLevel { get; }

    /// <summary>The bits of CR3 that hold the root's address (PAE: 31:5).</summary>
    public ulong RootMask { get; }

    /// <summary>Bytes of the root table: 4096, or 32 for PAE's PDPT.</summary>
    public int RootBytes { get; }

    /// <summary>The present flag.</summary>
    public ulong PresentBit { get; }

    /// <summary>The user/supervisor flag.</summary>
    public ulong UserBit { get; }

    /// <summary>The accessed and dirty flags, which the processor sets in each table on its own (masked when tables are compared).</summary>
    public ulong AccessedAndDirty { get; }

    /// <summary>One level's format.</summary>
    public LevelFormat Level(int level) => _levels[level];

    private static PagingModeInfo ModeNamed(string name) => PagingModes.All.Single(m => m.Name == name);
}

/// <summary>One level of a <see cref="TableFormat"/>: which entries map pages, which bits are reserved, where addresses are.</summary>
internal sealed class LevelFormat
{
    public LevelFormat(PagingSpec spec, LevelSpec level, ReferenceEntryRules rules)
    {
        Level = level.Level;
        Entries = 1 << level.Index.Width;
        Register = level.Register;
        TableMask = level.Table?.Mask ?? 0;
        TableReserved = level.Table != null ? rules.ReservedBits(level, isPage: false) : ulong.MaxValue;
        if (level.Page is { } page)
        {
            ulong psBit = spec.PageSize is { } ps ? 1UL << ps.Bit : 0;
            if (Level == 1)
            {
                AlwaysPage = true;
            }
            else if (rules.Holds(page.When))
            {
                PageSizeBit = psBit;
            }
            else if (page.ElseReserved)
            {
                TableReserved |= psBit;
            }

            PageReserved = rules.ReservedBits(level, isPage: true);
            PageBytes = page.Size;
            FrameMask = page.Frame.Mask;
            if (page.High is { } high)
            {
                HighMask = high.Mask;
                HighShift = page.HighAt - high.Lo;
            }
        }

        if (Register)
        {
            // QEMU's TCG sets the accessed flag in PDPTEs in memory; see TableFormat.QemuPdpteAccessed.
            TableReserved &= ~TableFormat.QemuPdpteAccessed;
        }
    }

    /// <summary>The level (1 for page tables).</summary>
    public int Level { get; }

    /// <summary>Entries in a table of this level (PAE's PDPT: 4).</summary>
    public int Entries { get; }

    /// <summary>True for a level the processor holds in registers (PAE's PDPTEs).</summary>
    public bool Register { get; }

    /// <summary>The bits of an entry that hold the next table's address, or 0 when none does.</summary>
    public ulong TableMask { get; }

    /// <summary>Bits that must be clear in an entry that references a table (all bits when none may).</summary>
    public ulong TableReserved { get; }

    /// <summary>Level 1: every present entry maps a page.</summary>
    public bool AlwaysPage { get; }

    /// <summary>The page-size flag when it selects a page at this level, else 0.</summary>
    public ulong PageSizeBit { get; }

    /// <summary>Bits that must be clear in an entry that maps a page.</summary>
    public ulong PageReserved { get; }

    /// <summary>Bytes of the page an entry of this level maps (0 when none does).</summary>
    public ulong PageBytes { get; }

    /// <summary>True when <paramref name="entry"/> (present) maps a page rather than referencing a table.</summary>
    public bool MapsPage(ulong entry) => AlwaysPage || (entry & PageSizeBit) != 0;

    /// <summary>The bits of a leaf entry that hold its page's address.</summary>
    public ulong FrameMask { get; }

    /// <summary>32-bit paging's PSE-36 bits (20:13 of a 4 MiB PDE), or 0.</summary>
    public ulong HighMask { get; }

    /// <summary>How far the PSE-36 bits move up to become address bits (39:32).</summary>
    public int HighShift { get; }

    /// <summary>The physical address of the page a leaf entry maps (PSE-36 bits included), as the reference walker reads it.</summary>
    public ulong PageFrame(ulong entry) => (entry & FrameMask) | ((entry & HighMask) << HighShift);
}
