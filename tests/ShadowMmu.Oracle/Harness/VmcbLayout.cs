namespace ShadowMmu.Oracle.Harness;

/// <summary>VMCB field offsets (AMD APM vol. 2, appendix B) that the harness writes or reads.</summary>
internal static class VmcbLayout
{
    public const int TlbControl = 0x5C;
    public const int ExitInfo1 = 0x78;
    public const int ExitInfo2 = 0x80;
    public const int NestedPagingEnable = 0x90;
    public const int NestedCr3 = 0xB0;

    // Save area. Segments are { u16 selector, u16 attrib, u32 limit, u64 base }.
    public const int Es = 0x400;
    public const int Cs = 0x410;
    public const int Ss = 0x420;
    public const int Ds = 0x430;
    public const int Cpl = 0x4CB;
    public const int Efer = 0x4D0;
    public const int Cr4 = 0x548;
    public const int Cr3 = 0x550;
    public const int Cr0 = 0x558;
    public const int Rflags = 0x570;
    public const int Rip = 0x578;
    public const int Rax = 0x5F8;

    // Segment attribute bits: type in 3:0, S 4, DPL 6:5, P 7, then L, D/B and G.
    public const ushort CodeSegment = 0x9B;
    public const ushort DataSegment = 0x93;
    public const ushort LongMode = 0x200;
    public const ushort Default32 = 0x400;
    public const ushort Granularity = 0x800;
}
