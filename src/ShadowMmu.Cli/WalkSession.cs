using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.CompilerServices;
using ShadowMmu.Dumps;

namespace ShadowMmu.Cli;

/// <summary>One access to translate: registers, the linear address and how it is accessed.</summary>
/// <param name="Cpu">Control registers, EFER, PKRU, MAXPHYADDR, features.</param>
/// <param name="Va">The linear address.</param>
/// <param name="Access">Read, write or fetch.</param>
/// <param name="Cpl">Current privilege level (3 = user).</param>
/// <param name="Ac">EFLAGS.AC.</param>
/// <param name="Gpa">True: <paramref name="Va"/> is a guest-physical address to walk through EPT alone (<see cref="CpuState.Eptp"/>).</param>
/// <param name="User">For an EPT walk: the access is to a user-mode linear address (mode-based execute control).</param>
/// <param name="Nested">True: the two-dimensional walk of <paramref name="Va"/>, the guest's tables through the EPT <see cref="CpuState.Eptp"/> names.</param>
/// <param name="Pdptes">For a PAE guest: where its PDPTE registers come from (the image's PDPT, read leniently, by default).</param>
internal readonly record struct TranslateRequest(CpuState Cpu, ulong Va, AccessKind Access, int Cpl, bool Ac, bool Gpa = false, bool User = false, bool Nested = false,
    PdpteChoice Pdptes = default);

/// <summary>The outcome of one translation: the walk record and what is needed to describe it.</summary>
internal struct Translation
{
    /// <summary>The walk as the generated walker left it (its A/D updates already undone in memory).</summary>
    public GuestWalk Walk;

    /// <summary>For a two-dimensional walk: its record (<see cref="Walk"/> is then its guest walk), and the EPT mode.</summary>
    public NestedWalk Nested;

    /// <summary>The EPT mode of a two-dimensional walk, else null.</summary>
    public PagingModeInfo? EptMode;

    /// <summary>The mode the registers selected.</summary>
    public PagingModeInfo Mode;

    /// <summary>PAE only: loading the PDPTE registers failed, so every access is a #GP(0).</summary>
    public bool PdpteLoadFaulted;

    /// <summary>PAE only: the reserved bits (below bit 12) set in the image's PDPTEs that the registers were read without.</summary>
    public ulong PdpteIgnoredBits;

    /// <summary>PAE only: the walker, whose PDPTE registers the answer shows; null for other modes.</summary>
    public PaeWalker? Pae;

    /// <summary>Bytes of physical memory walked.</summary>
    public ulong MemorySize;
}

/// <summary>
/// Translates addresses in physical-memory images for one run of the tool. Each image is mapped once
/// (copy-on-write, cached by full path) and each register state gets one generated walker; after every walk the
/// entries whose A/D flags it set get their old values back, so every access starts from the image as it is on
/// disk, and the file itself is never written.
/// </summary>
internal sealed class WalkSession : IDisposable
{
    private const int MaxCachedWalkers = 4096;

    private readonly Dictionary<string, (MemoryDump? Dump, string? Error)> _images = new(StringComparer.Ordinal);
    // The dumps whose memory has holes (pages the dump does not hold read as zeros): walks through them are checked.
    private readonly Dictionary<GuestMemory, MemoryDump> _withHoles = new();
    private readonly Action<long, long>? _progress;
    // Keyed by the EPT mode's name too: a two-dimensional walk uses a guest walker and an EPT walker for one state.
    private readonly Dictionary<(GuestMemory Memory, CpuState Cpu, string? Ept, PdpteChoice Pdptes), (IGuestPageWalker Walker, ulong Ignored)> _walkers = new();
    private readonly Dictionary<(GuestMemory Memory, CpuState Cpu), ReferenceWalker> _nestedWalkers = new();

    // The last guest walkers used and what they were for, the most recent first: a batch's cases mostly share an image
    // and registers, or take turns among a few.
    private readonly RecentWalker[] _recent = new RecentWalker[4];

