using System;

namespace ShadowMmu;

/// <summary>
/// Translates linear addresses in a guest's memory as its processor would, without changing the memory: a debugger's
/// view of a dump. Each address goes through the generated walker of the registers' mode, reading the memory through a
/// read-only view (<see cref="GuestMemory.CreateReadOnlyView"/>), so the A/D flags the processor would set are not
/// stored and every translation sees the memory as it is. Nothing is allocated per address, and any number of threads
/// may translate through one translator at once (while nothing writes the memory).
/// </summary>
/// <example>
/// <code>
/// using MemoryDump dump = MemoryDump.Open("guest.elf");
/// var translator = new AddressTranslator(dump.Memory, cpu);
/// Span&lt;AddressTranslation&gt; results = stackalloc AddressTranslation[vas.Length];
/// translator.Translate(vas, results);   // a supervisor read of each, as a debugger reads
/// </code>
/// </example>
public sealed class AddressTranslator
{
    private readonly IGuestPageWalker _walker;

    /// <summary>
    /// A translator for the mode <paramref name="cpu"/> selects, over <paramref name="memory"/>. PAE's PDPTE registers are
    /// the image's PDPTEs as the registers held them (<see cref="PagingModes.ReadRootRegistersAsLoaded"/>: a dump shows
    /// the table as it is now, and QEMU sets bit 5 in it after the load); the bits ignored are in
    /// <see cref="IgnoredRootRegisterBits"/>. <paramref name="strictRootRegisters"/> loads them as the SDM's MOV to CR3
    /// does instead, where a present PDPTE with any reserved bit set makes every translation a #GP.
    /// </summary>
    /// <exception cref="ArgumentException">Paging is off, or the state is impossible (<see cref="CpuState.Validate"/>).</exception>
    public AddressTranslator(GuestMemory memory, in CpuState cpu, bool strictRootRegisters = false)
    {
        ArgumentNullException.ThrowIfNull(memory);
        GuestMemory view = memory.IsReadOnly ? memory : memory.CreateReadOnlyView();
        int count = strictRootRegisters || cpu.Validate() != null || PagingModes.Select(cpu) is not { } mode ? 0 : PagingModeFacts.Of(mode).RootRegisters;
        Span<ulong> registers = stackalloc ulong[count];
        if (count > 0)
        {
            IgnoredRootRegisterBits = PagingModes.ReadRootRegistersAsLoaded(memory, cpu, registers);
        }

        _walker = PagingModes.CreateWalker(view, cpu, registers);
    }

    /// <summary>
    /// A translator whose root registers (PAE's four PDPTEs) hold <paramref name="rootRegisters"/>, checked as a MOV to
    /// CR3 checks them (a present one with a reserved bit set makes every translation a #GP).
    /// </summary>
    /// <exception cref="ArgumentException">Paging is off, the state is impossible, or the mode has not that many root registers.</exception>
    public AddressTranslator(GuestMemory memory, in CpuState cpu, ReadOnlySpan<ulong> rootRegisters)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _walker = PagingModes.CreateWalker(memory.IsReadOnly ? memory : memory.CreateReadOnlyView(), cpu, rootRegisters);
    }

    /// <summary>
    /// The reserved bits (OR over PAE's four PDPTEs) that reading the image's PDPTEs as the registers held them ignored;
    /// 0 when none were set, in strict mode, and in modes without root registers.
    /// </summary>
    public ulong IgnoredRootRegisterBits { get; }

    /// <summary>The paging mode the registers selected.</summary>
    public PagingModeInfo Mode => _walker.Mode;

    /// <summary>
    /// Translates <paramref name="vas"/>[i] into <paramref name="results"/>[i] for an access of <paramref name="kind"/>
    /// at <paramref name="cpl"/> with EFLAGS.AC = <paramref name="ac"/> (by default a supervisor read: what a debugger
    /// reads). Returns how many translated; the others are a #PF or #GP in their result.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="results"/> is shorter than <paramref name="vas"/>.</exception>
    public int Translate(ReadOnlySpan<ulong> vas, Span<AddressTranslation> results, AccessKind kind = AccessKind.Read, int cpl = 0, bool ac = false)
    {
        if (results.Length < vas.Length)
        {
            throw new ArgumentException($"{results.Length} results for {vas.Length} addresses.", nameof(results));
        }

        var walk = default(GuestWalk);
        int translated = 0;
        for (int i = 0; i < vas.Length; i++)
        {
            bool ok = _walker.WalkAddr(ref walk, vas[i], kind, cpl, ac);
            results[i] = new AddressTranslation(walk.Va, walk.PhysicalAddress, walk.PageSize, walk.Fault, walk.ErrorCode, walk.Level, walk.PteAccess);
            translated += ok ? 1 : 0;
        }

        return translated;
    }

    /// <summary>The physical address of <paramref name="va"/> for a supervisor read; false when it does not translate.</summary>
    public bool TryTranslate(ulong va, out ulong physicalAddress)
    {
        var walk = default(GuestWalk);
        bool ok = _walker.WalkAddr(ref walk, va, AccessKind.Read, 0, false);
        physicalAddress = walk.PhysicalAddress;
        return ok;
    }
}

/// <summary>How one linear address translated.</summary>
/// <param name="Va">The linear address.</param>
/// <param name="Pa">The physical address of its byte (0 when it did not translate).</param>
/// <param name="PageSize">The size of the page that maps it (0 when it did not translate).</param>
/// <param name="Fault">None, a #PF (<see cref="ErrorCode"/>) or a #GP.</param>
/// <param name="ErrorCode">The #PF error code (<see cref="PageFaultErrorCode"/>), else 0.</param>
/// <param name="Level">The leaf's level (1 for a 4 KiB page); for a #PF, the level where the walk stopped.</param>
/// <param name="Access">The rights the translation grants (<see cref="AccessRights"/>: U, W, X).</param>
public readonly record struct AddressTranslation(ulong Va, ulong Pa, ulong PageSize, WalkFault Fault, uint ErrorCode, int Level, uint Access)
{
    /// <summary>True when the address translated.</summary>
    public bool Translated => Fault == WalkFault.None;
}
