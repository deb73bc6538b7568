namespace ShadowMmu.Oracle.Harness;

/// <summary>
/// Byte offsets, from the start of a uc_context blob, of the CPUX86State fields the harness patches or reads.
/// They are found by calibration (<see cref="Calibration"/>), never assumed. Null: not known yet (calibrating).
/// </summary>
internal sealed record ContextOffsets(int Hflags, int Cr, int Efer, int? ErrorCode, int? OldException)
{
    public int Cr4 => Cr + (4 * 8);

    public override string ToString() =>
        $"hflags {Hflags}, cr {Cr}, efer {Efer}, error_code {ErrorCode?.ToString() ?? "?"}, old_exception {OldException?.ToString() ?? "?"}";
}
