using System.Collections.Generic;

namespace ShadowMmu.Roots;

/// <summary>How sure the finder is that a candidate is a root some CPU of the guest used (or could have used).</summary>
public enum RootConfidence
{
    /// <summary>Well-formed tables that map something, and nothing more: could be a root, or a table that looks like one.</summary>
    Low,

    /// <summary>Well-formed tables that map much, or share something with other candidates.</summary>
    Medium,

    /// <summary>What only an operating system's root tables have: a kernel half shared with other tables, or a self-map.</summary>
    High,

    /// <summary>The dump itself names it (VMCOREINFO or a CPU's CR3), and its tables are well formed.</summary>
    Certain,
}

/// <summary>What kind of fact a piece of <see cref="RootEvidence"/> is.</summary>
public enum RootEvidenceKind
{
    /// <summary>The kernel's VMCOREINFO names this root (the kernel's own page tables).</summary>
    Vmcoreinfo,

    /// <summary>A CPU's CR3 in the dump's notes.</summary>
    CpuRegister,

    /// <summary>Its upper (kernel) half is the same as other candidates': all of an operating system's address spaces share one.</summary>
    SharedKernelHalf,

    /// <summary>An entry references the table itself (Windows' self-map).</summary>
    SelfReference,

    /// <summary>One of Linux's page-table-isolation pairs (kernel table, user table 4 KiB above it).</summary>
    PtiPair,

    /// <summary>What a walk of its tables found: pages mapped, tables read.</summary>
    Walk,

    /// <summary>Why this paging mode (the dump's word, or the tables' shape).</summary>
    Mode,

    /// <summary>Something that speaks against it (malformed tables, empty tables, pages outside the dump).</summary>
    Doubt,
}

/// <summary>One fact about a candidate, with the text a person reads.</summary>
/// <param name="Kind">What kind of fact.</param>
/// <param name="Text">E.g. "VMCOREINFO SYMBOL(init_top_pgt)", "CPU 0's CR3", "kernel half shared with 9 other tables".</param>
public readonly record struct RootEvidence(RootEvidenceKind Kind, string Text)
{
    /// <inheritdoc/>
    public override string ToString() => Text;
}

/// <summary>
/// A top-level paging structure found in a dump: the CR3 that would select it, the paging mode it implies, how sure
/// the finder is, and why.
/// </summary>
public sealed class RootCandidate
{
    internal RootCandidate(ulong root, PagingModeInfo mode)
    {
        Root = root;
        Mode = mode;
    }

    /// <summary>The root table's physical address as CR3 holds it (PAE: the PDPT's, 32-byte aligned).</summary>
    public ulong Root { get; }

    /// <summary>The paging mode its tables are read in.</summary>
    public PagingModeInfo Mode { get; }

    /// <summary>How sure the finder is.</summary>
    public RootConfidence Confidence { get; internal set; }

    /// <summary>The score the ranking uses, 0 to 100 (see <see cref="RootFinder"/> for what counts).</summary>
    public int Score { get; internal set; }

    /// <summary>Why, strongest first.</summary>
    public IReadOnlyList<RootEvidence> Evidence => EvidenceList;

    /// <summary>Pages its tables map (leaf entries of any size; a page mapped twice counts twice, as a walk finds it).</summary>
    public long PagesMapped { get; internal set; }

    /// <summary>Of those, the pages user mode may access (U/S set at every level): a process's own; 0 for a kernel's tables.</summary>
    public long UserPagesMapped { get; internal set; }

    /// <summary>Bytes its tables map.</summary>
    public ulong BytesMapped { get; internal set; }

    /// <summary>Paging-structure tables read below and including the root.</summary>
    public long Tables { get; internal set; }

    /// <summary>Tables a walk would refuse (a reserved bit set, a table outside the dump); 0 for every candidate found by the scan.</summary>
    public long MalformedTables { get; internal set; }

    /// <summary>How many other candidates have the same kernel half (the upper half of a PML4/PML5, the top quarter of a 32-bit or PAE table).</summary>
    public int SharesKernelHalfWith { get; internal set; }

    /// <summary>For a PTI pair: the other table of the pair (user table for the kernel one, and the reverse), else null.</summary>
    public ulong? PtiPartner { get; internal set; }

    /// <summary>True for the user table of a PTI pair (the one 4 KiB above the kernel's).</summary>
    public bool IsPtiUserTable { get; internal set; }

    /// <summary>The CPUs whose CR3 selects it (from the dump's notes), in CPU order.</summary>
    public IReadOnlyList<int> Cpus => CpuList;

    /// <summary>True when VMCOREINFO names it: the kernel's own page tables.</summary>
    public bool FromVmcoreinfo { get; internal set; }

    internal List<RootEvidence> EvidenceList { get; } = new();

    internal List<int> CpuList { get; } = new();

    /// <summary>
    /// Registers that select this root and its mode (CR0.PG and WP, CR4.PAE/LA57/PSE, EFER.LME/LMA/NXE as the mode
    /// needs, CR3 = <see cref="Root"/>), for the walkers and <see cref="AddressSpace"/>.
    /// </summary>
    public CpuState SelectingState() => PagingModeFacts.Of(Mode).SelectingState(Root);

    /// <inheritdoc/>
    public override string ToString() => $"0x{Root:x} {Mode.Name} {Confidence}: {string.Join("; ", EvidenceList)}";
}
