namespace ShadowMmu;

/// <summary>CR0 bits that paging reads (Intel SDM Vol. 3A, "Control Registers").</summary>
public static class Cr0
{
    /// <summary>Write protect: supervisor writes honour R/W.</summary>
    public const ulong WP = 1UL << 16;

    /// <summary>Paging enabled.</summary>
    public const ulong PG = 1UL << 31;

    /// <summary>Protection enabled.</summary>
    public const ulong PE = 1UL << 0;
}

/// <summary>CR4 bits that paging reads.</summary>
public static class Cr4
{
    /// <summary>4-MByte pages in 32-bit paging.</summary>
    public const ulong PSE = 1UL << 4;

    /// <summary>Physical-address extension: PAE, 4-level or 5-level paging.</summary>
    public const ulong PAE = 1UL << 5;

    /// <summary>Page global enable: translations of pages whose leaf has G set survive MOV to CR3.</summary>
    public const ulong PGE = 1UL << 7;

    /// <summary>
    /// Process-context identifiers (IA-32e mode only): CR3 bits 11:0 are a PCID tagging translations, not part of the
    /// root's address; bit 63 of a MOV to CR3 may keep them.
    /// </summary>
    public const ulong PCIDE = 1UL << 17;

    /// <summary>5-level paging (57-bit linear addresses).</summary>
    public const ulong LA57 = 1UL << 12;

    /// <summary>Supervisor-mode execution prevention.</summary>
    public const ulong SMEP = 1UL << 20;

    /// <summary>Supervisor-mode access prevention.</summary>
    public const ulong SMAP = 1UL << 21;

    /// <summary>Protection keys for user-mode pages.</summary>
    public const ulong PKE = 1UL << 22;
}

/// <summary>IA32_EFER bits that paging reads.</summary>
public static class Efer
{
    /// <summary>Long mode enable.</summary>
    public const ulong LME = 1UL << 8;

    /// <summary>Long mode active (set by the processor when CR0.PG and LME are both 1).</summary>
    public const ulong LMA = 1UL << 10;

    /// <summary>Execute-disable bit enable.</summary>
    public const ulong NXE = 1UL << 11;
}

/// <summary>EFLAGS bits that paging reads.</summary>
public static class Eflags
{
    /// <summary>Alignment check / access control: lets explicit supervisor accesses through SMAP.</summary>
    public const ulong AC = 1UL << 18;
}
