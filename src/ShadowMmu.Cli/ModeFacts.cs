using System;
using System.Collections.Generic;
using System.Globalization;

namespace ShadowMmu.Cli;

/// <summary>
/// What the tool tells people about a paging mode beyond <see cref="PagingModeInfo"/>, read from the mode's own spec:
/// the entry name of each level (<c>PML4E</c>) and whether linear addresses are canonical 64-bit values.
/// </summary>
internal sealed class ModeFacts
{
    private static readonly Dictionary<string, ModeFacts> ByName = Build();

    private readonly string[] _levelNames;

    private ModeFacts(PagingModeInfo mode)
    {
        Mode = mode;
        _levelNames = new string[mode.RootLevel + 1];
        foreach (string raw in mode.SpecText.Split('\n'))
        {
            string[] words = raw.Trim().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length >= 3 && words[0] == "level" && int.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out int level)
                && level >= 1 && level <= mode.RootLevel)
            {
                _levelNames[level] = words[2];
            }
            else if (words.Length >= 2 && words[0] == "linear-bits")
            {
                Canonical = Array.IndexOf(words, "canonical") >= 2;
            }
        }
    }

    /// <summary>The mode.</summary>
    public PagingModeInfo Mode { get; }

    /// <summary>
    /// True when a linear address is a 64-bit value that must be canonical (IA-32e modes: a non-canonical one is a
    /// #GP, not an error); false when it is <see cref="PagingModeInfo.LinearBits"/> wide (32-bit and PAE paging).
    /// </summary>
    public bool Canonical { get; }

    /// <summary>The facts of <paramref name="mode"/>.</summary>
    public static ModeFacts Of(PagingModeInfo mode) => ByName.TryGetValue(mode.Name, out ModeFacts? facts) ? facts : new ModeFacts(mode);

    /// <summary>The entry name at <paramref name="level"/> (<c>PTE</c>), or <c>level N</c>.</summary>
    public string LevelName(int level) =>
        level >= 1 && level < _levelNames.Length && _levelNames[level] != null ? _levelNames[level] : "level " + level.ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether <paramref name="va"/> is a linear address of this mode (it may still be non-canonical).</summary>
    public bool Fits(ulong va) => Canonical || Mode.LinearBits >= 64 || (va >> Mode.LinearBits) == 0;

    private static Dictionary<string, ModeFacts> Build()
    {
        var facts = new Dictionary<string, ModeFacts>(StringComparer.Ordinal);
        foreach (PagingModeInfo mode in PagingModes.All)
        {
            facts[mode.Name] = new ModeFacts(mode);
        }

        return facts;
    }
}
