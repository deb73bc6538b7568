using System.Collections.Generic;

namespace ShadowMmu;

public sealed partial class Vm
{
    /// <summary>
    /// The audit's check of the reverse maps (KVM's old audit_mappings and inspect_spte_has_rmap): every leaf of a
    /// frame in memory that is present, or a tombstone that claims its place on the reverse map, is on that frame's
    /// reverse map exactly once, and every reverse-map link names such an entry for that frame. A leaf missing from its
    /// reverse map would survive the write protection or the host invalidation of its frame; a link without its leaf
    /// would leak. Installs on the mmu_lock's shared side must keep this true without touching the maps.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private void AuditReverseMaps(List<StaleEntry> problems)
    {
        var linked = new HashSet<(int Page, int Index)>();
        for (int gfn = 0; gfn < _rmapHead.Length; gfn++)
        {
            for (int node = _rmapHead[gfn]; node != LinkPool.None; node = _links.Next(node))
            {
                ShadowPage page = _pages[_links.PageOf(node)]!;
                int index = _links.IndexOf(node);
                ulong spte = page[index];
                string? problem = !linked.Add((page.Id, index)) ? "is on a reverse map twice"
                    : !page.Valid || page.Role.Level != 1 ? "is on a reverse map but its page is not a valid leaf page"
                    : page.GfnAt(index) != (ulong)gfn ? $"is on the reverse map of frame 0x{gfn:x} but stands for 0x{page.GfnAt(index):x}"
                    : !Spte.IsPresent(spte) && !Spte.IsTombstone(spte) ? $"is on the reverse map of frame 0x{gfn:x} but holds no leaf"
                    : null;
                if (problem != null)
                {
                    problems.Add(new StaleEntry($"{page}[{index}] = 0x{spte:x}", $"frame 0x{gfn:x}", "reverse map: the entry " + problem));
                }
            }
        }

        for (ShadowPage? page = _oldest; page != null; page = page.Newer)
        {
            if (page.Role.Level != 1)
            {
                continue;
            }

            for (int index = 0; index < ShadowPage.EntryCount; index++)
            {
                ulong spte = page[index];
                if ((Spte.IsPresent(spte) || Spte.IsTombstone(spte)) && page.GfnAt(index) < (ulong)_rmapHead.Length && !linked.Contains((page.Id, index)))
                {
                    problems.Add(new StaleEntry($"{page}[{index}] = 0x{spte:x}", $"frame 0x{page.GfnAt(index):x}",
                        "reverse map: the leaf is not on its frame's reverse map"));
                }
            }
        }
    }
}
