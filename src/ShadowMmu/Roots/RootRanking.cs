using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ShadowMmu.Roots;

/// <summary>A root on its way to becoming a candidate: what the walk found, what the dump said, the kernel half's key.</summary>
internal sealed class RootDraft
{
    public RootDraft(ulong root, TableFormat format, RootWalk walk)
    {
        Root = root;
        Format = format;
        Walk = walk;
    }

    public ulong Root { get; }

    public TableFormat Format { get; }

    public RootWalk Walk { get; }

    public List<NamedRoot> Named { get; } = new();

    /// <summary>Why this mode, when the tables' shape chose it between 4 and 5 levels.</summary>
    public string? ModeFromShape { get; set; }

    public ulong KernelKey { get; set; }

    public int SharedWith { get; set; }

    public RootDraft? PtiPartner { get; set; }

    public bool IsPtiUser { get; set; }

    public int Score { get; set; }

    public RootConfidence Confidence { get; set; }

    /// <summary>Well-formed tables that map something, most of it in the dump.</summary>
    public bool Plausible => IsPlausible(Walk);

    public static bool IsPlausible(in RootWalk walk) =>
        walk.Clean && walk.Below.Pages > 0 && walk.Below.PagesOutside * 2 <= walk.Below.Pages;
}

/// <summary>Turns walks into ranked candidates: one mode per root, inner tables out, kernel halves grouped, PTI pairs, scores.</summary>
internal static class RootRanking
{
    private const ulong ExecuteDisable = 1UL << 63;

    /// <summary>The fewest pages a root must map for a shared upper half to count as a kernel's.</summary>
    private const long KernelSizedPages = 64;

    /// <summary>
    /// The drafts: every root the dump names (whatever its walk found) and every sighting whose walk is plausible, in
    /// the mode the dump names or, for 8-byte tables when it names none, the deepest that reads well (see
    /// <see cref="RootFinder"/>).
    /// </summary>
    public static List<RootDraft> Drafts(HeldMemory held, List<RootSighting> sightings, List<NamedRoot> named,
        Dictionary<TableFormat, Dictionary<ulong, RootWalk>> walks, bool modeFromShape)
    {
        var byRoot = new Dictionary<ulong, RootDraft>();
        foreach (NamedRoot root in named)
        {
            if (!byRoot.TryGetValue(root.Root, out RootDraft? draft))
            {
                draft = new RootDraft(root.Root, root.Format, walks[root.Format][root.Root]);
                byRoot[root.Root] = draft;
            }

            if (draft.Format == root.Format)
            {
                draft.Named.Add(root);
            }
        }

        foreach (RootSighting sighting in sightings)
        {
            if (byRoot.ContainsKey(sighting.Address))
            {
                continue;
            }

            RootDraft? draft = sighting.Shape switch
            {
                RootShape.Wide => Wide(walks, sighting.Address, modeFromShape),
                RootShape.Narrow => Single(walks, TableFormat.Legacy32, sighting.Address),
                _ => Single(walks, TableFormat.Pae, sighting.Address),
            };
            if (draft != null)
            {
                byRoot[sighting.Address] = draft;
            }
        }

        return byRoot.Values.ToList();
    }

    /// <summary>Scores, groups and orders the drafts.</summary>
    public static IReadOnlyList<RootCandidate> Rank(HeldMemory held, List<RootDraft> drafts)
    {
        GroupKernelHalves(held, drafts);
        PairPti(held, drafts);
        foreach (RootDraft draft in drafts)
        {
            Score(draft);
        }

        RemoveInnerTables(held, drafts);
        var kept = new HashSet<RootDraft>(drafts);
        foreach (RootDraft draft in drafts)
        {
            if (draft.PtiPartner != null && !kept.Contains(draft.PtiPartner))
            {
                draft.PtiPartner = null;
                draft.IsPtiUser = false;
            }
        }

        var ordered = drafts
            .OrderByDescending(d => d.Confidence)
            .ThenByDescending(d => d.Score)
            .ThenByDescending(d => d.Walk.Below.Pages)
            .ThenBy(d => d.Root)
            .ToList();

        // The user table of a PTI pair right after its kernel table: the two are one address space.
        var placed = new List<RootDraft>(ordered.Count);
        var done = new HashSet<RootDraft>();
        foreach (RootDraft draft in ordered)
        {
            RootDraft kernel = draft.IsPtiUser ? draft.PtiPartner! : draft;
            if (done.Add(kernel))
            {
                placed.Add(kernel);
            }

            if (kernel.PtiPartner is { } user && done.Add(user))
            {
                placed.Add(user);
            }
        }

        return placed.Select(Candidate).ToArray();
    }

