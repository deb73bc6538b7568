namespace ShadowMmu;

/// <summary>How a vCPU access ended.</summary>
public enum AccessOutcome : byte
{
    /// <summary>The shadow tables translated it (perhaps after faults the MMU handled).</summary>
    Translated,

    /// <summary>A write to a shadowed guest table: the MMU emulates it (the caller's write goes through <see cref="Vm.GuestWrite(ulong, ulong, int)"/>).</summary>
    Emulated,

    /// <summary>The guest's own tables deny it: a #PF (or #GP) is injected into the guest.</summary>
    GuestFault,
}

/// <summary>The result of one vCPU access.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="Gpa">The guest-physical address accessed (Translated, Emulated).</param>
/// <param name="Fault">The injected exception (GuestFault).</param>
/// <param name="ErrorCode">The #PF error code (GuestFault).</param>
public readonly record struct AccessResult(AccessOutcome Outcome, ulong Gpa, WalkFault Fault, uint ErrorCode);
