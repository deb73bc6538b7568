using System;

namespace ShadowMmu;

/// <summary>
/// What an EPT walk knows about the access besides its kind: whether it has a guest linear address, whether it
/// reads a guest paging-structure entry or is the final translation, and the guest's rights for that linear
/// address. The values 7 to 11 are the exit qualification's bits (Intel SDM Vol. 3C, "Exit Qualification for EPT
/// Violations"), reported as given.
/// </summary>
[Flags]
public enum EptAccessFlags : uint
{
    /// <summary>Nothing known: no linear address (e.g. a PDPTE load by MOV to CR3).</summary>
    None = 0,

    /// <summary>Bit 7: the guest linear-address field is valid.</summary>
    GuestLinearAddressValid = 1 << 7,

    /// <summary>Bit 8 (with bit 7): the access is the final translation of the linear address, not a guest paging-structure access.</summary>
    FinalTranslation = 1 << 8,

    /// <summary>Bit 9: the linear address is a user-mode address (U/S = 1 in the guest's translation); selects the user-execute bit under mode-based execute control.</summary>
    GuestUser = 1 << 9,

    /// <summary>Bit 10: the guest's translation allows writes.</summary>
    GuestWritable = 1 << 10,

    /// <summary>Bit 11: the guest's translation is execute-disabled.</summary>
    GuestExecuteDisable = 1 << 11,

    /// <summary>
    /// The access reads or updates a guest paging-structure entry. With EPT A/D flags on (EPTP bit 6), such accesses
    /// are writes for EPT: they need write rights, set the dirty flag, and a violation reports both read and write.
    /// </summary>
    GuestPagingStructure = 1U << 31,

    /// <summary>The final translation of a linear address, as a direct guest-physical access is treated here.</summary>
    Final = GuestLinearAddressValid | FinalTranslation,
}

/// <summary>The EPT-violation exit qualification's bits (Intel SDM Vol. 3C, "Exit Qualification for EPT Violations").</summary>
public static class EptViolationQualification
{
    /// <summary>Bit 0: the access was a data read.</summary>
    public const uint Read = 1 << 0;

    /// <summary>Bit 1: the access was a data write.</summary>
    public const uint Write = 1 << 1;

    /// <summary>Bit 2: the access was an instruction fetch.</summary>
    public const uint Fetch = 1 << 2;

    /// <summary>Bit 3: every EPT entry used allowed reads (0 when one was not present).</summary>
    public const uint Readable = 1 << 3;

    /// <summary>Bit 4: every EPT entry used allowed writes.</summary>
    public const uint Writable = 1 << 4;

    /// <summary>Bit 5: every EPT entry used allowed execution (supervisor-mode execution under mode-based execute control).</summary>
    public const uint Executable = 1 << 5;

    /// <summary>Bit 6: every EPT entry used allowed user-mode execution (only under mode-based execute control; 0 otherwise).</summary>
    public const uint UserExecutable = 1 << 6;

    /// <summary>Bit 7: the guest linear-address field is valid.</summary>
    public const uint GuestLinearAddressValid = 1 << 7;

    /// <summary>Bit 8: the access was the final translation (not a guest paging-structure access).</summary>
    public const uint FinalTranslation = 1 << 8;
}

/// <summary>
/// The rights an EPT walk accumulates (the AND over the entries used), in KVM's ACC encoding so that the shadow MMU
/// treats them as it treats x86 rights: execute is <see cref="AccessRights.Execute"/>, write
/// <see cref="AccessRights.Write"/>, and read takes the place of <see cref="AccessRights.User"/> (KVM maps EPT reads
/// onto user accesses); user-execute is an extra bit.
/// </summary>
public static class EptRights
{
    /// <summary>Entry bit 2: execution allowed (supervisor-mode execution under mode-based execute control).</summary>
    public const uint Execute = AccessRights.Execute;

    /// <summary>Entry bit 1: writes allowed.</summary>
    public const uint Write = AccessRights.Write;

    /// <summary>Entry bit 0: reads allowed.</summary>
    public const uint Read = AccessRights.User;

    /// <summary>Entry bit 10: user-mode execution allowed (only under mode-based execute control).</summary>
    public const uint UserExecute = 8;

    /// <summary>Every right.</summary>
    public const uint All = 15;

    /// <summary>The exit qualification's bits 3 (R), 4 (W), 5 (X) and 6 (user-execute) for <paramref name="rights"/>.</summary>
    public static uint Qualification(uint rights) =>
        ((rights & Read) != 0 ? EptViolationQualification.Readable : 0) | ((rights & Write) != 0 ? EptViolationQualification.Writable : 0)
        | ((rights & Execute) != 0 ? EptViolationQualification.Executable : 0) | ((rights & UserExecute) != 0 ? EptViolationQualification.UserExecutable : 0);

    /// <summary>"rwx" or "rwxu" style text, with '-' for a missing right.</summary>
    public static string Format(uint rights, bool modeBasedExecute) =>
        ((rights & Read) != 0 ? "r" : "-") + ((rights & Write) != 0 ? "w" : "-") + ((rights & Execute) != 0 ? "x" : "-")
        + (modeBasedExecute ? ((rights & UserExecute) != 0 ? "u" : "-") : "");
}
