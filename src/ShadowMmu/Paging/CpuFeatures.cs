using System;

namespace ShadowMmu;

/// <summary>The CPUID-reported features that change what a page walk may do.</summary>
[Flags]
public enum CpuFeatures : uint
{
    /// <summary>None of them.</summary>
    None = 0,

    /// <summary>CPUID.80000001H:EDX[20]: EFER.NXE may be set.</summary>
    Nx = 1 << 0,

    /// <summary>CPUID.80000001H:EDX[26]: 1-GByte pages (PS in a PDPTE).</summary>
    Page1Gb = 1 << 1,

    /// <summary>CPUID.01H:EDX[17]: 4-MByte pages can reach physical addresses above 4 GiB in 32-bit paging.</summary>
    Pse36 = 1 << 2,

    /// <summary>CPUID.07H:ECX[16]: 5-level paging.</summary>
    La57 = 1 << 3,

    /// <summary>CPUID.07H:ECX[3]: protection keys for user-mode pages.</summary>
    Pku = 1 << 4,

    /// <summary>CPUID.07H:EBX[7]: SMEP.</summary>
    Smep = 1 << 5,

    /// <summary>CPUID.07H:EBX[20]: SMAP.</summary>
    Smap = 1 << 6,

    /// <summary>IA32_VMX_EPT_VPID_CAP bit 0: EPT entries may allow execution without reads (execute-only).</summary>
    EptExecuteOnly = 1 << 7,

    /// <summary>IA32_VMX_EPT_VPID_CAP bit 17: EPT PDPTEs may map 1-GByte pages.</summary>
    EptPage1Gb = 1 << 8,

    /// <summary>A current processor: every feature above.</summary>
    All = Nx | Page1Gb | Pse36 | La57 | Pku | Smep | Smap | EptExecuteOnly | EptPage1Gb,
}
