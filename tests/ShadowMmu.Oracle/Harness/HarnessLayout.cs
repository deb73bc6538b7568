namespace ShadowMmu.Oracle.Harness;

/// <summary>
/// Where things live in the harness region, a block of Unicorn memory at <see cref="QemuMmu.HarnessBase"/>
/// (below 4 GiB so 32-bit guests reach the code pages). Only the two guest code pages are visible to the guest:
/// the nested (NPT) tables map nothing else of the region.
/// </summary>
internal static class HarnessLayout
{
    public const ulong Base = QemuMmu.HarnessBase;
    public const ulong Size = QemuMmu.HarnessSize;

    /// <summary>Host code: VMRUN (0F 01 D8) then HLT.</summary>
    public const ulong HostCode = Base;
    public const ulong Vmcb = Base + 0x1000;

    /// <summary>VM_HSAVE_PA. Without it VMRUN saves host state at physical 0, inside the image.</summary>
    public const ulong HostSave = Base + 0x2000;
    public const ulong SupervisorCode = QemuMmu.SupervisorCodeVa;
    public const ulong UserCode = QemuMmu.UserCodeVa;

    /// <summary>
    /// Offset inside a code page of the <c>until</c> address given to uc_emu_start. Unicorn translates
    /// <c>until - 1</c> before running, so it must lie in a page the guest tables map; otherwise that probe
    /// raises a #PF nobody sees and the real #PF turns into #DF.
    /// </summary>
    public const ulong UntilOffset = 0x800;

    // Nested tables (4-level because the host runs with CR4.PAE and EFER.LMA), as offsets into the region.
    public const int NestedPml4 = 0x10000;
    public const int NestedPdpt = 0x11000;

    /// <summary>Page directory for guest-physical 0..1 GiB: one page table per 2 MiB of image.</summary>
    public const int NestedPdImage = 0x12000;

    /// <summary>Page directory for guest-physical 3..4 GiB, where the harness lives.</summary>
    public const int NestedPdHarness = 0x13000;
    public const int NestedPtHarness = 0x14000;

    /// <summary>First of the image's nested page tables; room up to the end of the region (64 MiB of image).</summary>
    public const int NestedPtImage = 0x20000;

    /// <summary>P, RW, US, A, D on nested table pointers; image pages get P|RW|US with A clear.</summary>
    public const ulong NestedTableFlags = 0x67;
    public const ulong NestedPageFlags = 0x07;

    public const int MaxImageBytes = (int)(Size - NestedPtImage) / 8 * 4096;
}