    private static RootDraft? Wide(Dictionary<TableFormat, Dictionary<ulong, RootWalk>> walks, ulong root, bool modeFromShape)
    {
        RootWalk five = default, four = default;
        bool searched5 = walks.TryGetValue(TableFormat.Long5, out var walks5) && walks5.TryGetValue(root, out five);
        bool searched4 = walks.TryGetValue(TableFormat.Long4, out var walks4) && walks4.TryGetValue(root, out four);
        if (searched5 && RootDraft.IsPlausible(five))
        {
            return new RootDraft(root, TableFormat.Long5, five)
            {
                ModeFromShape = modeFromShape && searched4 ? "5-level: its tables are well formed 5 levels deep" : null,
            };
        }

        if (searched4 && RootDraft.IsPlausible(four))
        {
            long malformed = five.BadEntries + five.Below.BadTables;
            string? why = !modeFromShape || !searched5 ? null
                : malformed > 0 ? $"4-level: read as 5-level, {Count(malformed, "table")} would be malformed"
                : five.Below.Pages == 0 ? "4-level: read as 5-level, it would map nothing"
                : "4-level: read as 5-level, most of what it maps would lie outside the dump";
            return new RootDraft(root, TableFormat.Long4, four) { ModeFromShape = why };
        }

        return null;
    }

    private static RootDraft? Single(Dictionary<TableFormat, Dictionary<ulong, RootWalk>> walks, TableFormat format, ulong root) =>
        walks.TryGetValue(format, out var found) && found.TryGetValue(root, out RootWalk walk) && RootDraft.IsPlausible(walk)
            ? new RootDraft(root, format, walk)
            : null;

    // A table that a better-scored root of the same entry size references is one of its inner tables (a PML5's PML4s
    // read as PML4s, a page directory's page tables read as directories), not a root: drop it unless the dump names it.
    // Only a better root may drop one: a page table read as a directory references every frame of the memory it maps.
    private static void RemoveInnerTables(HeldMemory held, List<RootDraft> drafts)
    {
        var children = new Dictionary<ulong, int>();
        foreach (RootDraft draft in drafts)
        {
            if (!draft.Plausible || draft.Format.RootBytes == 32)
            {
                continue;
            }

            LevelFormat top = draft.Format.Level(draft.Format.RootLevel);
            for (int i = 0; i < top.Entries; i++)
            {
                ulong entry = Entry(held, draft.Format, draft.Root, i);
                ulong table = entry & top.TableMask;
                ulong key = table | (uint)draft.Format.EntryBytes;
                if ((entry & draft.Format.PresentBit) != 0 && !top.MapsPage(entry) && table != draft.Root)
                {
                    children[key] = Math.Max(children.GetValueOrDefault(key), draft.Score);
                }
            }
        }

        drafts.RemoveAll(d => d.Named.Count == 0 && d.Format.RootBytes != 32
            && children.TryGetValue(d.Root | (uint)d.Format.EntryBytes, out int parentScore) && parentScore > d.Score);
    }

    // Linux copies the kernel's upper entries into every process's top table (and Windows its kernel half), so the
    // address spaces of one kernel share that part, accessed and dirty flags aside (the CPU sets them per table).
    private static void GroupKernelHalves(HeldMemory held, List<RootDraft> drafts)
    {
        var sizes = new Dictionary<(TableFormat, ulong), int>();
        foreach (RootDraft draft in drafts)
        {
            draft.KernelKey = KernelKey(held, draft);
            if (draft.Plausible && draft.KernelKey != 0)
            {
                sizes[(draft.Format, draft.KernelKey)] = sizes.GetValueOrDefault((draft.Format, draft.KernelKey)) + 1;
            }
        }

        foreach (RootDraft draft in drafts)
        {
            draft.SharedWith = draft.Plausible && draft.KernelKey != 0 ? sizes[(draft.Format, draft.KernelKey)] - 1 : 0;
        }
    }

    private static ulong KernelKey(HeldMemory held, RootDraft draft)
    {
        if (!draft.Walk.Held)
        {
            return 0;
        }

        TableFormat format = draft.Format;
        int entries = format.Level(format.RootLevel).Entries;
        int first = format.RootBytes == 32 ? 3 : format.EntryBytes == 4 ? entries * 3 / 4 : entries / 2;
        ulong rootFrame = draft.Root & ~0xFFFUL, tableMask = format.Level(format.RootLevel).TableMask;
        ulong hash = 14695981039346656037UL;
        bool any = false;
        for (int i = first; i < entries; i++)
        {
            ulong entry = Entry(held, format, draft.Root, i) & ~format.AccessedAndDirty;
            if ((entry & format.PresentBit) == 0 || (entry & tableMask) == rootFrame)
            {
                continue;
            }

            any = true;
            hash = (hash ^ (uint)i) * 1099511628211UL;
            hash = (hash ^ entry) * 1099511628211UL;
        }

        return any ? hash | 1 : 0;
    }

