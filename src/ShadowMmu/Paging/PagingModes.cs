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
