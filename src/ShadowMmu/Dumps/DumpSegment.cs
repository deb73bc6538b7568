namespace ShadowMmu.Dumps;

/// <summary>
/// A segment register as QEMU's CPU note holds it (QEMUCPUSegment): selector, base, limit and QEMU's flags, which are
/// the descriptor's second dword as the processor cached it (type in bits 8-11, S 12, DPL 13-14, P 15, L 21, D/B 22,
/// G 23).
/// </summary>
public readonly record struct DumpSegment(uint Selector, ulong Base, uint Limit, uint Flags)
{
    /// <summary>The descriptor privilege level (for CS, the CPL).</summary>
    public int Dpl => (int)((Flags >> 13) & 3);

    /// <summary>The L bit: a 64-bit code segment.</summary>
    public bool Long => (Flags & (1u << 21)) != 0;

    /// <summary>The D/B bit: 32-bit default operand size (code) or stack (SS).</summary>
    public bool DefaultBig => (Flags & (1u << 22)) != 0;

    /// <summary>The P bit.</summary>
    public bool Present => (Flags & (1u << 15)) != 0;

    /// <inheritdoc/>
    public override string ToString() => $"{Selector:x4} base 0x{Base:x} limit 0x{Limit:x} flags 0x{Flags:x}";
}
