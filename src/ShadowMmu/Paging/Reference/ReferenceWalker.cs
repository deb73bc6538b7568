using System;
using System.Text;
using ShadowMmu.Specs;

namespace ShadowMmu;

/// <summary>
/// A guest page walker that interprets a paging spec at run time, one loop iteration per level. It is the
/// differential oracle for the generated walkers and the baseline their speed is measured against, so it is
/// written from the spec language and the Intel SDM alone, favouring plain code over fast code.
/// </summary>
public sealed partial class ReferenceWalker : IEptWalker
{
    private readonly PagingSpec _spec;
    private readonly CpuState _cpu;
    private readonly ReferenceEntryRules _rules;

    // CR3 masked to the spec's root range: the root table (PAE: the PDPT the registers were loaded from).
    private readonly ulong _root;

    // The values of a register level's entries (PAE's PDPTE registers) as loaded with CR3; empty without one.
    private readonly ulong[] _registers;

    // A register level is a few registers (PAE: 4); this bounds the array that holds them.
    private const int MaxRegisterIndexBits = 9;

    // The first level read from guest memory by each walk: the root, or the level under the register level.
    private readonly int _firstMemoryLevel;

    // A nested walker's EPT: the guest's guest-physical addresses are translated through it (see WalkNested).
    private readonly IEptWalker? _ept;

    // A nested PAE walker whose PDPTE register load exited through EPT: the exit every walk reports.
    private GuestWalk? _registerLoadExit;

    /// <summary>A walker for the mode <paramref name="specText"/> describes, over <paramref name="memory"/> in <paramref name="cpu"/>'s state.</summary>
    /// <param name="specText">A paging spec in the language of docs/spec-language.md.</param>
    /// <param name="memory">Guest physical memory the walk reads and sets A/D flags in.</param>
    /// <param name="cpu">Control registers, EFER, PKRU, MAXPHYADDR and features; a register level is loaded from CR3 now.</param>
    /// <exception cref="ArgumentException">The spec is invalid; the message lists its diagnostics.</exception>
    public ReferenceWalker(string specText, GuestMemory memory, in CpuState cpu)
        : this(specText, "(reference)", memory, cpu)
    {
    }

    private ReferenceWalker(string specText, string specFile, GuestMemory memory, in CpuState cpu, IEptWalker? ept = null)
    {
        _ept = ept;
        ArgumentNullException.ThrowIfNull(specText);
        ArgumentNullException.ThrowIfNull(memory);
        _spec = Parse(specText, specFile);
        _cpu = cpu;
        _rules = new ReferenceEntryRules(_spec, cpu);
        Memory = memory;
        Mode = new PagingModeInfo(_spec.Mode, _spec.Title, _spec.RootLevel, _spec.EntryBytes, _spec.LinearBits, specFile, specText,
            _spec.IsEpt ? PagingFormat.Ept : PagingFormat.X86);
        _root = (_spec.IsEpt ? cpu.Eptp : cpu.Cr3) & _spec.Root.Mask;

        LevelSpec rootLevel = _spec.GetLevel(_spec.RootLevel);
        if (rootLevel.Register)
        {
            _firstMemoryLevel = _spec.RootLevel - 1;
            _registers = LoadRegisters(rootLevel, out bool faulted);
            RegisterLoadFaulted = faulted;
        }
        else
        {
            _firstMemoryLevel = _spec.RootLevel;
            _registers = Array.Empty<ulong>();
        }
    }

    /// <summary>A walker for the built-in (or any) mode <paramref name="mode"/>, interpreting its <see cref="PagingModeInfo.SpecText"/>.</summary>
    /// <exception cref="ArgumentException">The mode's spec is invalid.</exception>
    public static ReferenceWalker For(PagingModeInfo mode, GuestMemory memory, in CpuState cpu)
    {
        ArgumentNullException.ThrowIfNull(mode);
        return new ReferenceWalker(mode.SpecText, mode.SpecFile, memory, cpu);
    }

    /// <summary>The mode, as its spec states it.</summary>
    public PagingModeInfo Mode { get; }

    /// <summary>The guest memory walked.</summary>
    public GuestMemory Memory { get; }

    /// <summary>
    /// True when loading the register level (PAE's PDPTEs) at construction found a present entry with a reserved
    /// bit set: the MOV to CR3 would have raised #GP(0), so every walk reports #GP.
    /// </summary>
    public bool RegisterLoadFaulted { get; }

    private static PagingSpec Parse(string specText, string specFile)
    {
        SpecParseResult result = SpecParser.Parse(specFile, specText);
        if (result.Spec != null && result.Diagnostics.Count == 0)
        {
            PagingSpec spec = result.Spec;
            CheckRegisterLevels(spec);
            return spec;
        }

        var message = new StringBuilder("Invalid paging spec '" + specFile + "':");
        foreach (SpecDiagnostic diagnostic in result.Diagnostics)
        {
            message.Append('\n')
                .Append('(').Append(diagnostic.Line + 1).Append(',').Append(diagnostic.StartColumn + 1).Append("): ")
                .Append(diagnostic.Id).Append(": ")
                .Append(diagnostic.Format(SpecDiagnosticIds.MessageFormat(diagnostic.Id)));
        }

        throw new ArgumentException(message.ToString(), nameof(specText));
    }

    // Registers are loaded from the table CR3 names, so only the root level can be one, and it is a handful of
    // registers, not a table. The parser checks neither, and a spec that breaks them has no meaning to interpret.
    private static void CheckRegisterLevels(PagingSpec spec)
    {
        foreach (LevelSpec level in spec.Levels)
        {
            if (!level.Register)
            {
                continue;
            }

            if (level.Level != spec.RootLevel)
            {
                throw new ArgumentException(
                    "Invalid paging spec '" + spec.FileName + "': level " + level.Level + " is a register level, but only the root level ("
                    + spec.RootLevel + ") can be loaded from CR3.", "specText");
            }

            if (level.Index.Width > MaxRegisterIndexBits)
            {
                throw new ArgumentException(
                    "Invalid paging spec '" + spec.FileName + "': register level " + level.Level + " has " + level.Index.Width
                    + " index bits; at most " + MaxRegisterIndexBits + " (" + (1 << MaxRegisterIndexBits) + " registers) are modelled.", "specText");
            }
        }
    }

    // SDM "PDPTE Registers": every entry is loaded; a present one with a reserved bit (the level's reserved rules
    // for a table entry, plus address bits at or above MAXPHYADDR) makes the load #GP(0). Entries outside guest
    // memory load as 0 (not present): the model has no bus error to report.
    private ulong[] LoadRegisters(LevelSpec level, out bool faulted)
    {
        faulted = false;
        var registers = new ulong[1 << level.Index.Width];
        ulong reserved = _rules.ReservedBits(level, isPage: false);
        for (int i = 0; i < registers.Length; i++)
        {
            ulong gpa = _root + ((ulong)i * (ulong)_spec.EntryBytes);
            if (!TryTranslateRegisterLoad(gpa, out ulong address) || !TryReadEntry(address, out ulong entry))
            {
                entry = 0;
            }

            registers[i] = entry;
            if (_rules.IsPresent(entry) && (entry & reserved) != 0)
            {
                faulted = true;
            }
        }

        return registers;
    }

    private bool TryReadEntry(ulong gpa, out ulong entry)
    {
        if (_spec.EntryBytes == 4)
        {
            bool ok = Memory.TryReadUInt32(gpa, out uint narrow);
            entry = narrow;
            return ok;
        }

        return Memory.TryReadUInt64(gpa, out entry);
    }
}
