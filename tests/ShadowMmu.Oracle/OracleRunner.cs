using System;
using System.Collections.Generic;
using System.Linq;
using ShadowMmu.Oracle.Harness;
using ShadowMmu.Oracle.Native;

namespace ShadowMmu.Oracle;

/// <summary>
/// Turns guest runs into an <see cref="OracleResult"/>: the real access first (fault, error code, A/D diff),
/// then, when the PA is not yet known, the write-exit disambiguation and the nested-table probe loop.
/// </summary>
internal sealed class OracleRunner(UnicornLibrary library, ContextOffsets offsets)
{
    /// <summary>Enough for the harness code's tables plus a 5-level walk, with room to spare.</summary>
    private const int MaxProbes = 16;

    public OracleResult Run(ReadOnlySpan<byte> image, OracleCase c)
    {
        OracleMode mode = CaseRules.Validate(image.Length, c);
        var guest = new GuestSetup(c, mode, c.Access);
        RunObservation first = Execute(image, guest, new RunOptions { CaptureImage = true });
        if (!first.ReachedGuest)
        {
            throw new OracleException(
                $"The guest never reached its code ({first}). Does the image map the code pages " +
                "(OracleGuestCode.MapCodePages) for this mode and CR3?");
        }

        byte[] after = first.ImageAfter ?? throw new OracleException("The image was not read back after the run.");
        IReadOnlyList<OraclePteUpdate> updates = PteDiff.Compute(image, after, CaseRules.EntrySize(mode));
        switch (first.Vector)
        {
            case X86Bits.VectorPageFault:
                if (first.Cr2 != guest.ExpectedCr2)
                {
                    throw new OracleException(
                        $"#PF at CR2 0x{first.Cr2:X}, not at the case's VA: the harness code faulted ({first}).");
                }

                return new OracleResult(OracleOutcome.PageFault, first.ErrorCode, null, updates);

            case X86Bits.VectorGeneralProtection when CaseRules.IsLongMode(mode):
                return new OracleResult(OracleOutcome.GeneralProtection, null, null, updates);

            case X86Bits.VectorNestedPageFault:
                return new OracleResult(OracleOutcome.Translated, null, FinalAddressOfExit(image, guest, first), updates);

            case X86Bits.VectorBreakpoint:
                return new OracleResult(OracleOutcome.Translated, null, ProbeFinalAddress(image, guest), updates);

            default:
                throw Unexpected("the access", first);
        }
    }

    /// <summary>The access left with a nested page fault: the final access's, or a table read outside the image.</summary>
    private ulong FinalAddressOfExit(ReadOnlySpan<byte> image, GuestSetup guest, RunObservation exit)
    {
        bool? final = IsFinalAccess(exit, guest.Access);
        if (final is null)
        {
            // A write exit has W set whether it is the final write or a paging-structure read (QEMU reads
            // entries with write intent, for A/D). The same walk as a read tells: W is clear on its final exit.
            RunObservation read = Execute(image, guest.WithAccess(OracleAccess.Read), RunOptions.Default);
            if (read.Vector != X86Bits.VectorNestedPageFault)
            {
                throw Unexpected("the read probe of a write that left with a nested page fault", read);
            }

            final = IsFinalAccess(read, OracleAccess.Read);
            if (final == true && read.ExitInfo2 != exit.ExitInfo2)
            {
                throw new OracleException(
                    $"The write left at 0x{exit.ExitInfo2:X} but the same walk as a read at 0x{read.ExitInfo2:X}.");
            }
        }

        if (final == false)
        {
            throw new OracleException(
                $"The walk reads a paging-structure entry at guest-physical 0x{exit.ExitInfo2:X}, outside the " +
                "image: unsupported (the nested tables back only the image).");
        }

        return exit.ExitInfo2;
    }

    /// <summary>
    /// The access completed, so its final page is in the image. Rerun with only the walk's known table pages
    /// mapped in the nested tables: a table-read exit teaches one more table page, a final exit gives the PA,
    /// and completion means the final page is one of the tables (the PA cannot be observed).
    /// </summary>
    private ulong? ProbeFinalAddress(ReadOnlySpan<byte> image, GuestSetup guest)
    {
        OracleAccess probeAccess = guest.Access == OracleAccess.Fetch ? OracleAccess.Fetch : OracleAccess.Read;
        GuestSetup probe = guest.WithAccess(probeAccess);
        var known = new HashSet<ulong>();
        for (int attempt = 0; attempt < MaxProbes; attempt++)
        {
            RunObservation o = Execute(image, probe, new RunOptions { NestedMappedImagePages = known });
            ulong page = o.ExitInfo2 & ~0xFFFUL;
            if (!o.ReachedGuest)
            {
                // The walk for the harness code itself needs a table page of the image.
                if (o.Vector == X86Bits.VectorNestedPageFault && known.Add(page))
                {
                    continue;
                }

                throw Unexpected("a PA probe before the guest code ran", o);
            }

            if (o.Vector == X86Bits.VectorNestedPageFault)
            {
                if (IsFinalAccess(o, probeAccess) == true)
                {
                    return o.ExitInfo2;
                }

                if (known.Add(page))
                {
                    continue;
                }
            }
            else if (o.Vector == X86Bits.VectorBreakpoint)
            {
                return null;
            }

            throw Unexpected("a PA probe", o);
        }

        throw new OracleException($"The PA probe learned {known.Count} table pages without finding the final access.");
    }

    /// <summary>
    /// Whether a nested page fault was the final access (true) or a paging-structure read (false), from the
    /// low half of EXITINFO1 (QEMU puts it in env->error_code). Null for writes: W is set in both.
    /// </summary>
    private static bool? IsFinalAccess(RunObservation exit, OracleAccess access) => access switch
    {
        OracleAccess.Read => (exit.ErrorCode & X86Bits.ErrorWrite) == 0,
        OracleAccess.Fetch => (exit.ErrorCode & X86Bits.ErrorFetch) != 0,
        _ => null,
    };

    private RunObservation Execute(ReadOnlySpan<byte> image, GuestSetup guest, RunOptions options) =>
        GuestRun.Execute(library, offsets, image, guest, options);

    private static OracleException Unexpected(string what, RunObservation o) =>
        new($"Unexpected result of {what}: {o}.{Hint(o)}");

    private static string Hint(RunObservation o) => o.Vector switch
    {
        X86Bits.VectorDoubleFault => " (#DF: an earlier fault was pending, see README pitfalls.)",
        X86Bits.VectorGeneralProtection => " (#GP outside IA-32e paging is not a page-walk result.)",
        _ => string.Empty,
    };
}
