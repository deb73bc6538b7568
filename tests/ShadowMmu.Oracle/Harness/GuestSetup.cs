namespace ShadowMmu.Oracle.Harness;

/// <summary>The guest state one run of a case needs: which code to enter and what VMRUN loads.</summary>
internal sealed record GuestSetup(OracleCase Case, OracleMode Mode, OracleAccess Access)
{
    public bool LoadsPkru => (Case.Cr4 & X86Bits.Cr4Pke) != 0;

    /// <summary>Supervisor code page for CPL 0..2, user page for CPL 3.</summary>
    public ulong CodePage => Case.Cpl == 3 ? HarnessLayout.UserCode : HarnessLayout.SupervisorCode;

    public ulong Entry => CodePage + GuestCode.EntryOffset(Access, LoadsPkru);

    public ulong Until => CodePage + HarnessLayout.UntilOffset;

    public ulong VaPage => Case.Va & ~0xFFFUL;

    /// <summary>CR2 after a #PF: the VA, truncated to 32 bits outside IA-32e mode.</summary>
    public ulong ExpectedCr2 => CaseRules.IsLongMode(Mode) ? Case.Va : Case.Va & uint.MaxValue;

    /// <summary>EFER as VMRUN loads it: LMA follows LME (CR0.PG is set), SVME stays on.</summary>
    public ulong GuestEfer =>
        Case.Efer | X86Bits.EferSvme | ((Case.Efer & X86Bits.EferLme) != 0 ? X86Bits.EferLma : 0);

    public ulong GuestRflags => X86Bits.RflagsFixed | (Case.Ac ? X86Bits.RflagsAc : 0);

    /// <summary>The same guest running a different access (the read and fetch probes).</summary>
    public GuestSetup WithAccess(OracleAccess access) => this with { Access = access };
}
