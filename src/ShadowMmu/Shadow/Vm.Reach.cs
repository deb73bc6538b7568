using System.Collections.Generic;

namespace ShadowMmu;

/// <summary>
/// Which vCPUs' roots reach each shadow page (<see cref="ShadowPage.ReachedBy"/>). The shared side's compare-exchange
/// guards a leaf against the other vCPUs on the shared side; a page that only one vCPU's roots reach has none, so that
/// vCPU installs there with a plain store (<see cref="ReplaceLeaf"/>). Every vCPU's pages in a VM of one vCPU, and each
/// vCPU's own address space in a VM of several, are such pages; tables that two vCPUs' roots share are not.
/// </summary>
/// <remarks>
/// <para>What reaches a page changes only on the exclusive side, in two places: a vCPU makes its roots
/// (<see cref="Vcpu"/>'s <c>MakeRoots</c>; cached roots were made by the same vCPU) and <see cref="Link"/> links a child.
/// Each marks the page with the vCPU or the parent's mark, and a mark that changes is passed down to every child the
/// page links. So the invariant holds at every link (a child's mark is at least its parent's) and at every root (at
/// least its vCPU), and by induction every page a vCPU's roots reach is marked with that vCPU or with
/// <see cref="ShadowPage.ManyVcpus"/>. The audit checks both (<see cref="AuditReach"/>).</para>
/// <para>A mark only rises (none, one vCPU, many): a page unlinked by a zap keeps it until the page is freed and made
/// anew, which is safe (a plain store is used less, never wrongly) and bounds the work: a page's mark changes at most
/// twice, and only then are its 512 entries looked at.</para>
/// </remarks>
public sealed partial class Vm
{
    /// <summary>
    /// Records that <paramref name="reacher"/> (a vCPU id, or another page's <see cref="ShadowPage.ReachedBy"/>) reaches
    /// <paramref name="page"/>, and passes a changed mark on to the pages it links.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    internal void MarkReachedBy(ShadowPage page, int reacher)
    {
        int merged = Reach(page.ReachedBy, reacher);
        if (merged == page.ReachedBy)
        {
            return;
        }

        page.ReachedBy = merged;
        if (page.Role.Level == 1)
        {
            return;
        }

        for (int index = 0; index < ShadowPage.EntryCount; index++)
        {
            ulong link = page[index];
            if (Spte.IsPresent(link))
            {
                MarkReachedBy(_pages[Spte.ChildId(link)]!, merged);
            }
        }
    }

    // The join of two marks: none joined with anything is that thing; two different vCPUs, or many, are many.
    private static int Reach(int mark, int reacher) =>
        mark == ShadowPage.NoVcpu || mark == reacher ? reacher
        : reacher == ShadowPage.NoVcpu ? mark
        : ShadowPage.ManyVcpus;

    /// <summary>
    /// The audit's check of the marks: every root of every vCPU (current and cached) carries that vCPU or many, and every
    /// page a link leads to carries at least the mark of the page that links it. A mark too low would let a vCPU install
    /// with a plain store where another vCPU can write the same entry.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private void AuditReach(List<StaleEntry> problems)
    {
        foreach (Vcpu vcpu in _vcpus)
        {
            foreach (ShadowPage root in vcpu.AllRoots())
            {
                if (root.Valid && Reach(root.ReachedBy, vcpu.Id) != root.ReachedBy)
                {
                    problems.Add(new StaleEntry($"{root} (reached by {ReachText(root.ReachedBy)})", $"vCPU {vcpu.Id}'s root",
                        $"reach: the root of vCPU {vcpu.Id} is not marked as reached by it"));
                }
            }
        }

        for (ShadowPage? page = _oldest; page != null; page = page.Newer)
        {
            if (page.Role.Level == 1)
            {
                continue;
            }

            for (int index = 0; index < ShadowPage.EntryCount; index++)
            {
                ulong link = page[index];
                if (Spte.IsPresent(link) && _pages[Spte.ChildId(link)] is ShadowPage child && Reach(child.ReachedBy, page.ReachedBy) != child.ReachedBy)
                {
                    problems.Add(new StaleEntry($"{page}[{index}] = 0x{link:x}", $"{child} (reached by {ReachText(child.ReachedBy)})",
                        $"reach: the child is marked lower than its parent (reached by {ReachText(page.ReachedBy)})"));
                }
            }
        }
    }

    private static string ReachText(int mark) => mark switch
    {
        ShadowPage.NoVcpu => "no vCPU",
        ShadowPage.ManyVcpus => "many vCPUs",
        _ => $"vCPU {mark}",
    };
}
