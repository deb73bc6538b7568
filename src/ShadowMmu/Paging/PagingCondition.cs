namespace ShadowMmu;

/// <summary>
/// The register and CPUID bits a spec's conditions name (<c>when EFER.NXE</c>, <c>selected-when CR4.PAE</c>).
/// Generated walkers test them through <see cref="CpuState.Test"/> when their context is built.
/// </summary>
public enum PagingCondition
{
    /// <summary>CR0.PG.</summary>
    Cr0Pg,

    /// <summary>CR0.WP.</summary>
    Cr0Wp,

    /// <summary>CR4.PSE.</summary>
    Cr4Pse,

    /// <summary>CR4.PAE.</summary>
    Cr4Pae,

    /// <summary>CR4.LA57.</summary>
    Cr4La57,

    /// <summary>CR4.PKE.</summary>
    Cr4Pke,

    /// <summary>CR4.SMEP.</summary>
    Cr4Smep,

    /// <summary>CR4.SMAP.</summary>
    Cr4Smap,

    /// <summary>IA32_EFER.LME.</summary>
    EferLme,

    /// <summary>IA32_EFER.NXE.</summary>
    EferNxe,

    /// <summary>CPUID: 1-GByte pages.</summary>
    CpuidPage1Gb,

    /// <summary>CPUID: PSE-36.</summary>
    CpuidPse36,

    /// <summary>EPTP bit 6: accessed and dirty flags for EPT.</summary>
    EptpAccessedDirty,

    /// <summary>The "mode-based execute control for EPT" VM-execution control.</summary>
    VmxModeBasedExecute,

    /// <summary>IA32_VMX_EPT_VPID_CAP bit 0: EPT entries may allow execution without reads.</summary>
    VmxExecuteOnly,

    /// <summary>IA32_VMX_EPT_VPID_CAP bit 17: EPT PDPTEs may map 1-GByte pages.</summary>
    VmxEptPage1Gb,
}
