using System.Collections.Generic;

namespace ShadowMmu;

/// <summary>A shadow entry that the guest's tables, as they are now, no longer allow.</summary>
/// <param name="ShadowPath">The shadow page and entry, with the chain of parents up to a root.</param>
/// <param name="GuestPath">The guest entry it was derived from, and its value now.</param>
/// <param name="Problem">What is wrong.</param>
public sealed record StaleEntry(string ShadowPath, string GuestPath, string Problem)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Problem}: shadow {ShadowPath}; guest {GuestPath}";
}

/// <summary>The result of <see cref="Vm.Audit"/>.</summary>
/// <param name="PagesChecked">Valid shadow pages audited.</param>
/// <param name="EntriesChecked">Present shadow entries audited.</param>
/// <param name="Stale">Every stale entry found.</param>
public sealed record AuditResult(int PagesChecked, long EntriesChecked, IReadOnlyList<StaleEntry> Stale)
{
    /// <summary>True when nothing is stale.</summary>
    public bool Clean => Stale.Count == 0;

    /// <summary>
    /// Entries derived from unsync guest tables that differ from the guest entry now but equal a value it held since
    /// the guest last flushed that address: what the guest's TLB may still hold (counted, not stale).
    /// </summary>
    public long Pending { get; init; }
}
