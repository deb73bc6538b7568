namespace ShadowMmu.Oracle.Harness;

/// <summary>What one run of the guest showed.</summary>
internal sealed class RunObservation
{
    /// <summary>The guest reached its entry point (stage 1 succeeded), so stage 2 ran.</summary>
    public bool ReachedGuest { get; set; }

    /// <summary>The first vector reported to the interrupt hook, if any.</summary>
    public int? Vector { get; set; }

    public ulong Cr2 { get; set; }

    /// <summary>env->error_code at the interrupt: the #PF error code, or the low half of EXITINFO1 on a VM exit.</summary>
    public uint ErrorCode { get; set; }

    /// <summary>VMCB EXITINFO2: on a nested page fault, the guest-physical address that missed.</summary>
    public ulong ExitInfo2 { get; set; }

    public ulong Rip { get; set; }

    /// <summary>Unicorn's uc_emu_start result for the stage that ended the run (0 = stopped normally).</summary>
    public int StartError { get; set; }

    public string? StartErrorText { get; set; }

    /// <summary>Guest-physical memory after the run, when asked for.</summary>
    public byte[]? ImageAfter { get; set; }

    /// <summary>A copy of the context blob saved in the interrupt hook, when asked for (calibration).</summary>
    public byte[]? InterruptContext { get; set; }

    /// <summary>The context blob saved right after stage 1 (calibration).</summary>
    public byte[]? GuestEntryContext { get; set; }

    public override string ToString() =>
        $"reached guest {ReachedGuest}, vector {(Vector is int v ? $"0x{v:X}" : "none")}, error 0x{ErrorCode:X}, " +
        $"EXITINFO2 0x{ExitInfo2:X}, CR2 0x{Cr2:X}, RIP 0x{Rip:X}" +
        (StartError != 0 ? $", uc_emu_start: {StartErrorText}" : string.Empty);
}
