using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace ShadowMmu.Roots;

/// <summary>The shape of root table a page (or a 32-byte slot of one) could be.</summary>
internal enum RootShape : byte
{
    /// <summary>512 8-byte entries: a PML4 or a PML5.</summary>
    Wide,

    /// <summary>1024 4-byte entries: a 32-bit page directory.</summary>
    Narrow,

    /// <summary>4 8-byte entries at a 32-byte boundary: a PAE page-directory-pointer table.</summary>
    Pdpt,
}

/// <summary>A place in the dump that is shaped like a root table.</summary>
internal readonly record struct RootSighting(ulong Address, RootShape Shape);

/// <summary>
/// The first pass over a dump: every page it holds is tested, in parallel and without allocating, for the shapes a
/// root table can have, as Volatility3's and MemProcFS's DTB scans test pages (those look for Windows' self-map; this
/// test is the one they apply first, and it holds for every operating system):
/// <list type="bullet">
/// <item>every entry is clear or present (operating systems clear unused top-level entries), and every present one
/// is well formed for the root level (PML4E/PML5E: no reserved bit, PS clear) and references a table the dump holds,
/// outside frame 0;</item>
/// <item>the upper part, where a kernel lives, is not empty: the upper half of a PML4 or PML5 (canonical kernel
/// addresses), the top quarter of a 32-bit page directory and PAE's PDPTE 3 (0xC0000000 up: the kernel in every
/// split Linux and Windows use);</item>
/// <item>the lower half, where user space lives, is not (nearly) all present: that would map all of user space, as
/// the page tables of a linear mapping do when read as a root (PAE's four PDPTEs are exempt: all are always present);</item>
/// <item>a 32-bit page directory whose odd entries are all clear while four or more even ones are present is a
/// table of 8-byte entries seen through 4-byte eyes (each high half is 0): not one;</item>
/// <item>PAE: at every 32-byte boundary (Linux allocates PDPTs from a slab, 32-byte aligned), PDPTE 3 present and
/// every present PDPTE free of reserved bits but QEMU's accessed flag.</item>
/// </list>
/// Pages that pass are probed further (<see cref="TableProbe"/>).
/// </summary>
internal static class PageScanner
{
    private const int PageSize = 4096;
    private const ulong ChunkBytes = 4UL << 20;

