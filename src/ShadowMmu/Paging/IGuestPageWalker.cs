namespace ShadowMmu;

/// <summary>
/// A guest page walker for one paging mode and one processor state (the generated walkers, and the reference
/// walker that interprets a spec). Build a new one when CR0, CR3, CR4, EFER, PKRU or the features change,
/// as KVM rebuilds its MMU context.
/// </summary>
public interface IGuestPageWalker
{
    /// <summary>The paging mode.</summary>
    PagingModeInfo Mode { get; }

    /// <summary>The guest memory walked.</summary>
    GuestMemory Memory { get; }

    /// <summary>
    /// Translates <paramref name="va"/> for an access of <paramref name="kind"/> at <paramref name="cpl"/>
    /// (3 = user mode) with EFLAGS.AC = <paramref name="ac"/>, setting A/D flags as the processor would.
    /// Fills <paramref name="walk"/>; true when the address translated, false for a #PF or #GP.
    /// Never throws for any content of guest memory.
    /// </summary>
    bool WalkAddr(ref GuestWalk walk, ulong va, AccessKind kind, int cpl, bool ac);
}
