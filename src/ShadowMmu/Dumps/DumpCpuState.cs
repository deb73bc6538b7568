using System;

namespace ShadowMmu.Dumps;

/// <summary>Which notes a CPU's state came from.</summary>
[Flags]
public enum DumpCpuSources
{
    /// <summary>No note.</summary>
    None = 0,

    /// <summary>QEMU's "QEMU" note (QEMUCPUState): every general register, the segments and CR0-CR4.</summary>
    QemuNote = 1,

    /// <summary>An NT_PRSTATUS note ("CORE"): the general registers and segment selectors, no control registers.</summary>
    PrStatus = 2,
}

/// <summary>
/// One CPU's registers as a dump recorded them. QEMU's note is preferred where both notes exist (it has the control
/// registers and the segments' hidden parts); a dump with NT_PRSTATUS only (a Linux kernel's vmcore) has no control
/// registers: <see cref="HasControlRegisters"/> is false there. The notes hold no EFER.
/// </summary>
public sealed class DumpCpuState
{
    /// <summary>The CPU's position among the dump's CPU notes, from 0.</summary>
    public int Index { get; internal init; }

    /// <summary>Which notes the values came from.</summary>
    public DumpCpuSources Sources { get; internal init; }

    /// <summary>True when CR0-CR4 and the segments' bases, limits and flags are known (from QEMU's note).</summary>
    public bool HasControlRegisters => (Sources & DumpCpuSources.QemuNote) != 0;

    /// <summary>The QEMUCPUState version (1 in every QEMU so far), or 0 without the note.</summary>
    public uint QemuStateVersion { get; internal init; }

    /// <summary>NT_PRSTATUS's pr_pid: QEMU writes the CPU index + 1; a kernel writes the task's pid.</summary>
    public int? PrStatusPid { get; internal init; }

#pragma warning disable CS1591 // the registers are named as the processor names them
    public ulong Rax { get; internal init; }
    public ulong Rbx { get; internal init; }
    public ulong Rcx { get; internal init; }
    public ulong Rdx { get; internal init; }
    public ulong Rsi { get; internal init; }
    public ulong Rdi { get; internal init; }
    public ulong Rsp { get; internal init; }
    public ulong Rbp { get; internal init; }
    public ulong R8 { get; internal init; }
    public ulong R9 { get; internal init; }
    public ulong R10 { get; internal init; }
    public ulong R11 { get; internal init; }
    public ulong R12 { get; internal init; }
    public ulong R13 { get; internal init; }
    public ulong R14 { get; internal init; }
    public ulong R15 { get; internal init; }
    public ulong Rip { get; internal init; }
    public ulong Rflags { get; internal init; }
    public DumpSegment Cs { get; internal init; }
    public DumpSegment Ds { get; internal init; }
    public DumpSegment Es { get; internal init; }
    public DumpSegment Fs { get; internal init; }
    public DumpSegment Gs { get; internal init; }
    public DumpSegment Ss { get; internal init; }
    public DumpSegment Ldt { get; internal init; }
    public DumpSegment Tr { get; internal init; }
    public DumpSegment Gdt { get; internal init; }
    public DumpSegment Idt { get; internal init; }
    public ulong Cr0 { get; internal init; }
    public ulong Cr2 { get; internal init; }
    public ulong Cr3 { get; internal init; }
    public ulong Cr4 { get; internal init; }
#pragma warning restore CS1591

    /// <summary>The IA32_KERNEL_GS_BASE MSR, which newer QEMU adds to its note (a 440-byte state; 7.2 writes it), else null.</summary>
    public ulong? KernelGsBase { get; internal init; }

    /// <inheritdoc/>
    public override string ToString() =>
        $"CPU {Index}: RIP=0x{Rip:x} CS={Cs.Selector:x4} CR0=0x{Cr0:x} CR3=0x{Cr3:x} CR4=0x{Cr4:x} ({Sources})";
}
