using System;

namespace ShadowMmu;

/// <summary>
/// The processor state a page walk depends on: control registers, IA32_EFER, PKRU, MAXPHYADDR and CPUID features.
/// CPL and EFLAGS.AC belong to each access instead (see <see cref="IGuestPageWalker.WalkAddr"/>).
/// </summary>
/// <param name="Cr0">CR0 (PG, WP).</param>
/// <param name="Cr3">CR3: the root table (or, with PAE paging, the PDPT).</param>
/// <param name="Cr4">CR4 (PSE, PAE, LA57, SMEP, SMAP, PKE).</param>
/// <param name="Efer">IA32_EFER (LME, NXE); LMA is derived from CR0.PG and LME.</param>
/// <param name="Pkru">The PKRU register: 2 bits (AD, WD) per protection key.</param>
/// <param name="MaxPhysAddr">MAXPHYADDR, CPUID.80000008H:EAX[7:0]: 32 to 52.</param>
/// <param name="Features">CPUID features (and the VMX capabilities EPT walks depend on).</param>
/// <param name="Eptp">For EPT walks: the EPT pointer (root table, page-walk length, bit 6 enabling A/D flags).</param>
/// <param name="ModeBasedExecute">For EPT walks: the "mode-based execute control for EPT" VM-execution control.</param>
public readonly record struct CpuState(
    ulong Cr0,
    ulong Cr3,
    ulong Cr4,
    ulong Efer,
    uint Pkru = 0,
    int MaxPhysAddr = CpuState.DefaultMaxPhysAddr,
    CpuFeatures Features = CpuFeatures.All,
    ulong Eptp = 0,
    bool ModeBasedExecute = false)
{
    /// <summary>The MAXPHYADDR this model assumes unless told otherwise; QEMU's TCG uses the same.</summary>
    public const int DefaultMaxPhysAddr = 40;

    /// <summary>EFER.LMA as the processor sets it: CR0.PG and EFER.LME.</summary>
    public bool LongModeActive => (Cr0 & ShadowMmu.Cr0.PG) != 0 && (Efer & ShadowMmu.Efer.LME) != 0;

    /// <summary>Whether a spec condition holds in this state.</summary>
    public bool Test(PagingCondition condition) => condition switch
    {
        PagingCondition.Cr0Pg => (Cr0 & ShadowMmu.Cr0.PG) != 0,
        PagingCondition.Cr0Wp => (Cr0 & ShadowMmu.Cr0.WP) != 0,
        PagingCondition.Cr4Pse => (Cr4 & ShadowMmu.Cr4.PSE) != 0,
        PagingCondition.Cr4Pae => (Cr4 & ShadowMmu.Cr4.PAE) != 0,
        PagingCondition.Cr4La57 => (Cr4 & ShadowMmu.Cr4.LA57) != 0,
        // Protection keys exist only in IA-32e mode (SDM "Protection Keys").
        PagingCondition.Cr4Pke => (Cr4 & ShadowMmu.Cr4.PKE) != 0 && LongModeActive,
        PagingCondition.Cr4Smep => (Cr4 & ShadowMmu.Cr4.SMEP) != 0,
        PagingCondition.Cr4Smap => (Cr4 & ShadowMmu.Cr4.SMAP) != 0,
        PagingCondition.EferLme => (Efer & ShadowMmu.Efer.LME) != 0,
        PagingCondition.EferNxe => (Efer & ShadowMmu.Efer.NXE) != 0,
        PagingCondition.CpuidPage1Gb => (Features & CpuFeatures.Page1Gb) != 0,
        PagingCondition.CpuidPse36 => (Features & CpuFeatures.Pse36) != 0,
        PagingCondition.EptpAccessedDirty => (Eptp & ShadowMmu.EptPointer.AccessedDirty) != 0,
        PagingCondition.VmxModeBasedExecute => ModeBasedExecute,
        PagingCondition.VmxExecuteOnly => (Features & CpuFeatures.EptExecuteOnly) != 0,
        PagingCondition.VmxEptPage1Gb => (Features & CpuFeatures.EptPage1Gb) != 0,
        _ => throw new ArgumentOutOfRangeException(nameof(condition), condition, null),
    };

    /// <summary>
    /// Why this state cannot exist on a processor with <see cref="Features"/> (a MOV to CR0/CR4 or WRMSR would have
    /// raised #GP), or null when it can.
    /// </summary>
    public string? Validate()
    {
        if (MaxPhysAddr < 32 || MaxPhysAddr > 52)
        {
            return $"MAXPHYADDR {MaxPhysAddr} is outside 32..52";
        }

        bool pg = (Cr0 & ShadowMmu.Cr0.PG) != 0;
        bool pae = (Cr4 & ShadowMmu.Cr4.PAE) != 0;
        bool lme = (Efer & ShadowMmu.Efer.LME) != 0;
        if (pg && (Cr0 & ShadowMmu.Cr0.PE) == 0)
        {
            return "CR0.PG is set without CR0.PE";
        }

        if (pg && lme && !pae)
        {
            return "CR0.PG and EFER.LME are set without CR4.PAE (long mode needs PAE)";
        }

        if ((Cr4 & ShadowMmu.Cr4.LA57) != 0 && (Features & CpuFeatures.La57) == 0)
        {
            return "CR4.LA57 is set but the CPU has no LA57";
        }

        if ((Cr4 & ShadowMmu.Cr4.PKE) != 0 && (Features & CpuFeatures.Pku) == 0)
        {
            return "CR4.PKE is set but the CPU has no PKU";
        }

        if ((Cr4 & ShadowMmu.Cr4.SMEP) != 0 && (Features & CpuFeatures.Smep) == 0)
        {
            return "CR4.SMEP is set but the CPU has no SMEP";
        }

        if ((Cr4 & ShadowMmu.Cr4.SMAP) != 0 && (Features & CpuFeatures.Smap) == 0)
        {
            return "CR4.SMAP is set but the CPU has no SMAP";
        }

        if ((Efer & ShadowMmu.Efer.NXE) != 0 && (Features & CpuFeatures.Nx) == 0)
        {
            return "EFER.NXE is set but the CPU has no NX";
        }

        return null;
    }
}
