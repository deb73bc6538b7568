namespace ShadowMmu;

/// <summary>
/// When <c>Fetch</c> re-checks the guest entries the lock-free walk read. The default is <see cref="Fixed"/>; the
/// other two reproduce historical or deliberately broken orders so that the race they lose can be shown.
/// </summary>
public enum RecheckOrder
{
    /// <summary>
    /// KVM's order since 2010: the root entry first; then at every level, once the child shadow page is obtained
    /// (which write-protects its guest table), the entry inside that table; for the leaf, the one read of the
    /// 8-entry group that prefetch then uses.
    /// </summary>
    Fixed,

    /// <summary>
    /// The 2010 code before the fix: a level whose shadow entry is already present is passed with no check; only where
    /// a shadow page is obtained is the entry inside it (<c>ptes[level - 2]</c>) compared. No root check.
    /// </summary>
    PreFix,

    /// <summary>As <see cref="Fixed"/>, but the guest leaf entry is never re-checked.</summary>
    NoLeaf,
}

/// <summary>What each <see cref="RecheckOrder"/> does, for people and for the scenarios that narrate it.</summary>
public static class RecheckOrderFacts
{
    /// <summary>Whether the order re-checks the entry the walk read in the root table.</summary>
    public static bool ChecksRoot(this RecheckOrder order) => order != RecheckOrder.PreFix;

    /// <summary>Whether the order passes levels whose shadow entry is present with no lookup and no check.</summary>
    public static bool PassesPresentEntries(this RecheckOrder order) => order == RecheckOrder.PreFix;

    /// <summary>Whether the order re-checks the guest leaf entry.</summary>
    public static bool ChecksLeaf(this RecheckOrder order) => order != RecheckOrder.NoLeaf;
}
