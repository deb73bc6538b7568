namespace ShadowMmu.Oracle;

/// <summary>What QEMU did with the access.</summary>
public enum OracleOutcome
{
    Translated,
    PageFault,

    /// <summary>#GP(0): QEMU's walker raises it for non-canonical addresses in 4- and 5-level paging.</summary>
    GeneralProtection,
}
