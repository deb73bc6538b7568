using System;
using ShadowMmu.Dumps;

namespace ShadowMmu.Cli;

/// <summary>A piece of a linear range: where its bytes are, or why they cannot be read.</summary>
/// <param name="Va">Its first linear address.</param>
/// <param name="Length">Its length in bytes.</param>
/// <param name="Pa">The physical address of its first byte (when readable: the piece lies in one page and in the dump).</param>
/// <param name="Problem">Why it cannot be read (not mapped, not in the dump), or null.</param>
internal readonly record struct LinearChunk(ulong Va, ulong Length, ulong Pa, string? Problem);

/// <summary>
/// Splits a linear range into pieces a read can take whole, as a debugger reads guest memory: through the walk of a
/// supervisor read with SMAP, SMEP and protection keys out of the way (rights are not the question), one page at a
/// time, and only where the dump holds the frame. An address that does not translate gives a piece as long as the
/// entry that failed covers (a missing PDE: the rest of its 2 MiB), so a read over a sparse range stays quick.
/// </summary>
internal sealed class LinearReader
{
    private readonly WalkSession _session;
    private readonly MemoryDump _dump;
    private readonly CpuState _cpu;
    private readonly PdpteChoice _pdptes;
    private readonly PagingModeFacts _facts;
    private Translation _translation;

    public LinearReader(WalkSession session, MemoryDump dump, in CpuState cpu, PdpteChoice pdptes)
    {
        _session = session;
        _dump = dump;
        _cpu = cpu with { Cr4 = cpu.Cr4 & ~(Cr4.SMAP | Cr4.SMEP), Pkru = 0 };
        _pdptes = pdptes;
        PagingModeInfo mode = WalkSession.TrySelectMode(_cpu, out string? error) ?? throw new CliUsageException(error!);
        _facts = PagingModeFacts.Of(mode);
    }

    /// <summary>The memory the pieces' physical addresses are in.</summary>
    public GuestMemory Memory => _dump.Memory;

    /// <summary>The piece that starts at <paramref name="va"/>, at most <paramref name="remaining"/> bytes long.</summary>
    public LinearChunk Next(ulong va, ulong remaining)
    {
        if (!_facts.Fits(va))
        {
            return new LinearChunk(va, remaining, 0, $"not a linear address of {_facts.Mode.Name} ({_facts.Mode.LinearBits} bits)");
        }

        if (!_session.TryTranslate(_dump.Memory, new TranslateRequest(_cpu, va, AccessKind.Read, 0, false, Pdptes: _pdptes), ref _translation, out string? error)
            || (error = _session.MissingTable(_dump.Memory, _translation)) != null)
        {
            return new LinearChunk(va, Math.Min(remaining, ToBoundary(va, 0x1000)), 0, error);
        }

        ref readonly GuestWalk walk = ref _translation.Walk;
        switch (walk.Fault)
        {
            case WalkFault.None:
                return Present(va, Math.Min(remaining, ToBoundary(va, walk.PageSize)), walk.PhysicalAddress);

            case WalkFault.GeneralProtection:
                // The non-canonical hole, whole: from here to the first canonical address of the upper half.
                ulong upperHalf = 0UL - (1UL << (_facts.Mode.LinearBits - 1));
                return new LinearChunk(va, Math.Min(remaining, upperHalf - va), 0, "not mapped: a non-canonical address (#GP)");

            default:
                string entry = _facts.LevelName(walk.Level);
                string why = _translation.PdpteLoadFaulted
                    ? "not mapped: loading the PDPTE registers faults (#GP)"
                    : $"not mapped: #PF at level {walk.Level} (the {entry} at {Numbers.Hex(walk.PteGpa[walk.Level - 1])} holds {Numbers.Hex(walk.Ptes[walk.Level - 1])})";
                return new LinearChunk(va, Math.Min(remaining, ToBoundary(va, _facts.EntryCoverage(walk.Level))), 0, why);
        }
    }

    // The part of a translated page the dump holds, from its start: up to the first 4 KiB frame it lacks; or, when
    // it lacks the first one, that frame alone.
    private LinearChunk Present(ulong va, ulong length, ulong pa)
    {
        if (!_dump.IsPresent(pa))
        {
            return new LinearChunk(va, Math.Min(length, ToBoundary(pa, 0x1000)), pa, $"physical {Numbers.Hex(pa & ~0xFFFUL)} is not in the dump");
        }

        ulong held = ToBoundary(pa, 0x1000);
        while (held < length && _dump.IsPresent(pa + held))
        {
            held += 0x1000;
        }

        return new LinearChunk(va, Math.Min(length, held), pa, null);
    }

    // Bytes from address to the next multiple of size (a power of two).
    private static ulong ToBoundary(ulong address, ulong size) => size - (address & (size - 1));
}
