namespace ShadowMmu;

/// <summary>
/// What a shadow page shadows besides its guest frame, KVM's <c>union kvm_mmu_page_role</c>: two shadow pages are
/// the same page only when frame and role are equal. Packed into one word, as KVM packs it.
/// </summary>
public readonly record struct ShadowRole(uint Word)
{
    private const int LevelShift = 0, QuadrantShift = 4, DirectShift = 6, AccessShift = 7, Cr0WpShift = 10,
        NxShift = 11, FourByteShift = 12, SmepAndNotWpShift = 13, SmapAndNotWpShift = 14, GuestRootShift = 15, EptShift = 18,
        AdDisabledShift = 19;

    /// <summary>Builds a role.</summary>
    public static ShadowRole Create(int level, int quadrant, bool direct, uint access, in ShadowCpuRole cpu) =>
        new((uint)level << LevelShift
            | (uint)quadrant << QuadrantShift
            | (direct ? 1u : 0) << DirectShift
            | (access & AccessRights.All) << AccessShift
            | cpu.Word);

    /// <summary>Level of the guest table shadowed (1 = a table of 4 KiB pages).</summary>
    public int Level => (int)(Word >> LevelShift) & 0xF;

    /// <summary>For guests with 4-byte entries: which part of the (larger) guest table this page shadows.</summary>
    public int Quadrant => (int)(Word >> QuadrantShift) & 3;

    /// <summary>True for a page that maps a linear frame range (a guest large page split into 4 KiB mappings).</summary>
    public bool Direct => ((Word >> DirectShift) & 1) != 0;

    /// <summary>Rights inherited from the guest levels above (U W X).</summary>
    public uint Access => (Word >> AccessShift) & AccessRights.All;

    /// <summary>The role bits that come from the vCPU's mode.</summary>
    public ShadowCpuRole Cpu => new(Word & ShadowCpuRole.Mask);

    /// <summary>The same role at another level and quadrant with other rights.</summary>
    public ShadowRole Child(int level, int quadrant, bool direct, uint access) => Create(level, quadrant, direct, access, Cpu);

    /// <inheritdoc/>
    public override string ToString() =>
        $"level {Level}{(Quadrant != 0 ? $" q{Quadrant}" : "")}{(Direct ? " direct" : "")} access {AccessRights.Format(Access, Cpu.Ept)}";

    internal static uint CpuBits(bool cr0Wp, bool nx, bool fourByte, bool smepAndNotWp, bool smapAndNotWp, int guestRootLevel = 0,
        bool ept = false, bool adDisabled = false) =>
        (cr0Wp ? 1u : 0) << Cr0WpShift | (nx ? 1u : 0) << NxShift | (fourByte ? 1u : 0) << FourByteShift
        | (smepAndNotWp ? 1u : 0) << SmepAndNotWpShift | (smapAndNotWp ? 1u : 0) << SmapAndNotWpShift
        | (uint)guestRootLevel << GuestRootShift | (ept ? 1u : 0) << EptShift | (adDisabled ? 1u : 0) << AdDisabledShift;

    internal static uint CpuMask => CpuBits(true, true, true, true, true, 7, true, true);

    internal static int GuestRootLevelOf(uint word) => (int)(word >> GuestRootShift) & 7;
}

/// <summary>The part of a shadow page's role that the vCPU's paging mode decides (KVM's cpu_role bits in the page role).</summary>
public readonly record struct ShadowCpuRole(uint Word)
{
    internal static readonly uint Mask = ShadowRole.CpuMask;

    /// <summary>True for guests whose entries are 4 bytes (32-bit paging): their tables are shadowed in quadrants.</summary>
    public bool HasFourByteGpte => (Word & ShadowRole.CpuBits(false, false, true, false, false)) != 0;

    /// <summary>True for pages that shadow EPT tables (a nested guest's guest-physical space).</summary>
    public bool Ept => (Word & ShadowRole.CpuBits(false, false, false, false, false, 0, ept: true)) != 0;

    /// <summary>CR0.WP of the guest the pages were made for.</summary>
    public bool Cr0Wp => (Word & ShadowRole.CpuBits(true, false, false, false, false)) != 0;

    /// <summary>Root level of the guest's paging mode (2 for 32-bit paging, 3 PAE, 4, 5): entry formats differ between modes.</summary>
    public int GuestRootLevel => ShadowRole.GuestRootLevelOf(Word);

    /// <summary>The role bits for a vCPU in <paramref name="cpu"/> in <paramref name="mode"/>.</summary>
    public static ShadowCpuRole For(in CpuState cpu, PagingModeInfo mode)
    {
        if (mode.IsEpt)
        {
            // Shadow EPT (KVM's guest_mode + ad_disabled role bits): no CR0.WP quirk, execute rights always count,
            // and pages made while EPT A/D flags were off must not serve a context where they are on.
            return new ShadowCpuRole(ShadowRole.CpuBits(true, true, false, false, false, mode.RootLevel,
                ept: true, adDisabled: !cpu.Test(PagingCondition.EptpAccessedDirty)));
        }

        bool wp = (cpu.Cr0 & Cr0.WP) != 0;
        return new ShadowCpuRole(ShadowRole.CpuBits(
            wp,
            cpu.Test(PagingCondition.EferNxe) && mode.EntryBytes == 8,
            mode.EntryBytes == 4,
            !wp && (cpu.Cr4 & Cr4.SMEP) != 0,
            !wp && (cpu.Cr4 & Cr4.SMAP) != 0,
            mode.RootLevel));
    }
}
