using System.Collections.Generic;
using System.Linq;
using ShadowMmu.Specs;

namespace ShadowMmu.Generators
{
    /// <summary>
    /// Everything the emitter prints for one spec, decided once by <see cref="Planner"/>: the walk's shape level by
    /// level, each format's bits, the precomputed tables, and which methods the walker gets (and why not). Immutable
    /// and structurally equatable, so that the incremental pipeline tells an unchanged plan from a changed one; the
    /// emitter reads it and decides nothing (System.Text.Json's generator keeps its <c>TypeGenerationSpec</c> so).
    /// </summary>
    internal sealed record WalkerPlan(
        string FilePath,
        string WalkerName,
        string Mode,
        string Title,
        string FileName,
        string SourceText,
        int ModeLine,
        ImmutableEquatableArray<SpecCondition> SelectedWhen,
        SpecFormat Format,
        int EntryBytes,
        AddressPlan Address,
        ulong RootMask,
        int RootLevel,
        int FirstMemoryLevel,
        ImmutableEquatableArray<LevelPlan> Levels,
        ReservedBitsPlan Reserved,
        ulong PageSizeMask,
        AccessedDirtyPlan? AccessedDirty,
        X86Plan? X86,
        EptPlan? Ept,
        bool NestedWalk,
        ShadowPlan? Shadow,
        SyncPlan? Sync,
        ImmutableEquatableArray<Omission> Omitted)
    {
        /// <summary>Some level is read with one aligned atomic load: the walk takes memory's base once, and the walker has ReadEntry.</summary>
        public bool ReadsAlignedEntries => Levels.Any(l => l.Read == EntryRead.Aligned);

        /// <summary>The level whose entries are registers loaded with CR3 (PAE's PDPTEs), if any.</summary>
        public LevelPlan? RegisterLevel => Levels.FirstOrDefault(l => l.Read == EntryRead.Register);

        /// <summary>The levels whose entries the walk reads from memory, root first.</summary>
        public IEnumerable<LevelPlan> MemoryLevels => Levels.Where(l => l.Read != EntryRead.Register);

        /// <summary>The plan of level <paramref name="level"/> (1 maps 4 KiB pages).</summary>
        public LevelPlan Level(int level) => Levels[Levels.Count - level];
    }

    /// <summary>How wide an address the walk translates, and what it does with the bits above.</summary>
    internal sealed record AddressPlan(int Bits, AddressCheck Check);

    /// <summary>What the walk does with the address bits at and above <see cref="AddressPlan.Bits"/>.</summary>
    internal enum AddressCheck
    {
        /// <summary>The address is 64 bits wide: nothing.</summary>
        None,

        /// <summary>They are ignored: the address is masked to its width.</summary>
        Truncate,

        /// <summary>They must copy the top bit of the width (a canonical address), else #GP(0) before any table is read.</summary>
        Canonical,

        /// <summary>
        /// EPT narrower than a guest-physical address (52 bits): the bits between its width and bit 51 must be 0, else an
        /// EPT violation with no rights in its qualification before any entry is read; bits 63:52 no address has.
        /// </summary>
        EptViolation,
    }

    /// <summary>How the walk reads a level's entry.</summary>
    internal enum EntryRead
    {
        /// <summary>From the registers loaded when the walker was built (PAE's PDPTEs).</summary>
        Register,

        /// <summary>One aligned atomic load: the table's address leaves every entry naturally aligned.</summary>
        Aligned,

        /// <summary>The checked read: the table's address may leave the entry unaligned.</summary>
        Checked,
    }

    /// <summary>One level of the walk, root first.</summary>
    /// <param name="Level">1 for the table that maps 4 KiB pages.</param>
    /// <param name="EntryName">The SDM's name of its entries (PML4E, PDE, ...).</param>
    /// <param name="Index">The address bits that select the entry.</param>
    /// <param name="Read">How its entry is read.</param>
    /// <param name="TableMask">The entry bits that address the next table; 0 at level 1.</param>
    /// <param name="TableReservedField">The walker field holding the reserved bits of an entry that references a table.</param>
    /// <param name="Page">The page an entry of this level may map, or null.</param>
    /// <param name="RegistersField">The walker field holding the registers of a register level.</param>
    /// <param name="Line">The spec line of its <c>level</c> statement (0-based).</param>
    internal sealed record LevelPlan(
        int Level,
        string EntryName,
        BitRange Index,
        EntryRead Read,
        ulong TableMask,
        string? TableReservedField,
        PagePlan? Page,
        string? RegistersField,
        int Line);

