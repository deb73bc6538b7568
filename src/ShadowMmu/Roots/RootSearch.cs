using System.Collections.Generic;

namespace ShadowMmu.Roots;

/// <summary>What <see cref="RootFinder.Find"/> found in a dump.</summary>
public sealed class RootSearch
{
    internal RootSearch(IReadOnlyList<RootCandidate> candidates, IReadOnlyList<PagingModeInfo> modes, IReadOnlyList<string> modeEvidence,
        long pagesScanned, int sightings, long tablesRead)
    {
        Candidates = candidates;
        ModesSearched = modes;
        ModeEvidence = modeEvidence;
        PagesScanned = pagesScanned;
        Sightings = sightings;
        TablesRead = tablesRead;
    }

    /// <summary>The candidates, best first (see <see cref="RootFinder"/> for the order).</summary>
    public IReadOnlyList<RootCandidate> Candidates { get; }

    /// <summary>The first candidate, or null when none was found.</summary>
    public RootCandidate? Best => Candidates.Count > 0 ? Candidates[0] : null;

    /// <summary>The paging modes searched: the ones the dump names, or all four x86 modes when it names none.</summary>
    public IReadOnlyList<PagingModeInfo> ModesSearched { get; }

    /// <summary>What the dump says about its paging mode (e.g. "VMCOREINFO NUMBER(pgtable_l5_enabled)=1"); empty for raw and LiME dumps.</summary>
    public IReadOnlyList<string> ModeEvidence { get; }

    /// <summary>Pages of the dump scanned.</summary>
    public long PagesScanned { get; }

    /// <summary>Pages (and PAE 32-byte slots) shaped like a root table, before their tables were read.</summary>
    public int Sightings { get; }

    /// <summary>Distinct tables read while probing (per mode).</summary>
    public long TablesRead { get; }

    /// <summary>The candidates at or above <paramref name="confidence"/>.</summary>
    public IEnumerable<RootCandidate> AtLeast(RootConfidence confidence)
    {
        foreach (RootCandidate candidate in Candidates)
        {
            if (candidate.Confidence >= confidence)
            {
                yield return candidate;
            }
        }
    }
}
