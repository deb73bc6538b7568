using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace ShadowMmu.Oracle;

/// <summary>
/// What QEMU did. <paramref name="ErrorCode"/> is the #PF error code (null for #GP and translations).
/// <paramref name="PhysicalAddress"/> is the exact byte address of a translation, or null when it cannot be
/// observed (the final page is one of the paging-structure pages the walk itself reads).
/// <paramref name="PteUpdates"/> lists changed entries in address order. Equality compares the updates
/// element by element.
/// </summary>
public sealed record OracleResult(
    OracleOutcome Outcome,
    uint? ErrorCode,
    ulong? PhysicalAddress,
    IReadOnlyList<OraclePteUpdate> PteUpdates)
{
    public bool Equals(OracleResult? other) =>
        other is not null
        && Outcome == other.Outcome
        && ErrorCode == other.ErrorCode
        && PhysicalAddress == other.PhysicalAddress
        && PteUpdates.SequenceEqual(other.PteUpdates);

    public override int GetHashCode() => HashCode.Combine(Outcome, ErrorCode, PhysicalAddress, PteUpdates.Count);

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Outcome = {Outcome}");
        if (ErrorCode is uint error)
        {
            builder.Append($", ErrorCode = 0x{error:X}");
        }

        builder.Append(PhysicalAddress is ulong pa ? $", PhysicalAddress = 0x{pa:X}" : ", PhysicalAddress = null");
        builder.Append($", PteUpdates = [{string.Join(", ", PteUpdates)}]");
        return true;
    }
}
