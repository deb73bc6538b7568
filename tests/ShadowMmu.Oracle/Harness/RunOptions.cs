using System.Collections.Generic;

namespace ShadowMmu.Oracle.Harness;

/// <summary>Variations of one guest run.</summary>
internal sealed record RunOptions
{
    public static readonly RunOptions Default = new();

    /// <summary>
    /// When set, the only image pages the nested tables map (the PA probe); otherwise all of them.
    /// </summary>
    public IReadOnlySet<ulong>? NestedMappedImagePages { get; init; }

    /// <summary>Read guest-physical memory back after the run (for the A/D diff).</summary>
    public bool CaptureImage { get; init; }

    /// <summary>Keep copies of the context blob at the guest entry and at the interrupt (calibration).</summary>
    public bool CaptureContexts { get; init; }

    /// <summary>Stop once the guest is entered (calibration of the host-side offsets).</summary>
    public bool StageOneOnly { get; init; }

    /// <summary>
    /// Value put into env->old_exception before stage 2. -1 means "no exception pending"; calibration uses 14
    /// to prove it found the right field (a #PF then becomes #DF).
    /// </summary>
    public int OldExceptionAtEntry { get; init; } = -1;
}
