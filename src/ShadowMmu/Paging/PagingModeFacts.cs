using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using ShadowMmu.Specs;

namespace ShadowMmu;

/// <summary>
/// What a paging mode's spec says beyond <see cref="PagingModeInfo"/>, read from the spec itself (parsed once by the
/// same parser the generator uses) so that nothing here is written a second time: the entry name of each level, where
/// the accessed and dirty flags are, whether linear addresses are canonical, and the registers that select the mode.
/// </summary>
public sealed class PagingModeFacts
{
    // By reference: a mode's record compares its whole spec text, and a batch of translations asks once per case.
    private static readonly ConcurrentDictionary<PagingModeInfo, PagingModeFacts> Cache = new(ReferenceEqualityComparer.Instance);

    private readonly PagingSpec _spec;

    private PagingModeFacts(PagingModeInfo mode)
    {
        Mode = mode;
        SpecParseResult parsed = SpecParser.Parse(mode.SpecFile, mode.SpecText);
        _spec = parsed.Spec ?? throw new ArgumentException($"The spec of mode '{mode.Name}' is invalid.", nameof(mode));
    }

    /// <summary>The mode.</summary>
    public PagingModeInfo Mode { get; }

    /// <summary>
    /// True when a linear address is a 64-bit value that must be canonical (IA-32e modes: a non-canonical one is a
    /// #GP, not an error); false when it is <see cref="PagingModeInfo.LinearBits"/> wide.
    /// </summary>
    public bool Canonical => _spec.Canonical;

    /// <summary>The accessed flag of an entry (x86: bit 5; EPT: bit 8), or 0 when the format has none.</summary>
    public ulong AccessedFlag => _spec.Accessed is { } bit ? 1UL << bit.Bit : 0;

    /// <summary>The dirty flag of an entry (x86: bit 6; EPT: bit 9), or 0 when the format has none.</summary>
    public ulong DirtyFlag => _spec.Dirty is { } bit ? 1UL << bit.Bit : 0;

    /// <summary>The bits of CR3 (or EPTP) that hold the root table's address (long4: 51:12; PAE: 31:5).</summary>
    public ulong RootMask => _spec.Root.Mask;

    /// <summary>
    /// How many entries of the root table a processor loads into registers when CR3 is loaded (PAE: the 4 PDPTEs), or 0
    /// when every walk reads the root table from memory.
    /// </summary>
    public int RootRegisters => _spec.GetLevel(_spec.RootLevel) is { Register: true } level ? 1 << level.Index.Width : 0;

    /// <summary>
    /// The reserved bits of a root register below bit 12, where an address bit never lies (PAE: bits 2:1 and 8:5): a
    /// present register with one set would make the CR3 load #GP. 0 without root registers.
    /// </summary>
    public ulong RootRegisterFlagsReserved
    {
        get
        {
            LevelSpec root = _spec.GetLevel(_spec.RootLevel);
            ulong mask = 0;
            if (root.Register)
            {
                foreach (ReservedRule rule in root.Reserved)
                {
                    mask |= rule.When == null ? rule.Bits.Mask & 0xFFF : 0;
                }
            }

            return mask;
        }
    }

    /// <summary>The facts of <paramref name="mode"/> (parsed once per mode).</summary>
    /// <exception cref="ArgumentException">The mode's spec is invalid.</exception>
    public static PagingModeFacts Of(PagingModeInfo mode)
    {
        ArgumentNullException.ThrowIfNull(mode);
        return Cache.GetOrAdd(mode, static m => new PagingModeFacts(m));
    }

    /// <summary>The entry name the spec gives <paramref name="level"/> (<c>PTE</c>, <c>PML4E</c>), or <c>level N</c>.</summary>
    public string LevelName(int level) =>
        level >= 1 && level <= _spec.RootLevel
            ? _spec.GetLevel(level).EntryName
            : "level " + level.ToString(CultureInfo.InvariantCulture);

    /// <summary>Bytes of linear addresses one entry of <paramref name="level"/> covers (long4: 4 KiB at level 1, 512 GiB at level 4).</summary>
    public ulong EntryCoverage(int level) => 1UL << _spec.GetLevel(level).Index.Lo;

    /// <summary>Whether <paramref name="va"/> is a linear address of this mode (it may still be non-canonical).</summary>
    public bool Fits(ulong va) => Canonical || Mode.LinearBits >= 64 || (va >> Mode.LinearBits) == 0;

    /// <summary>
    /// A processor state that selects this mode with its root table at <paramref name="root"/>: the bits the spec's
    /// <c>selected-when</c> names (with CR0.PE under CR0.PG and EFER.LMA under EFER.LME, as a processor has them), CR0.WP,
    /// and the features the spec's entries depend on switched on (EFER.NXE for an execute-disable bit, CR4.PSE for
    /// large pages of 32-bit paging). For an EPT mode: an EPTP of this page-walk length, with A/D flags enabled when
    /// the spec has them.
    /// </summary>
    public CpuState SelectingState(ulong root)
    {
        if (_spec.IsEpt)
        {
            bool accessedDirty = _spec.Accessed is { When: { Name: "EPTP.AD", Negated: false } };
            return new CpuState(0, 0, 0, 0, Eptp: EptPointer.Make(root, Mode.RootLevel, accessedDirty));
        }

        ulong cr0 = ShadowMmu.Cr0.WP, cr4 = 0, efer = 0;
        foreach (SpecCondition condition in _spec.SelectedWhen)
        {
            if (!condition.Negated)
            {
                Switch(condition.Name, ref cr0, ref cr4, ref efer);
            }
        }

        if (_spec.ExecuteDisable is { When: { Negated: false } nx })
        {
            Switch(nx.Name, ref cr0, ref cr4, ref efer);
        }

        foreach (LevelSpec level in _spec.Levels)
        {
            if (level.Page is { When: { Negated: false, Name: "CR4.PSE" } pse })
            {
                Switch(pse.Name, ref cr0, ref cr4, ref efer);
            }
        }

        return new CpuState(cr0, root, cr4, efer);
    }

    // The register bits a spec condition names, as software sets them (CR0.PG with CR0.PE; EFER.LME with LMA, which the
    // processor sets when paging is turned on with LME).
    private static void Switch(string condition, ref ulong cr0, ref ulong cr4, ref ulong efer)
    {
        switch (condition)
        {
            case "CR0.PG": cr0 |= ShadowMmu.Cr0.PG | ShadowMmu.Cr0.PE; break;
            case "CR0.WP": cr0 |= ShadowMmu.Cr0.WP; break;
            case "CR4.PSE": cr4 |= ShadowMmu.Cr4.PSE; break;
            case "CR4.PAE": cr4 |= ShadowMmu.Cr4.PAE; break;
            case "CR4.LA57": cr4 |= ShadowMmu.Cr4.LA57; break;
            case "EFER.LME": efer |= ShadowMmu.Efer.LME | ShadowMmu.Efer.LMA; break;
            case "EFER.NXE": efer |= ShadowMmu.Efer.NXE; break;
            default: throw new ArgumentException($"The condition '{condition}' does not name a register bit that selects a mode.", nameof(condition));
        }
    }
}
