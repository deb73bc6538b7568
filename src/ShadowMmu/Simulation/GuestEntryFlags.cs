namespace ShadowMmu;

/// <summary>
/// Where the simulated guest's page-table entries keep their flags, for the mode's format: the x86 bits, or EPT's
/// (for a nested guest, whose "page tables" are L1's EPT tables). The workload builds and rewrites entries through
/// these, so one workload serves every mode.
/// </summary>
/// <param name="IsEpt">EPT entries rather than x86 ones.</param>
/// <param name="PresentMask">Bits that make an entry present: clearing them all makes it not present.</param>
/// <param name="User">x86 U/S; EPT R, which KVM maps onto user accesses.</param>
/// <param name="Accessed">The accessed flag.</param>
/// <param name="Dirty">The dirty flag.</param>
/// <param name="ExecuteToggle">The bit that toggles execution: x86 NX (where entries have one), EPT X; 0 where there is none.</param>
/// <param name="Executable">Bits an executable leaf carries (EPT: X).</param>
/// <param name="LeafExtra">Bits every leaf carries besides its rights (EPT: the write-back memory type).</param>
internal sealed record GuestEntryFlags(bool IsEpt, ulong PresentMask, ulong User, ulong Accessed, ulong Dirty, ulong ExecuteToggle, ulong Executable, ulong LeafExtra)
{
    private static readonly GuestEntryFlags X86Narrow = new(false, PresentMask: 1, User: 4, Accessed: 0x20, Dirty: 0x40, ExecuteToggle: 0, Executable: 0, LeafExtra: 0);
    private static readonly GuestEntryFlags X86Wide = X86Narrow with { ExecuteToggle = 1UL << 63 };
    private static readonly GuestEntryFlags EptFlags = new(true, PresentMask: 0x407, User: 1, Accessed: 0x100, Dirty: 0x200, ExecuteToggle: 4, Executable: 4, LeafExtra: 6 << 3);

    /// <summary>The flags of <paramref name="mode"/>'s entries.</summary>
    public static GuestEntryFlags For(PagingModeInfo mode) => mode.IsEpt ? EptFlags : mode.EntryBytes == 8 ? X86Wide : X86Narrow;

    /// <summary>The bit the page-table builder adds to every entry it writes (x86 P, EPT R).</summary>
    public ulong Present => 1;

    public ulong Writable => 2;

    public ulong PageSize => 0x80;

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