    // The last memory asked about in MissingTable, and its dump if it has holes.
    private GuestMemory? _lastChecked;
    private MemoryDump? _lastCheckedHoles;

    /// <param name="progress">Told (bytes done, bytes in all) while a dump that must be copied or decompressed opens.</param>
    public WalkSession(Action<long, long>? progress = null)
    {
        _progress = progress;
    }

    /// <summary>The memory of the image at <paramref name="path"/> (see <see cref="TryOpenDump"/>); null and a reason when it cannot be read.</summary>
    public GuestMemory? TryOpenImage(string path, out string? error) => TryOpenDump(path, out error)?.Memory;

    /// <summary>
    /// Opens the dump at <paramref name="path"/>, whatever its format (raw, ELF, kdump, LiME: read from its content),
    /// once per full path; null and a one-line reason when it cannot be read.
    /// </summary>
    public MemoryDump? TryOpenDump(string path, out string? error)
    {
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException or IOException)
        {
            error = $"cannot read image '{path}': {e.Message}";
            return null;
        }

        if (!_images.TryGetValue(full, out (MemoryDump? Dump, string? Error) entry))
        {
            entry = Open(path, full);
            _images[full] = entry;
            if (entry.Dump is { } dump && HasHoles(dump))
            {
                _withHoles[dump.Memory] = dump;
            }
        }

