namespace ShadowMmu;

/// <summary>
/// Where the simulated guest's page-table entries keep their flags, for the mode's format: the x86 bits, or EPT's
/// (for a nested guest, whose "page tables" are L1's EPT tables). The workload builds and rewrites entries through
/// these, so one workload serves every mode.
/// </summary>
internal sealed class GuestEntryFlags
{
    private static readonly GuestEntryFlags X86Narrow = new(false, presentMask: 1, user: 4, accessed: 0x20, dirty: 0x40, executeToggle: 0, executable: 0, leafExtra: 0);
    private static readonly GuestEntryFlags X86Wide = new(false, presentMask: 1, user: 4, accessed: 0x20, dirty: 0x40, executeToggle: 1UL << 63, executable: 0, leafExtra: 0);

    // EPT: R (bit 0) plays the part of U/S, as KVM maps EPT reads onto user accesses; X (bit 2) the part of NX, inverted;
    // leaves are write-back (memory type 6) with A/D flags in bits 8 and 9.
    private static readonly GuestEntryFlags EptFlags = new(true, presentMask: 0x407, user: 1, accessed: 0x100, dirty: 0x200, executeToggle: 4, executable: 4, leafExtra: 6 << 3);

    private GuestEntryFlags(bool ept, ulong presentMask, ulong user, ulong accessed, ulong dirty, ulong executeToggle, ulong executable, ulong leafExtra)
    {
        IsEpt = ept;
        PresentMask = presentMask;
        User = user;
        Accessed = accessed;
        Dirty = dirty;
        ExecuteToggle = executeToggle;
        Executable = executable;
        LeafExtra = leafExtra;
    }

    /// <summary>The flags of <paramref name="mode"/>'s entries.</summary>
    public static GuestEntryFlags For(PagingModeInfo mode) => mode.IsEpt ? EptFlags : mode.EntryBytes == 8 ? X86Wide : X86Narrow;

    public bool IsEpt { get; }

    /// <summary>Bits that make an entry present: clearing them all makes it not present.</summary>
    public ulong PresentMask { get; }

    /// <summary>The bit the page-table builder adds to every entry it writes (x86 P, EPT R).</summary>
    public ulong Present => 1;

    public ulong Writable => 2;

    /// <summary>x86 U/S; EPT R.</summary>
    public ulong User { get; }

    public ulong Accessed { get; }

    public ulong Dirty { get; }

    public ulong PageSize => 0x80;

    /// <summary>The bit that toggles execution: x86 NX (where entries have one), EPT X; 0 where there is none.</summary>
    public ulong ExecuteToggle { get; }

    /// <summary>Bits an executable leaf carries (EPT: X).</summary>
    public ulong Executable { get; }

    /// <summary>Bits every leaf carries besides its rights (EPT: the memory type).</summary>
    public ulong LeafExtra { get; }

    /// <summary>A leaf's flags: writable, user-accessible (EPT: readable), executable or not, accessed and dirty.</summary>
    public ulong Leaf(bool writable, bool user, bool execute, bool accessed = true, bool dirty = true)
    {
        ulong flags = LeafExtra | (writable ? Writable : 0) | (user ? User : 0) | (accessed ? Accessed : 0) | (dirty ? Dirty : 0);
        return execute ? flags | Executable : IsEpt ? flags : flags | ExecuteToggle;
    }

    /// <summary>A supervisor-only leaf: x86 U/S = 0; EPT has no such thing, so the page becomes execute-only.</summary>
    public ulong SupervisorOnly(ulong flags) => IsEpt ? flags & ~(User | Writable) : flags & ~User;

    public bool IsPresent(ulong entry) => (entry & PresentMask) != 0;
}