    /// <summary>The page a level's entry maps: at level 1 always, above only when its page-size bit is set.</summary>
    /// <param name="SizeName">As the spec writes it (4K, 2M, ...).</param>
    /// <param name="Size">In bytes.</param>
    /// <param name="FrameMask">The entry bits that hold the page's frame.</param>
    /// <param name="High">Entry bits that hold physical-address bits from <paramref name="HighAt"/> up (PSE-36), or null.</param>
    /// <param name="HighAt">The physical-address bit that <paramref name="High"/>'s lowest bit stands for.</param>
    /// <param name="ReservedField">The walker field holding the reserved bits of an entry that maps this page.</param>
    /// <param name="When">The condition under which the level maps pages (for people), or null.</param>
    /// <param name="Gate">
    /// Without <see cref="When"/> the page-size bit is ignored (the entry references a table): the walker field that
    /// says whether it holds, or null when the bit counts (always, or as a reserved bit).
    /// </param>
    internal sealed record PagePlan(
        string SizeName,
        ulong Size,
        ulong FrameMask,
        BitRange? High,
        int HighAt,
        string ReservedField,
        SpecCondition? When,
        string? Gate);

    /// <summary>
    /// KVM's <c>rsvd_bits_mask</c>, precomputed: one column per kind of entry, one row per combination of the
    /// conditions the reserved-bit rules name; the part that depends on MAXPHYADDR is added when a walker is built.
    /// </summary>
    /// <param name="Conditions">The conditions, bit i of a row number standing for Conditions[i].</param>
    /// <param name="Columns">The kinds of entry, in level order.</param>
    /// <param name="Masks">Row-major: <c>Masks[row * Columns.Count + column]</c>.</param>
    internal sealed record ReservedBitsPlan(
        ImmutableEquatableArray<string> Conditions,
        ImmutableEquatableArray<ReservedColumn> Columns,
        ImmutableEquatableArray<ulong> Masks);

    /// <summary>One kind of entry: a level's entry that references a table, or one that maps a page.</summary>
    /// <param name="Field">The walker field holding its reserved bits for the walker's CPU state.</param>
    /// <param name="Description">For the table's comment: the entry's name, and the page it maps.</param>
    /// <param name="AddressMask">The address bits of the entry, reserved at and above MAXPHYADDR.</param>
    /// <param name="HighMask">Entry bits that hold physical-address bits from bit 32 up (PSE-36), or 0.</param>
    /// <param name="HighShift">How far <paramref name="HighMask"/>'s bits move to their physical-address bits.</param>
    internal sealed record ReservedColumn(string Field, string Description, ulong AddressMask, ulong HighMask, int HighShift);

    /// <summary>The accessed and dirty flags the walk sets, and the condition under which the entries have them.</summary>
    /// <param name="When">With EPT, EPTP.AD: without it the flags are ignored and every entry counts as accessed and dirty.</param>
    internal sealed record AccessedDirtyPlan(int AccessedBit, int? DirtyBit, SpecCondition? When)
    {
        public ulong AccessedMask => 1UL << AccessedBit;

        public ulong DirtyMask => DirtyBit is int bit ? 1UL << bit : 0;
    }