        error = entry.Error;
        return entry.Dump;
    }

    /// <summary>
    /// Why the walk in <paramref name="t"/> cannot be trusted: an entry it read lies in a page the dump does not hold
    /// (it read zeros there); null when every entry it read is in the dump.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public string? MissingTable(GuestMemory memory, in Translation t)
    {
        if (!ReferenceEquals(memory, _lastChecked))
        {
            _lastCheckedHoles = _withHoles.GetValueOrDefault(memory);
            _lastChecked = memory;
        }

        MemoryDump? dump = _lastCheckedHoles;
        if (dump == null || t.EptMode != null || t.Walk.Fault == WalkFault.GeneralProtection)
        {
            return null;
        }

        ref readonly GuestWalk walk = ref t.Walk;
        int deepest = Math.Max(walk.Level, 1);
        for (int level = t.Mode.RootLevel; level >= deepest && level <= 5; level--)
        {
            ulong entry = walk.PteGpa[level - 1];
            if (t.Pae != null && level == t.Mode.RootLevel)
            {
                continue; // PAE's PDPTEs are registers: the walk read none of them from memory
            }

            if (!walk.EntryOutsideMemory && !dump.IsPresent(entry))
            {
                return $"the {PagingModeFacts.Of(t.Mode).LevelName(level)} at {Numbers.Hex(entry)} lies in a page the dump does not hold";
            }
        }

        return null;
    }

    /// <summary>
    /// The mode <paramref name="cpu"/> selects, or null and why it cannot translate: CR0.PG clear, or a combination a
    /// processor would have refused.
    /// </summary>
    public static PagingModeInfo? TrySelectMode(in CpuState cpu, out string? error)
    {
        string? invalid = cpu.Validate();
        if (invalid != null)
        {
            error = "impossible register combination: " + invalid;
            return null;
        }

        PagingModeInfo? mode = PagingModes.Select(cpu);
        error = mode == null ? "CR0.PG is clear: paging is off, so linear addresses are physical and there is nothing to walk" : null;
        return mode;
    }

    /// <summary>
    /// Walks <paramref name="request"/> in <paramref name="memory"/>. False with <paramref name="error"/> when it cannot
    /// be run (registers as in <see cref="TrySelectMode"/>, or a VA wider than the mode's linear addresses); a #PF or
    /// #GP is a result, not an error.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryTranslate(GuestMemory memory, in TranslateRequest request, ref Translation result, out string? error)
    {
        if (request.Gpa)
        {
            return TryTranslateGpa(memory, request, ref result, out error);
        }

        result.EptMode = null;
        if (request.Nested)
        {
            return TryTranslateNested(memory, request, ref result, out error);
        }

        IGuestPageWalker walker;
        PagingModeFacts facts;
        int recent = Recent(memory, request.Cpu, request.Pdptes);
        if (recent >= 0)
        {
            // The walker of a recent case: its registers were checked and its mode chosen then.
            (walker, facts, result.PdpteIgnoredBits, error) = (_recent[recent].Walker!, _recent[recent].Facts!, _recent[recent].Ignored, null);
            if (!facts.Fits(request.Va))
            {
                error = DoesNotFit(request.Va, facts.Mode);
                return false;
            }
        }
        else
        {
            PagingModeInfo? mode = TrySelectMode(request.Cpu, out error);
            if (mode == null)
            {
                return false;
            }

            facts = PagingModeFacts.Of(mode);
            if (!facts.Fits(request.Va))
            {
                error = DoesNotFit(request.Va, mode);
                return false;
            }

            walker = Walker(memory, request.Cpu, null, request.Pdptes, out result.PdpteIgnoredBits);
            Array.Copy(_recent, 0, _recent, 1, _recent.Length - 1);
            _recent[0] = new RecentWalker(memory, request.Cpu, request.Pdptes, walker, facts, result.PdpteIgnoredBits);
        }

        result.Mode = walker.Mode;
        result.MemorySize = memory.Size;
        result.Pae = walker as PaeWalker;
        result.PdpteLoadFaulted = result.Pae is { RegisterLoadFaulted: true };
        walker.WalkAddr(ref result.Walk, request.Va, request.Access, request.Cpl, request.Ac);
        Undo(memory, ref result.Walk, walker.Mode.EntryBytes);
        return true;
    }

    /// <summary>The most bits a guest-physical address has: MAXPHYADDR is at most 52.</summary>
    public const int GuestPhysicalBits = 52;

    /// <summary>The EPT mode <paramref name="cpu"/>'s EPTP selects (its page-walk length), or null and why VM entry would refuse it.</summary>
    public static PagingModeInfo? TrySelectEptMode(in CpuState cpu, out string? error)
    {
        error = cpu.MaxPhysAddr is < 32 or > 52
            ? $"MAXPHYADDR {cpu.MaxPhysAddr} is outside 32..52"
            : EptPointer.Validate(cpu.Eptp, cpu.MaxPhysAddr);
        if (error != null)
        {
            error = "invalid EPTP: " + error;
            return null;
        }

        string name = "ept" + EptPointer.Levels(cpu.Eptp);
        foreach (PagingModeInfo mode in PagingModes.All)
        {
            if (mode.Name == name)
            {
                return mode;
            }
        }

        error = $"invalid EPTP: no built-in mode {name}";
        return null;
    }

    // EPT alone: the address is guest-physical, the walker is the generated one for the EPTP's page-walk length.
    private bool TryTranslateGpa(GuestMemory memory, in TranslateRequest request, ref Translation result, out string? error)
    {
        PagingModeInfo? mode = TrySelectEptMode(request.Cpu, out error);
        if (mode == null)
        {
            return false;
        }

        // Bits 51:48 with 4-level EPT are the walk's to answer (an EPT violation); no guest-physical address has more bits.
        if ((request.Va >> GuestPhysicalBits) != 0)
        {
            error = $"GPA {Numbers.Hex(request.Va)} has more than the {GuestPhysicalBits} bits of a guest-physical address";
            return false;
        }

        var walker = (IEptWalker)Walker(memory, request.Cpu, mode, default, out _);
        result.EptMode = null;
        result.Mode = walker.Mode;
        result.MemorySize = memory.Size;
        result.PdpteLoadFaulted = false;
        result.PdpteIgnoredBits = 0;
        result.Pae = null;
        walker.WalkGpa(ref result.Walk, request.Va, request.Access, EptAccessFlags.Final | (request.User ? EptAccessFlags.GuestUser : 0));
        Undo(memory, ref result.Walk, walker.Mode.EntryBytes);
        return true;
    }

    // Two dimensions: the guest's mode from its registers, EPT from EPTP; the generated walkers' WalkNested, or for PAE
    // (whose PDPTE registers would be loaded through EPT) the reference walker, with the generated EPT walker.
    private bool TryTranslateNested(GuestMemory memory, in TranslateRequest request, ref Translation result, out string? error)
    {
        PagingModeInfo? eptMode = TrySelectEptMode(request.Cpu, out error);
        PagingModeInfo? mode = eptMode == null ? null : TrySelectMode(request.Cpu, out error);
        if (eptMode == null || mode == null)
        {
            return false;
        }

        if (!PagingModeFacts.Of(mode).Fits(request.Va))
        {
            error = DoesNotFit(request.Va, mode);
            return false;
        }

        // PAE's PDPTE registers are loaded through EPT here (the reference walker, the SDM's load): --pdptes does not apply.
        var ept = (IEptWalker)Walker(memory, request.Cpu, eptMode, default, out _);
        IGuestPageWalker guest = Walker(memory, request.Cpu, null, new PdpteChoice(PdpteSource.Strict), out _);
        result.Mode = mode;
        result.EptMode = eptMode;
        result.MemorySize = memory.Size;
        result.PdpteIgnoredBits = 0;
        result.Pae = null;
        if (guest is INestedPageWalker generated)
        {
            result.PdpteLoadFaulted = false;
            generated.WalkNested(ref result.Nested, request.Va, request.Access, request.Cpl, request.Ac, ept);
        }
        else
        {
            if (!_nestedWalkers.TryGetValue((memory, request.Cpu), out ReferenceWalker? walker))
            {
                if (_nestedWalkers.Count >= MaxCachedWalkers)
                {
                    _nestedWalkers.Clear();
                }

                walker = CreateNestedReference(memory, request.Cpu, mode, ept);
                _nestedWalkers[(memory, request.Cpu)] = walker;
            }

            result.PdpteLoadFaulted = walker.RegisterLoadFaulted;
            walker.WalkNested(ref result.Nested, request.Va, request.Access, request.Cpl, request.Ac);
        }

        result.Walk = result.Nested.Guest;

        // Back to the image's bytes: the guest's entries where they live (host-physical), then EPT's.
        for (int i = result.Walk.UpdateCount - 1; i >= 0; i--)
        {
            PteUpdate update = result.Walk.Updates[i];
            for (int level = 1; level <= mode.RootLevel; level++)
            {
                if (result.Walk.PteGpa[level - 1] == update.Gpa)
                {
                    memory.WriteEntry(result.Nested.GuestEntryHpa[level - 1], update.Old, mode.EntryBytes);
                    break;
                }
            }
        }

        for (int i = result.Nested.EptUpdateCount - 1; i >= 0; i--)
        {
            memory.WriteEntry(result.Nested.EptUpdates[i].Gpa, result.Nested.EptUpdates[i].Old, 8);
        }

        return true;
    }

    // The reference walker of a PAE guest under EPT loads its PDPTE registers through EPT when it is built, and with EPT
    // A/D flags those loads set accessed flags that no case's record lists. The same EPT walks are made here first and
    // their flags put back once the walker is built, so that the image stays as it is on disk for every case after it.
    private static ReferenceWalker CreateNestedReference(GuestMemory memory, in CpuState cpu, PagingModeInfo mode, IEptWalker ept)
    {
        PagingModeFacts facts = PagingModeFacts.Of(mode);
        int registers = facts.RootRegisters;
        Span<GuestWalk> loads = registers <= 4 ? stackalloc GuestWalk[registers] : new GuestWalk[registers];
        ulong pdpt = cpu.Cr3 & facts.RootMask;
        for (int i = 0; i < registers; i++)
        {
            ept.WalkGpa(ref loads[i], pdpt + (ulong)(i * mode.EntryBytes), AccessKind.Read, EptAccessFlags.GuestPagingStructure);
        }

        ReferenceWalker walker = ReferenceWalker.Nested(memory, cpu, ept);
        for (int i = registers - 1; i >= 0; i--)
        {
            Undo(memory, ref loads[i], 8);
        }

        return walker;
    }

    // The index in _recent of the walker for this memory and state, moved to the front; -1 when none is there.
    private int Recent(GuestMemory memory, in CpuState cpu, PdpteChoice pdptes)
    {
        for (int i = 0; i < _recent.Length; i++)
        {
            ref RecentWalker r = ref _recent[i];
            if (ReferenceEquals(r.Memory, memory) && r.Cpu == cpu && r.Pdptes == pdptes)
            {
                if (i > 0)
                {
                    RecentWalker found = r;
                    Array.Copy(_recent, 0, _recent, 1, i);
                    _recent[0] = found;
                }

                return 0;
            }
        }

        return -1;
    }

    private static string DoesNotFit(ulong va, PagingModeInfo mode) =>
        $"VA {Numbers.Hex(va)} does not fit the {mode.LinearBits}-bit linear addresses of {mode.Name}";

    /// <summary>Puts back the entries a walk changed, last change first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Undo(GuestMemory memory, ref GuestWalk walk, int entryBytes)
    {
        for (int i = walk.UpdateCount - 1; i >= 0; i--)
        {
            PteUpdate update = walk.Updates[i];
            memory.WriteEntry(update.Gpa, update.Old, entryBytes);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Array.Clear(_recent);
        (_lastChecked, _lastCheckedHoles) = (null, null);
        _walkers.Clear();
        foreach ((MemoryDump? dump, string? _) in _images.Values)
        {
            dump?.Dispose();
        }

        _images.Clear();
        _withHoles.Clear();
    }

    private IGuestPageWalker Walker(GuestMemory memory, in CpuState cpu, PagingModeInfo? ept, PdpteChoice pdptes, out ulong ignored)
    {
        // A walker holds state loaded from memory when it is built (PAE's PDPTE registers); memory is back to the
        // image's bytes after every walk, so a cached walker is the one a fresh MOV to CR3 would give.
        var key = (memory, cpu, ept?.Name, pdptes);
        if (!_walkers.TryGetValue(key, out (IGuestPageWalker Walker, ulong Ignored) entry))
        {
            if (_walkers.Count >= MaxCachedWalkers)
            {
                _walkers.Clear();
            }

            entry.Walker = ept != null
                ? PagingModes.CreateWalker(ept.Name, memory, cpu)
                : PdpteRegisters.CreateWalker(memory, cpu, PagingModes.Select(cpu)!, pdptes, out entry.Ignored);
            _walkers[key] = entry;
        }

        ignored = entry.Ignored;
        return entry.Walker;
    }

    private (MemoryDump? Dump, string? Error) Open(string path, string full)
    {
        try
        {
            if (Directory.Exists(full))
            {
                return (null, $"cannot read image '{path}': it is a directory");
            }

            return (MemoryDump.Open(full, _progress), null);
        }
        catch (DumpFormatException e)
        {
            return (null, $"cannot read image '{path}': {CommandLineHost.OneLine(e.Problem)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return (null, $"cannot read image '{path}': {CommandLineHost.OneLine(e.Message)}");
        }
    }

    // A raw image holds every byte from 0 to its end; other formats may leave pages out.
    private static bool HasHoles(MemoryDump dump) =>
        dump.PresentRanges.Count != 1 || dump.PresentRanges[0].Start != 0 || dump.PresentRanges[0].Length != dump.Memory.Size;
}

/// <summary>A guest walker a <see cref="WalkSession"/> used lately, and what it was made for.</summary>
internal readonly record struct RecentWalker(GuestMemory? Memory, CpuState Cpu, PdpteChoice Pdptes, IGuestPageWalker? Walker, PagingModeFacts? Facts, ulong Ignored);
