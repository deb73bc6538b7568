namespace ShadowMmu;

/// <summary>What an access does with the byte it names.</summary>
public enum AccessKind : byte
{
    /// <summary>A data read.</summary>
    Read,

    /// <summary>A data write.</summary>
    Write,

    /// <summary>An instruction fetch.</summary>
    Fetch,
}

/// <summary>
/// KVM's access rights ("ACC"): the 3-bit value <c>U W X</c> accumulated over a walk, which indexes a byte of the
/// permission bitmap.
/// </summary>
public static class AccessRights
{
    /// <summary>Executable: no execute-disable bit on the path.</summary>
    public const uint Execute = 1;

    /// <summary>Writable: R/W = 1 in every entry.</summary>
    public const uint Write = 2;

    /// <summary>User-mode address: U/S = 1 in every entry.</summary>
    public const uint User = 4;

    /// <summary>All three.</summary>
    public const uint All = 7;

    /// <summary>
    /// The rights as people read them: <c>user rwx</c>, <c>supervisor r--</c> (who may use the page and how); with
    /// <paramref name="ept"/>, the EPT rights these bits carry in a shadow EPT page (R in the place of U): <c>rw-</c>.
    /// </summary>
    public static string Format(uint access, bool ept = false) =>
        (ept ? ((access & User) != 0 ? "r" : "-") : (access & User) != 0 ? "user r" : "supervisor r")
        + ((access & Write) != 0 ? "w" : "-")
        + ((access & Execute) != 0 ? "x" : "-");
}

/// <summary>Page-fault error-code bits (Intel SDM Vol. 3A, "Page-Fault Error Code").</summary>
public static class PageFaultErrorCode
{
    /// <summary>P: 0 = the page or a table was not present; 1 = a protection or reserved-bit violation.</summary>
    public const uint Present = 1 << 0;

    /// <summary>W/R: the access was a write.</summary>
    public const uint Write = 1 << 1;

    /// <summary>U/S: the access was a user-mode access.</summary>
    public const uint User = 1 << 2;

    /// <summary>RSVD: a reserved bit was set in a paging-structure entry.</summary>
    public const uint Reserved = 1 << 3;

    /// <summary>I/D: the access was an instruction fetch (reported only with NX in PAE/IA-32e paging, or SMEP).</summary>
    public const uint Fetch = 1 << 4;

    /// <summary>PK: a protection-key violation.</summary>
    public const uint ProtectionKey = 1 << 5;
}
