using System;
using System.Collections.Generic;

namespace ShadowMmu;

/// <summary>The paging modes built into this library (one per spec in <c>specs/</c>), and the one the registers select.</summary>
public static class PagingModes
{
    /// <summary>Every built-in mode.</summary>
    public static IReadOnlyList<PagingModeInfo> All => GeneratedPagingModes.All;

    /// <summary>The mode <paramref name="cpu"/> selects, as the processor selects it; null with paging off.</summary>
    public static PagingModeInfo? Select(in CpuState cpu) => GeneratedPagingModes.Select(cpu);

    /// <summary>A generated walker for the mode the registers select.</summary>
    /// <exception cref="ArgumentException">Paging is off, or the state is impossible (<see cref="CpuState.Validate"/>).</exception>
    public static IGuestPageWalker CreateWalker(GuestMemory memory, in CpuState cpu)
    {
        string? invalid = cpu.Validate();
        if (invalid != null)
        {
            throw new ArgumentException(invalid, nameof(cpu));
        }

        PagingModeInfo mode = Select(cpu) ?? throw new ArgumentException("CR0.PG is clear: paging is off.", nameof(cpu));
        return GeneratedPagingModes.Create(mode.Name, memory, cpu)!;
    }

    /// <summary>
    /// A generated walker for the mode the registers select, its root registers (PAE's four PDPTEs) holding
    /// <paramref name="rootRegisters"/> instead of what memory holds at CR3, checked as a MOV to CR3 checks them (as a
    /// VM entry loads them from the VMCS; or as a dump's reader knows them, <see cref="ReadRootRegistersAsLoaded"/>).
    /// Empty: loaded from memory.
    /// </summary>
    /// <exception cref="ArgumentException">Paging is off, the state is impossible, or the mode has not that many root registers.</exception>
    public static IGuestPageWalker CreateWalker(GuestMemory memory, in CpuState cpu, ReadOnlySpan<ulong> rootRegisters)
    {
        if (rootRegisters.IsEmpty)
        {
            return CreateWalker(memory, cpu);
        }

        string? invalid = cpu.Validate();
        if (invalid != null)
        {
            throw new ArgumentException(invalid, nameof(cpu));
        }

        PagingModeInfo mode = Select(cpu) ?? throw new ArgumentException("CR0.PG is clear: paging is off.", nameof(cpu));
        return GeneratedPagingModes.Create(mode.Name, memory, cpu, rootRegisters)
            ?? throw new ArgumentException($"{mode.Name} has no root registers: every walk reads its root table from memory.", nameof(rootRegisters));
    }

    /// <summary>
    /// The root registers (PAE's four PDPTEs) as they were loaded from the table at CR3, when memory shows that table as it
    /// is now (a dump): a present entry's reserved bits below bit 12 (PAE: 2:1 and 8:5) cleared, because the CPU sets
    /// none of them and a register was loaded without them (QEMU's TCG sets bit 5 in PDPTEs as an accessed flag as it
    /// walks, after the load). Address bits at or above MAXPHYADDR are kept, and still fault. An entry outside memory
    /// reads 0. Returns the bits it cleared (OR over the entries); <paramref name="registers"/> gets
    /// <see cref="PagingModeFacts.RootRegisters"/> values (none for a mode without root registers).
    /// </summary>
    /// <exception cref="ArgumentException">Paging is off, or <paramref name="registers"/> is too short.</exception>
    public static ulong ReadRootRegistersAsLoaded(GuestMemory memory, in CpuState cpu, Span<ulong> registers)
    {
        ArgumentNullException.ThrowIfNull(memory);
        PagingModeInfo mode = Select(cpu) ?? throw new ArgumentException("CR0.PG is clear: paging is off.", nameof(cpu));
        PagingModeFacts facts = PagingModeFacts.Of(mode);
        if (registers.Length < facts.RootRegisters)
        {
            throw new ArgumentException($"{mode.Name} has {facts.RootRegisters} root registers.", nameof(registers));
        }

        ulong table = cpu.Cr3 & facts.RootMask;
        ulong flagsReserved = facts.RootRegisterFlagsReserved;
        ulong cleared = 0;
        for (int i = 0; i < facts.RootRegisters; i++)
        {
            ulong at = table + (ulong)(i * mode.EntryBytes);
            ulong entry = memory.Contains(at, (ulong)mode.EntryBytes) ? memory.ReadEntry(at, mode.EntryBytes) : 0;
            if ((entry & 1) != 0)
            {
                cleared |= entry & flagsReserved;
                entry &= ~flagsReserved;
            }

            registers[i] = entry;
        }

        return cleared;
    }

    /// <summary>The generated EPT walker for <paramref name="cpu"/>'s EPTP (its page-walk length picks ept4 or ept5).</summary>
    /// <exception cref="ArgumentException">EPTP is invalid (<see cref="EptPointer.Validate"/>).</exception>
    public static IEptWalker CreateEptWalker(GuestMemory memory, in CpuState cpu)
    {
        string? invalid = EptPointer.Validate(cpu.Eptp, cpu.MaxPhysAddr);
        if (invalid != null)
        {
            throw new ArgumentException(invalid, nameof(cpu));
        }

        return (IEptWalker)GeneratedPagingModes.Create("ept" + EptPointer.Levels(cpu.Eptp), memory, cpu)!;
    }

    /// <summary>A generated walker for the mode named <paramref name="name"/>, whatever the registers select.</summary>
    /// <exception cref="ArgumentException">No built-in mode has that name.</exception>
    public static IGuestPageWalker CreateWalker(string name, GuestMemory memory, in CpuState cpu) =>
        GeneratedPagingModes.Create(name, memory, cpu) ?? throw new ArgumentException($"No paging mode is named '{name}'.", nameof(name));
}
