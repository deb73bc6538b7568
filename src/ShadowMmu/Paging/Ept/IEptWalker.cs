namespace ShadowMmu;

/// <summary>
/// A walker of extended page tables: the generated EPT walkers, and the reference walker over an EPT spec.
/// Build a new one when EPTP, the VMX controls or the capabilities change.
/// </summary>
public interface IEptWalker : IGuestPageWalker
{
    /// <summary>
    /// Translates the guest-physical address <paramref name="gpa"/> for an access of <paramref name="kind"/>;
    /// <paramref name="flags"/> say what else is known about the access (bits 7 to 11 of the exit qualification, and
    /// whether it is a guest paging-structure access). Sets EPT A/D flags when EPTP enables them. Fills
    /// <paramref name="walk"/>; true when it translated, false for an EPT violation (exit qualification in
    /// <see cref="GuestWalk.ErrorCode"/>) or an EPT misconfiguration. Never throws for any content of memory.
    /// </summary>
    bool WalkGpa(ref GuestWalk walk, ulong gpa, AccessKind kind, EptAccessFlags flags);
}
