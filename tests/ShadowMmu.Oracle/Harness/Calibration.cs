using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using ShadowMmu.Oracle.Native;

namespace ShadowMmu.Oracle.Harness;

/// <summary>
/// Finds where CPUX86State's fields sit in a uc_context blob of this build of Unicorn, each by an effect
/// that only the right field can have, then self-tests the whole method on a known translation.
/// </summary>
internal static class Calibration
{
    private const ulong MarkerCr2 = 0x0000_5EED_CAFE_1000;
    private const ulong MarkerCr3 = 0x0000_0012_3456_7000;

    public static ContextOffsets Run(UnicornLibrary library)
    {
        (int cr, int efer, IReadOnlyList<int> hflagsCandidates) = ProbeFreshEngine(library);
        byte[] image = CalibrationImage.Create();
        int hflags = FindHflags(library, image, cr, efer, hflagsCandidates);
        var offsets = FindExceptionFields(library, image, new ContextOffsets(hflags, cr, efer, null, null));
        SelfTest(library, image, offsets);
        return offsets;
    }

    /// <summary>
    /// CR: the five control registers follow each other; marker values written through uc_reg_write find
    /// them, and a patched CR4 must read back. EFER: a patched candidate must change what RDMSR returns.
    /// hflags: candidates only (a 32-bit value with PE, LMA and CS64 set and CPL 0), tested by VMRUN later.
    /// </summary>
    private static (int Cr, int Efer, IReadOnlyList<int> Hflags) ProbeFreshEngine(UnicornLibrary library)
    {
        using var engine = new UnicornEngine(library);
        engine.WriteRegister(UnicornConstants.RegCr2, MarkerCr2);
        engine.WriteRegister(UnicornConstants.RegCr3, MarkerCr3);
        ulong cr0 = engine.ReadRegister(UnicornConstants.RegCr0);
        ulong cr4 = engine.ReadRegister(UnicornConstants.RegCr4);
        byte[] blob = engine.SaveContext().ToArray();

        int cr = Single(
            Offsets(blob, 8).Where(o => o + 40 <= blob.Length
                && U64(blob, o) == cr0 && U64(blob, o + 16) == MarkerCr2
                && U64(blob, o + 24) == MarkerCr3 && U64(blob, o + 32) == cr4),
            "env->cr[]");
        const ulong probeCr4 = X86Bits.Cr4Pae | X86Bits.Cr4Pse;
        BinaryPrimitives.WriteUInt64LittleEndian(engine.SaveContext()[(cr + 32)..], probeCr4);
        engine.RestoreContext();
        if (engine.ReadRegister(UnicornConstants.RegCr4) != probeCr4)
        {
            throw new OracleException($"Calibration: patching env->cr[4] at offset {cr + 32} does not change CR4.");
        }

        ulong efer = engine.ReadMsr(UnicornConstants.MsrEfer);
        var eferHits = new List<int>();
        foreach (int candidate in Offsets(blob, 8).Where(o => U64(blob, o) == efer))
        {
            Span<byte> live = engine.SaveContext();
            BinaryPrimitives.WriteUInt64LittleEndian(live[candidate..], efer ^ X86Bits.EferNxe);
            engine.RestoreContext();
            bool changed = engine.ReadMsr(UnicornConstants.MsrEfer) == (efer ^ X86Bits.EferNxe);
            BinaryPrimitives.WriteUInt64LittleEndian(engine.SaveContext()[candidate..], efer);
            engine.RestoreContext();
            if (changed)
            {
                eferHits.Add(candidate);
            }
        }

        int eferOffset = Single(eferHits, "env->efer");
        const uint mustHave = X86Bits.HflagsPe | X86Bits.HflagsLma | X86Bits.HflagsCs64;
        var hflags = Offsets(blob, 4)
            .Where(o => !Overlaps(o, 4, cr, 40) && !Overlaps(o, 4, eferOffset, 8))
            .Where(o =>
            {
                uint v = U32(blob, o);
                return (v & mustHave) == mustHave && (v & (X86Bits.HflagsCplMask | X86Bits.HflagsSvme)) == 0 && v < (1U << 27);
            })
            .ToList();
        return (cr, eferOffset, hflags);
    }

    /// <summary>
    /// The right hflags field is the one whose HF_SVME bit lets VMRUN run, and which after VMRUN into a CPL 3
    /// guest holds CPL 3, HF_GUEST and HF_SVME.
    /// </summary>
    private static int FindHflags(UnicornLibrary library, byte[] image, int cr, int efer, IReadOnlyList<int> candidates)
    {
        const uint hfGuest = 1U << 21;
        var guest = new GuestSetup(CalibrationImage.Case(OracleAccess.Read, 3, CalibrationImage.FaultVa), OracleMode.Long4, OracleAccess.Read);
        var failures = new List<string>();
        foreach (int candidate in candidates)
        {
            var offsets = new ContextOffsets(candidate, cr, efer, null, null);
            RunObservation o = GuestRun.Execute(library, offsets, image, guest, new RunOptions { StageOneOnly = true });
            if (o.ReachedGuest && o.GuestEntryContext is byte[] blob)
            {
                uint v = U32(blob, candidate);
                if ((v & X86Bits.HflagsCplMask) == 3 && (v & (hfGuest | X86Bits.HflagsSvme)) == (hfGuest | X86Bits.HflagsSvme))
                {
                    return candidate;
                }
            }

            failures.Add($"{candidate}: {o}");
        }

        throw new OracleException(
            $"Calibration: no env->hflags candidate let VMRUN enter the guest ({string.Join("; ", failures)}).");
    }

