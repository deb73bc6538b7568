namespace ShadowMmu;

/// <summary>A generated guest walker that also walks in two dimensions, its guest-physical addresses through EPT.</summary>
public interface INestedPageWalker : IGuestPageWalker
{
    /// <summary>
    /// The two-dimensional walk of <paramref name="va"/>: each guest table entry's guest-physical address through
    /// <paramref name="ept"/> before it is read (and as a write before a guest A/D flag is set in it), the guest's own
    /// checks as in <see cref="IGuestPageWalker.WalkAddr"/>, then the final guest-physical address for the access.
    /// <paramref name="ept"/> must walk the same memory. True when the address translated to a host-physical address.
    /// </summary>
    bool WalkNested(ref NestedWalk nested, ulong va, AccessKind kind, int cpl, bool ac, IEptWalker ept);
}