    /// <summary>What only an x86 format has: its present, writable, user and execute-disable bits, keys and bitmap.</summary>
    /// <param name="FoldsRights">
    /// Present, writable and user are bits 0, 1 and 2 (and execute-disable above them): the rights and the accessed
    /// flags accumulate in one AND of the entries (KVM's <c>pte_access = pt_access &amp; (pte ^ walk_nx_mask)</c>).
    /// </param>
    /// <param name="Permissions">KVM's permission bitmap: 16 rows of 16 request bytes.</param>
    internal sealed record X86Plan(
        int PresentBit,
        int WritableBit,
        int UserBit,
        bool FoldsRights,
        FlagBit? ExecuteDisable,
        ProtectionKeyPlan? ProtectionKey,
        ImmutableEquatableArray<byte> Permissions);

    /// <summary>The leaf's protection-key field and KVM's PKRU masks.</summary>
    /// <param name="LeafFaultWords">64-bit words of the per-CPU table of request, rights and key that fault.</param>
    internal sealed record ProtectionKeyPlan(BitRange Bits, SpecCondition? When, uint PkruMaskWp0, uint PkruMaskWp1, int LeafFaultWords);

    /// <summary>What only an EPT format has: its rights bits, memory types and the misconfiguration and permission tables.</summary>
    /// <param name="StandardLayout">Entry bits 5:0 are memory type and XWR as the SDM places them: the bitmap index is one mask.</param>
    /// <param name="BadMemoryTypeXwr">KVM's <c>bad_mt_xwr</c>: rows execute-only off and on, a word for user-execute clear and set.</param>
    /// <param name="Permissions">Rows mode-based execute control off and on; bit v of an entry: the request faults on rights v.</param>
    /// <param name="RightsQualification">The exit qualification's bits 3 to 6 for each rights value.</param>
    internal sealed record EptPlan(
        int ReadBit,
        int WriteBit,
        int ExecuteBit,
        FlagBit? UserExecute,
        bool ExecuteOnly,
        SpecCondition? ExecuteOnlyWhen,
        BitRange MemoryType,
        ImmutableEquatableArray<int> ReservedMemoryTypes,
        FlagBit? IgnorePat,
        bool StandardLayout,
        ImmutableEquatableArray<ulong> BadMemoryTypeXwr,
        ImmutableEquatableArray<ushort> Permissions,
        ImmutableEquatableArray<byte> RightsQualification);

    /// <summary>Shadow paging: the roots, Fetch and Prefetch (KVM's <c>FNAME(fetch)</c> and <c>FNAME(pte_prefetch)</c>).</summary>
    /// <param name="RootLevel">The level of the shadow root.</param>
    /// <param name="Roots">Where the shadow roots come from.</param>
    /// <param name="Quadrants">4-byte guest entries: each guest table is shadowed by two shadow pages, va[21] picking the half.</param>
    /// <param name="ReadsGroupsDirectly">The leaf's group of 8 entries is read with eight aligned loads.</param>
    internal sealed record ShadowPlan(int RootLevel, ShadowRoots Roots, bool Quadrants, bool ReadsGroupsDirectly);

    /// <summary>
    /// Re-reading unsync guest page tables at the guest's TLB flushes (KVM's <c>FNAME(sync_spte)</c>, the loop of
    /// <c>kvm_sync_page</c>, and the old <c>FNAME(invlpg)</c>'s prefetch of the entry): only tables of 4 KiB pages go unsync.
    /// </summary>
    /// <param name="Quadrants">4-byte guest entries: a level-1 shadow page covers half the guest table, the quadrant in its role.</param>
    internal sealed record SyncPlan(bool Quadrants);

    /// <summary>The roots of the shadow tables.</summary>
    internal enum ShadowRoots
    {
        /// <summary>One root: the table CR3 names.</summary>
        One,

        /// <summary>Four roots, one per GiB of a 32-bit linear space, each a quadrant of the guest's page directory.</summary>
        Quadrants,

        /// <summary>Four roots, one per register of the register level (PAE's PDPTEs).</summary>
        Registers,
    }

    /// <summary>Methods a walker does not get, and why: the generator says so with an Info diagnostic.</summary>
    /// <param name="Methods">The methods, as the message names them.</param>
    /// <param name="Reason">Why, from the spec's point of view.</param>
    /// <param name="Line">The spec line the reason points at (0-based).</param>
    internal sealed record Omission(string Methods, string Reason, int Line);
}
