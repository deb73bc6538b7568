namespace ShadowMmu.Oracle;

/// <summary>
/// One walk case. The paging mode follows from CR0.PG, CR4.PAE, CR4.LA57 and EFER.LME (EFER.LMA is derived
/// from LME, as VMRUN would need it). <paramref name="Pkru"/> is loaded with WRPKRU when CR4.PKE is set;
/// <paramref name="Ac"/> is EFLAGS.AC; <paramref name="Cpl"/> is 0..3.
/// </summary>
public sealed record OracleCase(
    ulong Cr0,
    ulong Cr3,
    ulong Cr4,
    ulong Efer,
    uint Pkru,
    bool Ac,
    int Cpl,
    OracleAccess Access,
    ulong Va);
