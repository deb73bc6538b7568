namespace ShadowMmu.Oracle;

/// <summary>Architectural bit masks the oracle needs (Intel SDM vol. 3A, AMD APM vol. 2).</summary>
internal static class X86Bits
{
    public const ulong Cr0Pe = 1UL << 0;
    public const ulong Cr0Pg = 1UL << 31;

    public const ulong Cr4Pse = 1UL << 4;
    public const ulong Cr4Pae = 1UL << 5;
    public const ulong Cr4La57 = 1UL << 12;
    public const ulong Cr4Smap = 1UL << 21;
    public const ulong Cr4Pke = 1UL << 22;

    public const ulong EferLme = 1UL << 8;
    public const ulong EferLma = 1UL << 10;
    public const ulong EferNxe = 1UL << 11;
    public const ulong EferSvme = 1UL << 12;

    public const ulong RflagsFixed = 1UL << 1;
    public const ulong RflagsAc = 1UL << 18;

    // QEMU's env->hflags bits (target/i386/cpu.h).
    public const uint HflagsCplMask = 3;
    public const uint HflagsPe = 1U << 7;
    public const uint HflagsLma = 1U << 14;
    public const uint HflagsCs64 = 1U << 15;
    public const uint HflagsSvme = 1U << 20;
    public const uint HflagsSmap = 1U << 23;

    // Paging-structure entry bits.
    public const ulong Present = 1UL << 0;
    public const ulong Writable = 1UL << 1;
    public const ulong User = 1UL << 2;
    public const ulong Accessed = 1UL << 5;
    public const ulong Dirty = 1UL << 6;
    public const ulong PageSize = 1UL << 7;
    public const ulong ExecuteDisable = 1UL << 63;

    // #PF error code and SVM nested-page-fault EXITINFO1 bits.
    public const uint ErrorWrite = 1U << 1;
    public const uint ErrorFetch = 1U << 4;

    // Vectors as Unicorn reports them to UC_HOOK_INTR.
    public const int VectorBreakpoint = 3;
    public const int VectorDoubleFault = 8;
    public const int VectorGeneralProtection = 13;
    public const int VectorPageFault = 14;

    /// <summary>EXCP_VMEXIT (0x100) + SVM_EXIT_NPF (0x400): QEMU left the guest with a nested page fault.</summary>
    public const int VectorNestedPageFault = 0x500;
}
