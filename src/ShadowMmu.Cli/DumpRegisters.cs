using System.Globalization;
using ShadowMmu.Dumps;

namespace ShadowMmu.Cli;

/// <summary>
/// The registers a dump's CPU note gives, completed with what a note cannot hold. QEMU's note has CR0, CR3, CR4 and the
/// segments but no EFER and no PKRU, so: long mode (EFER.LME and LMA) when the dump's ELF machine is x86-64 or CS is a
/// 64-bit code segment while paging with PAE is on; EFER.NXE assumed set whenever PAE is on (Linux turns NX on where the
/// CPU has it, and every CPU that runs a PAE or 64-bit Linux guest today does); PKRU 0 (every key allows everything).
/// Each register given on the command line or in a batch case replaces the note's (or the assumed) value.
/// </summary>
internal static class DumpRegisters
{
    /// <summary>
    /// CPU <paramref name="index"/>'s state with <paramref name="given"/>'s registers over it; null with an error when the
    /// dump has no such CPU or its note holds no control registers.
    /// </summary>
    public static CpuState? Resolve(MemoryDump dump, int index, in GivenRegisters given, out string? error)
    {
        if (dump.Cpus.Count == 0)
        {
            error = $"{DumpName(dump)} holds no CPU notes: give the registers (--cr3 and the others)";
            return null;
        }

        if (index < 0 || index >= dump.Cpus.Count)
        {
            error = $"{DumpName(dump)} has CPUs 0 to {(dump.Cpus.Count - 1).ToString(CultureInfo.InvariantCulture)}, not {index.ToString(CultureInfo.InvariantCulture)}";
            return null;
        }

        DumpCpuState note = dump.Cpus[index];
        if (!note.HasControlRegisters)
        {
            error = $"CPU {index.ToString(CultureInfo.InvariantCulture)}'s note in {DumpName(dump)} holds no control registers (NT_PRSTATUS only): give --cr3 and the others";
            return null;
        }

        error = null;
        ulong cr0 = given.Cr0 ?? note.Cr0, cr4 = given.Cr4 ?? note.Cr4;
        return new CpuState(cr0, given.Cr3 ?? note.Cr3, cr4, given.Efer ?? AssumedEfer(dump, note, cr0, cr4), (uint)(given.Pkru ?? 0),
            given.MaxPhysAddr ?? CpuState.DefaultMaxPhysAddr, TranslateDefaults.Features);
    }

    /// <summary>The EFER a note implies (see the class).</summary>
    public static ulong AssumedEfer(MemoryDump dump, DumpCpuState note, ulong cr0, ulong cr4)
    {
        bool paging = (cr0 & Cr0.PG) != 0, pae = (cr4 & Cr4.PAE) != 0;
        bool longMode = paging && pae && (dump.Machine == DumpMachine.X86_64 || note.Cs.Long);
        return (longMode ? Efer.LME | Efer.LMA : 0) | (pae ? Efer.NXE : 0);
    }

    private static string DumpName(MemoryDump dump) => $"'{System.IO.Path.GetFileName(dump.Path)}'";
}

/// <summary>Registers given on the command line or in a batch case; null where not given.</summary>
internal readonly record struct GivenRegisters(ulong? Cr0, ulong? Cr3, ulong? Cr4, ulong? Efer, ulong? Pkru, int? MaxPhysAddr)
{
    /// <summary>True when no register was given.</summary>
    public bool None => Cr0 == null && Cr3 == null && Cr4 == null && Efer == null && Pkru == null && MaxPhysAddr == null;

    /// <summary>The state these registers give alone (with CR3), the defaults where not given.</summary>
    public CpuState WithDefaults(ulong cr3) => new(
        Cr0 ?? TranslateDefaults.Cr0, cr3, Cr4 ?? TranslateDefaults.Cr4, Efer ?? TranslateDefaults.Efer, (uint)(Pkru ?? TranslateDefaults.Pkru),
        MaxPhysAddr ?? (int)TranslateDefaults.MaxPhysAddr, TranslateDefaults.Features);
}
