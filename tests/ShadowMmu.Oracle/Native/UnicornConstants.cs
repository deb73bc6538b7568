namespace ShadowMmu.Oracle.Native;

/// <summary>Numeric constants of the Unicorn 2 C API (unicorn.h, x86.h) that the oracle uses.</summary>
internal static class UnicornConstants
{
    public const int ArchX86 = 4;
    public const int Mode64 = 8;

    // uc_ctl(UC_CTL_CPU_MODEL) with the write flag and one argument: UC_CTL_WRITE(UC_CTL_CPU_MODEL, 1).
    public const int CtlWriteCpuModel = 7 | (1 << 26) | (1 << 30);
    public const int CpuModelEpycRome = 37;

    public const uint ProtAll = 7;

    public const int HookIntr = 1;
    public const int HookCode = 4;

    public const int RegRax = 35;
    public const int RegRbx = 37;
    public const int RegRcx = 38;
    public const int RegRdx = 40;
    public const int RegRip = 41;
    public const int RegCr0 = 50;
    public const int RegCr2 = 52;
    public const int RegCr3 = 53;
    public const int RegCr4 = 54;
    public const int RegMsr = 248;

    public const uint MsrEfer = 0xC000_0080;
    public const uint MsrVmHsavePa = 0xC001_0117;
}