    // Linux's page-table isolation allocates each top table as 8 KiB: the kernel's table, and 4 KiB above it the user's,
    // whose user half is the kernel table's (which sets NX in its copy of user entries) and whose kernel half is its own.
    private static void PairPti(HeldMemory held, List<RootDraft> drafts)
    {
        var wide = drafts.Where(d => d.Plausible && d.Format.RootBytes == 4096 && d.Format.EntryBytes == 8).ToDictionary(d => d.Root);
        foreach (RootDraft kernel in wide.Values)
        {
            if ((kernel.Root & 0x1FFF) != 0 || !wide.TryGetValue(kernel.Root + 0x1000, out RootDraft? user)
                || user.Format != kernel.Format || user.KernelKey == kernel.KernelKey)
            {
                continue;
            }

            ulong ignore = ExecuteDisable | kernel.Format.AccessedAndDirty;
            bool same = true;
            for (int i = 0; i < 256 && same; i++)
            {
                same = (Entry(held, kernel.Format, kernel.Root, i) & ~ignore) == (Entry(held, kernel.Format, user.Root, i) & ~ignore);
            }

            if (same)
            {
                kernel.PtiPartner = user;
                user.PtiPartner = kernel;
                user.IsPtiUser = true;
            }
        }
    }

    private static void Score(RootDraft draft)
    {
        RootWalk walk = draft.Walk;
        int score = 0;
        if (draft.Plausible)
        {
            score = 40;
            // A kernel half maps hundreds of pages at least: two scraps that happen to agree are no kernel.
            bool kernelSized = walk.Below.Pages >= KernelSizedPages;
            score += draft.SharedWith >= 1 && kernelSized ? 25 : 0;
            score += draft.SharedWith >= 2 && kernelSized ? 5 : 0;
            score += walk.SelfReferences > 0 ? 20 : 0;
            score += draft.PtiPartner != null ? 5 : 0;
            score += (int)Math.Clamp(Math.Round(4 * Math.Log10(walk.Below.Pages)), 0, 20);
            // Kernels keep some emptied page tables (Linux never frees vmalloc's); a root whose tables are mostly empty
            // is more likely data that happens to look like one.
            score -= (int)Math.Min(20, Math.Round(40.0 * Math.Max(0, EmptyShare(walk) - 0.25)));
            // An alias is what boot-time tables have (and, on Linux, the trampoline CPUs start through): rank the
            // address spaces in use above them.
            score -= walk.Alias.First >= 0 ? 6 : 0;
            // A process's address space (user pages and the kernel's half) before the kernel's own tables.
            score += walk.Below.UserPages > 0 ? 4 : 0;
            score = Math.Clamp(score, 1, 94);
        }

        bool named = draft.Named.Count > 0;
        if (named && draft.Plausible)
        {
            bool vmcoreinfo = draft.Named.Exists(n => n.Evidence.Kind == RootEvidenceKind.Vmcoreinfo);
            score = vmcoreinfo ? 100 : 95;
        }

        draft.Score = score;
        draft.Confidence = named && draft.Plausible ? RootConfidence.Certain
            : score >= 75 ? RootConfidence.High
            : score >= 55 ? RootConfidence.Medium
            : RootConfidence.Low;
    }