    /// <summary>Scans every page the dump holds for the shapes asked for.</summary>
    /// <param name="held">The dump's memory.</param>
    /// <param name="shapes">Which shapes to look for.</param>
    /// <param name="progress">Hears (bytes scanned, bytes in all) now and then, from any thread, never twice at once.</param>
    /// <param name="cancellation">Stops the scan.</param>
    public static List<RootSighting> Scan(HeldMemory held, IReadOnlyCollection<RootShape> shapes, Action<long, long>? progress, CancellationToken cancellation)
    {
        bool wide = shapes.Contains(RootShape.Wide), narrow = shapes.Contains(RootShape.Narrow), pdpt = shapes.Contains(RootShape.Pdpt);
        var chunks = new List<(ulong Start, ulong End)>();
        for (int r = 0; r < held.RangeCount; r++)
        {
            ulong start = (held.RangeStart(r) + PageSize - 1) & ~(ulong)(PageSize - 1);
            ulong end = held.RangeEnd(r) & ~(ulong)(PageSize - 1);
            for (ulong at = start; at < end; at += ChunkBytes)
            {
                chunks.Add((at, Math.Min(end, at + ChunkBytes)));
            }
        }

        long total = 0;
        foreach ((ulong start, ulong end) in chunks)
        {
            total += (long)(end - start);
        }

        var found = new List<RootSighting>();
        long done = 0, reported = 0;
        var reporting = new object();
        TableFormat long4 = TableFormat.Long4, pae = TableFormat.Pae, legacy32 = TableFormat.Legacy32;
        var options = new ParallelOptions { CancellationToken = cancellation, MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.For(0, chunks.Count, options, () => new List<RootSighting>(), (index, _, local) =>
        {
            (ulong start, ulong end) = chunks[index];
            for (ulong page = start; page < end; page += PageSize)
            {
                ReadOnlySpan<ulong> words = held.Words(page, PageSize / 8);
                if (MemoryMarshal.AsBytes(words).IndexOfAnyExcept((byte)0) < 0)
                {
                    continue;
                }

                if (wide && IsWideRoot(held, long4, words))
                {
                    local.Add(new RootSighting(page, RootShape.Wide));
                }

                if (narrow && IsNarrowRoot(held, legacy32, held.Dwords(page, PageSize / 4)))
                {
                    local.Add(new RootSighting(page, RootShape.Narrow));
                }

                if (pdpt)
                {
                    for (int slot = 0; slot < PageSize / 32; slot++)
                    {
                        if (IsPdpt(held, pae, words.Slice(slot * 4, 4)))
                        {
                            local.Add(new RootSighting(page + (ulong)(slot * 32), RootShape.Pdpt));
                        }
                    }
                }
            }

            if (progress != null)
            {
                long now = Interlocked.Add(ref done, (long)(end - start));
                if (now - Interlocked.Read(ref reported) >= total / 100 || now == total)
                {
                    lock (reporting)
                    {
                        if (now > reported)
                        {
                            reported = now;
                            progress(now, total);
                        }
                    }
                }
            }

            return local;
        },
        local =>
        {
            lock (found)
            {
                found.AddRange(local);
            }
        });

        found.Sort((a, b) => a.Address != b.Address ? a.Address.CompareTo(b.Address) : a.Shape.CompareTo(b.Shape));
        return found;
    }

    /// <summary>A PML4 or PML5 (both have the same root-entry format): see the class.</summary>
    public static bool IsWideRoot(HeldMemory held, TableFormat format, ReadOnlySpan<ulong> entries)
    {
        LevelFormat root = format.Level(format.RootLevel);
        int upper = 0, lower = 0;
        for (int i = 0; i < entries.Length; i++)
        {
            ulong entry = entries[i];
            if (entry == 0)
            {
                continue;
            }

            ulong table = entry & root.TableMask;
            if ((entry & format.PresentBit) == 0 || (entry & root.TableReserved) != 0 || table == 0 || !held.Holds(table, PageSize))
            {
                return false;
            }

            upper += i >= entries.Length / 2 ? 1 : 0;
            lower += i < entries.Length / 2 ? 1 : 0;
        }

        return upper > 0 && !NearlyAll(lower, entries.Length / 2);
    }

    /// <summary>A 32-bit page directory: see the class.</summary>
    public static bool IsNarrowRoot(HeldMemory held, TableFormat format, ReadOnlySpan<uint> entries)
    {
        LevelFormat root = format.Level(format.RootLevel);
        int upper = 0, lower = 0, present = 0, odd = 0;
        for (int i = 0; i < entries.Length; i++)
        {
            ulong entry = entries[i];
            if (entry == 0)
            {
                continue;
            }

            if ((entry & format.PresentBit) == 0)
            {
                return false;
            }

            if (root.MapsPage(entry))
            {
                if ((entry & root.PageReserved) != 0)
                {
                    return false;
                }
            }
            else
            {
                ulong table = entry & root.TableMask;
                if ((entry & root.TableReserved) != 0 || table == 0 || !held.Holds(table, PageSize))
                {
                    return false;
                }
            }

            present++;
            odd += i & 1;
            upper += i >= entries.Length * 3 / 4 ? 1 : 0;
            lower += i < entries.Length / 2 ? 1 : 0;
        }

        return upper > 0 && (present < 4 || odd > 0) && !NearlyAll(lower, entries.Length / 2);
    }

    /// <summary>A PAE PDPT at a 32-byte boundary: see the class.</summary>
    public static bool IsPdpt(HeldMemory held, TableFormat format, ReadOnlySpan<ulong> entries)
    {
        if ((entries[3] & format.PresentBit) == 0)
        {
            return false;
        }

        LevelFormat root = format.Level(format.RootLevel);
        for (int i = 0; i < 4; i++)
        {
            ulong entry = entries[i];
            if (entry == 0)
            {
                continue;
            }

            ulong table = entry & root.TableMask;
            if ((entry & format.PresentBit) == 0 || (entry & root.TableReserved) != 0 || table == 0 || !held.Holds(table, PageSize))
            {
                return false;
            }
        }

        return true;
    }

    // 90% or more of a half.
    private static bool NearlyAll(int present, int half) => present * 10 >= half * 9;
}
