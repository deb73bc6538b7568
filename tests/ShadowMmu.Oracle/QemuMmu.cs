using System;
using System.Threading;
using ShadowMmu.Oracle.Harness;
using ShadowMmu.Oracle.Native;

namespace ShadowMmu.Oracle;

/// <summary>
/// Runs one x86 page-walk case through QEMU 5.0's MMU as embedded in Unicorn 2.0.1 (libunicorn.so.2) and
/// reports what QEMU did. The case runs as an SVM guest with nested paging so that the physical address
/// QEMU computed becomes visible; see README.md for the method and the constraints on cases.
/// </summary>
public static class QemuMmu
{
    /// <summary>
    /// Start of the harness region (VMRUN host code, VMCB, host-save page, the two guest code pages and the
    /// nested tables). Below 4 GiB so that 32-bit guests reach the code pages. Test images must not point
    /// guest entries into it, and the case's VA must not lie in it.
    /// </summary>
    public const ulong HarnessBase = 0xC000_0000;

    /// <summary>Size of the harness region.</summary>
    public const ulong HarnessSize = 0x4_0000;

    /// <summary>The guest code page run at CPL 0..2, identity-mapped (VA == PA), supervisor-only.</summary>
    public const ulong SupervisorCodeVa = HarnessBase + 0x3000;

    /// <summary>The guest code page run at CPL 3, identity-mapped (VA == PA), user-accessible.</summary>
    public const ulong UserCodeVa = HarnessBase + 0x4000;

    private static readonly Lazy<Backend> State = new(Backend.Create, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Largest image (guest-physical memory from 0): 64 MiB, what the nested tables of the harness cover.</summary>
    public static int MaxImageBytes => HarnessLayout.MaxImageBytes;

    /// <summary>libunicorn.so.2 loaded and calibration (with its self-test) succeeded. Never throws.</summary>
    public static bool IsAvailable => State.Value.Runner is not null;

    /// <summary>Why the oracle is unavailable; null when it is available.</summary>
    public static string? UnavailableReason => State.Value.Reason;

    /// <summary>The loaded Unicorn version ("2.0.1"), or null when the library did not load.</summary>
    public static string? UnicornVersion => State.Value.Version;

    /// <summary>
    /// The calibrated uc_context offsets (for diagnostics), e.g. "hflags 192, cr 440, efer 576, error_code 5368,
    /// old_exception 5480"; null when unavailable.
    /// </summary>
    public static string? CalibrationSummary => State.Value.Offsets?.ToString();

    /// <summary>The paging mode the case selects (throws <see cref="OracleException"/> when paging is off or invalid).</summary>
    public static OracleMode ModeOf(OracleCase c)
    {
        ArgumentNullException.ThrowIfNull(c);
        return CaseRules.ModeOf(c);
    }

    /// <summary>
    /// Runs one case. <paramref name="image"/> is guest-physical memory from address 0 and must contain the
    /// guest tables for the case and the code pages' paths (<see cref="OracleGuestCode.MapCodePages"/>).
    /// Throws <see cref="OracleException"/> when the oracle is unavailable, the case is unsupported or the
    /// harness sees something it does not understand. Safe to call from several threads at once.
    /// </summary>
    public static OracleResult Run(ReadOnlySpan<byte> image, OracleCase c)
    {
        ArgumentNullException.ThrowIfNull(c);
        Backend state = State.Value;
        OracleRunner runner = state.Runner ?? throw new OracleException($"The QEMU oracle is unavailable: {state.Reason}");
        return runner.Run(image, c);
    }

    private sealed record Backend(OracleRunner? Runner, ContextOffsets? Offsets, string? Reason, string? Version)
    {
        public static Backend Create()
        {
            UnicornLibrary library;
            try
            {
                library = UnicornLibrary.Load();
            }
            catch (Exception e)
            {
                return new Backend(null, null, e.Message, null);
            }

            string version = library.VersionText;
            try
            {
                ContextOffsets offsets = Calibration.Run(library);
                return new Backend(new OracleRunner(library, offsets), offsets, null, version);
            }
            catch (Exception e)
            {
                return new Backend(null, null, $"Unicorn {version}: {e.Message}", version);
            }
        }
    }
}
