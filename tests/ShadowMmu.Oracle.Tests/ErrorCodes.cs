namespace ShadowMmu.Oracle.Tests;

/// <summary>#PF error-code bits (SDM vol. 3A, "Page-Fault Exceptions").</summary>
internal static class ErrorCodes
{
    public const uint P = 1U << 0;
    public const uint W = 1U << 1;
    public const uint U = 1U << 2;
    public const uint Rsvd = 1U << 3;
    public const uint Id = 1U << 4;
    public const uint Pk = 1U << 5;
}