    private static RootCandidate Candidate(RootDraft draft)
    {
        var candidate = new RootCandidate(draft.Root, draft.Format.Mode)
        {
            Confidence = draft.Confidence,
            Score = draft.Score,
            PagesMapped = draft.Walk.Below.Pages,
            UserPagesMapped = draft.Walk.Below.UserPages,
            BytesMapped = draft.Walk.Below.Bytes,
            Tables = draft.Walk.Tables,
            MalformedTables = draft.Walk.BadEntries + draft.Walk.Below.BadTables,
            SharesKernelHalfWith = draft.SharedWith,
            PtiPartner = draft.PtiPartner?.Root,
            IsPtiUserTable = draft.IsPtiUser,
            FromVmcoreinfo = draft.Named.Exists(n => n.Evidence.Kind == RootEvidenceKind.Vmcoreinfo),
        };

        List<RootEvidence> evidence = candidate.EvidenceList;
        foreach (NamedRoot root in draft.Named.Where(n => n.Evidence.Kind == RootEvidenceKind.Vmcoreinfo))
        {
            evidence.Add(root.Evidence);
        }

        var cpus = draft.Named.Where(n => n.Cpu != null).Select(n => n.Cpu!.Value).Distinct().OrderBy(c => c).ToList();
        candidate.CpuList.AddRange(cpus);
        if (cpus.Count > 0)
        {
            evidence.Add(new RootEvidence(RootEvidenceKind.CpuRegister, cpus.Count == 1
                ? $"CPU {cpus[0].ToString(CultureInfo.InvariantCulture)}'s CR3"
                : $"CR3 of CPUs {string.Join(", ", cpus.Select(c => c.ToString(CultureInfo.InvariantCulture)))}"));
        }

        if (draft.SharedWith > 0)
        {
            evidence.Add(new RootEvidence(RootEvidenceKind.SharedKernelHalf, $"kernel half shared with {Count(draft.SharedWith, "other table")}"));
        }

        if (draft.Walk.SelfReferences > 0)
        {
            evidence.Add(new RootEvidence(RootEvidenceKind.SelfReference, $"self-referencing entry {draft.Walk.SelfReferenceIndex.ToString(CultureInfo.InvariantCulture)} (0x{draft.Walk.SelfReferenceIndex:x})"));
        }

        if (draft.PtiPartner is { } partner)
        {
            evidence.Add(new RootEvidence(RootEvidenceKind.PtiPair, draft.IsPtiUser
                ? $"PTI user table of 0x{partner.Root:x}"
                : $"PTI kernel table (user table 0x{partner.Root:x})"));
        }

        RootWalk walk = draft.Walk;
        if (!walk.Held)
        {
            evidence.Add(new RootEvidence(RootEvidenceKind.Doubt, "the dump does not hold this table"));
            return candidate;
        }

        string user = walk.Below.UserPages > 0 ? $" ({walk.Below.UserPages.ToString("N0", CultureInfo.InvariantCulture)} user)" : string.Empty;
        evidence.Add(new RootEvidence(RootEvidenceKind.Walk, $"{Count(walk.Below.Pages, "page")}{user} mapped in {Count(walk.Tables, "table")}"));
        if (draft.ModeFromShape != null)
        {
            evidence.Add(new RootEvidence(RootEvidenceKind.Mode, draft.ModeFromShape));
        }

        long malformed = walk.BadEntries + walk.Below.BadTables;
        if (malformed > 0)
        {
            evidence.Add(new RootEvidence(RootEvidenceKind.Doubt, $"{Count(malformed, "malformed table")} (reserved bits set, or tables outside the dump)"));
        }

        if (walk.StrayEntries > 0)
        {
            evidence.Add(new RootEvidence(RootEvidenceKind.Doubt, $"{Count(walk.StrayEntries, "entry", "entries")} not present but not clear"));
        }

        if (walk.Alias.First >= 0)
        {
            evidence.Add(new RootEvidence(RootEvidenceKind.Doubt, $"entries {walk.Alias.First.ToString(CultureInfo.InvariantCulture)} and {walk.Alias.Second.ToString(CultureInfo.InvariantCulture)} reference the same table, as boot-time tables do"));
        }

        if (EmptyShare(walk) > 0.25)
        {
            evidence.Add(new RootEvidence(RootEvidenceKind.Doubt, $"{walk.Below.EmptyTables.ToString("N0", CultureInfo.InvariantCulture)} of {Count(walk.Tables, "table")} empty"));
        }

        if (walk.Below.Pages > 0 && walk.Below.PagesOutside * 2 > walk.Below.Pages)
        {
            evidence.Add(new RootEvidence(RootEvidenceKind.Doubt, "most pages it maps lie outside the dump"));
        }
        else if (walk.Below.Pages == 0)
        {
            evidence.Add(new RootEvidence(RootEvidenceKind.Doubt, "maps nothing"));
        }

        return candidate;
    }

    private static double EmptyShare(in RootWalk walk) => (double)walk.Below.EmptyTables / Math.Max(1, walk.Tables);

    private static ulong Entry(HeldMemory held, TableFormat format, ulong table, int index) => format.EntryBytes == 8
        ? held.Words(table + (ulong)(index * 8), 1)[0]
        : held.Dwords(table + (ulong)(index * 4), 1)[0];

    internal static string Count(long n, string one, string? many = null) =>
        n.ToString("N0", CultureInfo.InvariantCulture) + " " + (n == 1 ? one : many ?? one + "s");
}
