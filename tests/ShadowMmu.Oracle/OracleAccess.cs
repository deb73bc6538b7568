namespace ShadowMmu.Oracle;

/// <summary>The explicit access the guest performs at <see cref="OracleCase.Va"/>.</summary>
public enum OracleAccess
{
    Read,
    Write,
    Fetch,
}