    /// <summary>
    /// env->error_code holds each known #PF error code at the interrupt; env->old_exception is -1 on guest
    /// entry and 14 at a #PF, and setting it to 14 before the access must turn the #PF into #DF.
    /// </summary>
    private static ContextOffsets FindExceptionFields(UnicornLibrary library, byte[] image, ContextOffsets partial)
    {
        (OracleAccess Access, int Cpl, uint Error)[] faults =
        [
            (OracleAccess.Read, 3, 0x5),   // P | U: user read of a supervisor page
            (OracleAccess.Write, 3, 0x7),  // P | W | U
            (OracleAccess.Write, 0, 0x3),  // P | W: CR0.WP forbids the supervisor write
            (OracleAccess.Fetch, 3, 0x15), // P | U | I/D (PAE paging with NXE)
        ];

        HashSet<int>? errorCode = null;
        HashSet<int>? oldException = null;
        foreach ((OracleAccess access, int cpl, uint error) in faults)
        {
            var guest = new GuestSetup(CalibrationImage.Case(access, cpl, CalibrationImage.FaultVa), OracleMode.Long4, access);
            RunObservation o = GuestRun.Execute(library, partial, image, guest, new RunOptions { CaptureContexts = true });
            if (o.Vector != X86Bits.VectorPageFault || o.Cr2 != CalibrationImage.FaultVa
                || o.InterruptContext is not byte[] atFault || o.GuestEntryContext is not byte[] atEntry)
            {
                throw new OracleException($"Calibration: a known {access} #PF at CPL {cpl} gave {o}.");
            }

            var errorHits = Offsets(atFault, 4).Where(i => U32(atFault, i) == error);
            var oldHits = Offsets(atFault, 4).Where(i => (int)U32(atFault, i) == 14 && (int)U32(atEntry, i) == -1);
            errorCode = Intersect(errorCode, errorHits);
            oldException = Intersect(oldException, oldHits);
        }

        var offsets = partial with
        {
            ErrorCode = Single(errorCode!, "env->error_code"),
            OldException = Single(oldException!, "env->old_exception"),
        };

        var read = new GuestSetup(CalibrationImage.Case(OracleAccess.Read, 3, CalibrationImage.FaultVa), OracleMode.Long4, OracleAccess.Read);
        RunObservation pending = GuestRun.Execute(library, offsets, image, read, new RunOptions { OldExceptionAtEntry = 14 });
        if (pending.Vector != X86Bits.VectorDoubleFault)
        {
            throw new OracleException(
                $"Calibration: env->old_exception at offset {offsets.OldException} = 14 did not turn a #PF into #DF ({pending}).");
        }

        return offsets;
    }

    /// <summary>A translation to a physical address outside the image must leave through the nested tables.</summary>
    private static void SelfTest(UnicornLibrary library, byte[] image, ContextOffsets offsets)
    {
        OracleCase c = CalibrationImage.Case(OracleAccess.Read, 0, CalibrationImage.OutsideVa);
        OracleResult result = new OracleRunner(library, offsets).Run(image, c);
        if (result.Outcome != OracleOutcome.Translated || result.PhysicalAddress != CalibrationImage.OutsidePa)
        {
            throw new OracleException(
                $"Calibration self-test: expected a translation to 0x{CalibrationImage.OutsidePa:X}, got {result}.");
        }
    }

    private static bool Overlaps(int offset, int size, int start, int length) => offset < start + length && start < offset + size;

    private static HashSet<int> Intersect(HashSet<int>? soFar, IEnumerable<int> hits)
    {
        if (soFar is null)
        {
            return hits.ToHashSet();
        }

        soFar.IntersectWith(hits);
        return soFar;
    }

    private static int Single(IEnumerable<int> candidates, string field)
    {
        int[] all = candidates.ToArray();
        if (all.Length != 1)
        {
            throw new OracleException(
                $"Calibration: {all.Length} candidates for {field} in the context blob ({string.Join(", ", all)}); expected one.");
        }

        return all[0];
    }

    private static IEnumerable<int> Offsets(byte[] blob, int step)
    {
        for (int offset = 0; offset + 8 <= blob.Length; offset += step)
        {
            yield return offset;
        }
    }

    private static ulong U64(byte[] blob, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(blob.AsSpan(offset));

    private static uint U32(byte[] blob, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(blob.AsSpan(offset));
}
