namespace ShadowMmu.Oracle;

/// <summary>Paging modes. <see cref="Legacy32Pse"/> uses the same tables as <see cref="Legacy32"/>.</summary>
public enum OracleMode
{
    Legacy32,
    Legacy32Pse,
    Pae,
    Long4,
    Long5,
}
