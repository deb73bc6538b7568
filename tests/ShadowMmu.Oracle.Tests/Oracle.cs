using System.Linq;
using ShadowMmu.Oracle;
using Xunit;

namespace ShadowMmu.Oracle.Tests;

/// <summary>Runs a case, failing loudly (not skipping) when the oracle is unavailable.</summary>
internal static class Oracle
{
    public static OracleResult Run(GuestImage image, OracleCase c)
    {
        Assert.True(QemuMmu.IsAvailable, QemuMmu.UnavailableReason);
        return QemuMmu.Run(image.Bytes, c);
    }

    /// <summary>A translation to <paramref name="pa"/> that changed exactly <paramref name="updates"/>.</summary>
    public static void Translated(OracleResult result, ulong? pa, params OraclePteUpdate[] updates)
    {
        Assert.Equal(OracleOutcome.Translated, result.Outcome);
        Assert.Null(result.ErrorCode);
        Assert.Equal(pa, result.PhysicalAddress);
        Updates(result, updates);
    }

    /// <summary>The access changed exactly <paramref name="updates"/> (in any order).</summary>
    public static void Updates(OracleResult result, params OraclePteUpdate[] updates) =>
        Assert.Equal(updates.OrderBy(u => u.Pa), result.PteUpdates);

    /// <summary>
    /// A #PF with its error code. A/D updates are not compared: the SDM leaves the A flags of a faulting
    /// walk unspecified (QEMU's are pinned in <see cref="QemuDifferenceTests"/>).
    /// </summary>
    public static void PageFault(OracleResult result, uint errorCode)
    {
        Assert.Equal(OracleOutcome.PageFault, result.Outcome);
        Assert.Equal(errorCode, result.ErrorCode);
        Assert.Null(result.PhysicalAddress);
    }
}
