using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ShadowMmu.Dumps;

namespace ShadowMmu.Roots;

/// <summary>
/// Finds the address spaces in a memory dump: the top-level paging structures (what CR3 would hold), the paging mode
/// each implies, how sure it is and why, best first. A raw or LiME dump carries no registers and a user rarely has
/// them; this is what Volatility3's and MemProcFS's page-table scans do, for every x86 mode and any operating system,
/// with the dump's own word first where it has one.
/// <para>
/// In order: (1) what the dump names: the kernel's root from VMCOREINFO (x86-64: SYMBOL(init_top_pgt) −
/// __START_KERNEL_map + NUMBER(phys_base); i386: SYMBOL(swapper_pg_dir) − PAGE_OFFSET) and each CPU note's CR3, and
/// the paging mode they and VMCOREINFO imply (NUMBER(pgtable_l5_enabled), CONFIG_X86_PAE, CR4.LA57); only those modes
/// are searched then, all four when the dump names none. (2) A scan of every page the dump holds for root-shaped
/// tables, on every core, without allocating: every entry clear or present, well formed and referencing a table in
/// the dump; the kernel part present and the user half not all present; PAE PDPTs at every 32-byte boundary.
/// (3) A walk of every table below each sighting (tables shared between roots are read once): a root is kept when
/// every table it reaches is well formed, it maps at least one page, and most of those lie in the dump. A page that is
/// well formed as a PML5 is read as one (a PML4's 2 MiB pages, read one level higher, have reserved bits set; a PML5
/// read as a PML4 stops a level short but looks sound); a table that a better-scored candidate references as its
/// child is not a root. (4) The ranking.
/// </para>
/// <para>
/// The score (0 to 100): a root the dump names and whose tables are well formed is <see cref="RootConfidence.Certain"/>
/// (VMCOREINFO's 100, a CPU's CR3 95). Otherwise 40 for well-formed tables that map something; +25 when its kernel
/// half (the upper half of a PML4 or PML5, the top quarter of a 32-bit page directory, PAE's PDPTE 3; accessed and
/// dirty flags aside) is the same as another candidate's and it maps 64 pages or more, +5 more when two others or
/// more share it (every Linux process's table copies the kernel's); +20 for an entry that references the table itself
/// (Windows' self-map); +5 for one of Linux's page-table-isolation pairs; up to +20 for the pages mapped (4 per power
/// of ten); minus up to 20 when more than a quarter of the tables below it are empty (40 times the excess share; PAE's
/// empty page directories under present PDPTEs do not count); −6 when two top-level entries reference the same table
/// (an alias, as boot-time tables have); +4 when it maps user pages (a process's address space rather than the
/// kernel's own tables). High from 75, Medium from 55. Candidates
/// are ordered by confidence, score, pages mapped, then address, and the user table of a PTI pair comes right after
/// its kernel table.
/// </para>
/// </summary>
public static class RootFinder
{
    /// <summary>Finds the candidate roots in <paramref name="dump"/>.</summary>
    /// <param name="dump">An opened dump of any format.</param>
    /// <param name="progress">Hears (bytes scanned, bytes in all) about every 1% of the scan, from any thread, never twice at once.</param>
    /// <param name="cancellation">Stops the search (<see cref="OperationCanceledException"/>).</param>
    public static RootSearch Find(MemoryDump dump, Action<long, long>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(dump);
        var held = new HeldMemory(dump.Memory, dump.PresentRanges);
        List<(TableFormat Format, string Why)> modeHints = DumpRootHints.Modes(dump);
        List<NamedRoot> named = DumpRootHints.Roots(dump, held);
        TableFormat[] formats = modeHints.Count > 0
            ? modeHints.Select(m => m.Format).Distinct().ToArray()
            : new[] { TableFormat.Long4, TableFormat.Long5, TableFormat.Pae, TableFormat.Legacy32 };

        var shapes = formats.Select(ShapeOf).Distinct().ToArray();
        List<RootSighting> sightings = PageScanner.Scan(held, shapes, progress, cancellation);

        // Every format's probe walks its own sightings and the roots the dump names, one probe per thread.
        var walks = new Dictionary<TableFormat, Dictionary<ulong, RootWalk>>();
        var tablesRead = new long[formats.Length];
        var options = new ParallelOptions { CancellationToken = cancellation, MaxDegreeOfParallelism = Environment.ProcessorCount };
        var results = new Dictionary<ulong, RootWalk>[formats.Length];
        Parallel.For(0, formats.Length, options, i =>
        {
            TableFormat format = formats[i];
            var probe = new TableProbe(format, held);
            var found = new Dictionary<ulong, RootWalk>();
            RootShape shape = ShapeOf(format);
            foreach (RootSighting sighting in sightings)
            {
                if (sighting.Shape == shape)
                {
                    found[sighting.Address] = probe.Walk(sighting.Address);
                }
            }

            foreach (NamedRoot root in named)
            {
                if (root.Format == format && !found.ContainsKey(root.Root))
                {
                    found[root.Root] = probe.Walk(root.Root);
                }
            }

            results[i] = found;
            tablesRead[i] = probe.TablesRead;
        });

        for (int i = 0; i < formats.Length; i++)
        {
            walks[formats[i]] = results[i];
        }

        var drafts = RootRanking.Drafts(held, sightings, named, walks, modeHints.Count == 0);
        IReadOnlyList<RootCandidate> ranked = RootRanking.Rank(held, drafts);
        return new RootSearch(ranked, formats.Select(f => f.Mode).ToArray(), modeHints.Select(m => m.Why).ToArray(),
            (long)(held.Bytes / 4096), sightings.Count, tablesRead.Sum());
    }

    internal static RootShape ShapeOf(TableFormat format) =>
        format.EntryBytes == 4 ? RootShape.Narrow : format.RootBytes == 32 ? RootShape.Pdpt : RootShape.Wide;
}
