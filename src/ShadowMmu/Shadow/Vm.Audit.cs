using System.Collections.Generic;
using System.Text;

namespace ShadowMmu;

public sealed partial class Vm
{
    private readonly Dictionary<uint, IShadowFetcher> _decoders = new();

    /// <summary>Remembers how to read guest entries for pages made with <paramref name="role"/> (the audit needs it).</summary>
    internal void RegisterDecoder(ShadowCpuRole role, IShadowFetcher fetcher)
    {
        using (MmuLock.Enter())
        {
            _decoders.TryAdd(role.Word, fetcher);
        }
    }

    /// <summary>
    /// Checks every present entry of every valid shadow page against the guest's tables as they are now (KVM's old
    /// mmu_audit): a leaf must map the frame the guest entry maps with no more rights than the guest allows (and no W
    /// on a clean page or on a shadowed guest table); a non-leaf must link the shadow page of the table the guest
    /// entry references (or, for a guest large page, the direct page of its frames), with no more rights. The reverse
    /// maps are checked too (<see cref="AuditReverseMaps"/>), and which vCPUs reach each page (<see cref="AuditReach"/>).
    /// </summary>
    public AuditResult Audit()
    {
        using (MmuLock.Enter())
        {
            var stale = new List<StaleEntry>();
            int pages = 0;
            long entries = 0;
            _pending = 0;
            for (ShadowPage? page = _oldest; page != null; page = page.Newer)
            {
                pages++;
                for (int i = 0; i < ShadowPage.EntryCount; i++)
                {
                    ulong spte = page[i];
                    if (!Spte.IsPresent(spte))
                    {
                        continue;
                    }

                    entries++;
                    string? problem = page.Role.Direct ? AuditDirect(page, i, spte) : AuditIndirect(page, i, spte, out string guest);
                    if (problem != null)
                    {
                        string guestPath = page.Role.Direct ? $"frames from 0x{page.Gfn:x} (a guest large page)" : GuestEntryText(page, i);
                        stale.Add(new StaleEntry(ShadowPath(page, i, spte), guestPath, problem));
                    }
                }
            }

            AuditReverseMaps(stale);
            AuditReach(stale);
            return new AuditResult(pages, entries, stale) { Pending = _pending };
        }
    }

    private string? AuditIndirect(ShadowPage page, int index, ulong spte, out string guest)
    {
        guest = "";
        int level = page.Role.Level;
        if (!_decoders.TryGetValue(page.Role.Cpu.Word, out IShadowFetcher? decoder))
        {
            return "no vCPU mode decodes this page's guest entries";
        }

        ulong gpa = GuestEntryGpa(page, index);
        int entryBytes = page.Role.Cpu.HasFourByteGpte ? 4 : 8;
        if (!Memory.Contains(gpa, (ulong)entryBytes))
        {
            return "the guest table is outside memory";
        }

        ulong gpte = Memory.ReadEntry(gpa, entryBytes);
        if (!decoder.TryDecodeGpte(gpte, level, out GpteInfo info))
        {
            if (level == 1 && page.Unsync && IsPending(page, index, spte, decoder))
            {
                _pending++;
                return null;
            }

            return "the guest entry is not present or has a reserved bit set";
        }

        uint allowed = page.Role.Access & info.Access;
        if (level == 1)
        {
            string? problem = AuditLeaf(page, index, spte, info.Gfn, allowed, info.Dirty);
            if (problem != null && page.Unsync && IsPending(page, index, spte, decoder))
            {
                // The guest changed the entry and has not flushed its address since it held the value the leaf shows.
                _pending++;
                return null;
            }

            return problem;
        }

        ShadowPage child = _pages[Spte.ChildId(spte)]!;
        if (!child.Valid)
        {
            return $"links {child}, which was zapped";
        }

        if (info.MapsPage)
        {
            // A guest large page: the child must be the direct page of its frames (a 4 MiB 32-bit page is two halves),
            // and while the guest page is clean its mappings may not be writable (the first write must set D).
            ulong expected = info.Gfn + (page.Role.Cpu.HasFourByteGpte ? (ulong)(index & 1) * 512 : 0);
            if (!child.Role.Direct || child.Gfn != expected || child.Role.Level != level - 1)
            {
                return $"links {child} but the guest entry maps a large page at frame 0x{expected:x}";
            }

            if (!info.Dirty && (child.Role.Access & AccessRights.Write) != 0 && !IsWpQuirk(page, child.Role.Access))
            {
                return $"links {child}, writable, but the guest's large page is clean: the guest's dirty bit would not be set";
            }

            allowed = WithWpQuirk(page, allowed, child.Role.Access);
        }
        else
        {
            int quadrant = page.Role.Cpu.HasFourByteGpte && level == 2 ? index & 1 : 0;
            if (child.Role.Direct || child.Gfn != info.Gfn || child.Role.Level != level - 1 || child.Role.Quadrant != quadrant)
            {
                return $"links {child} but the guest entry references the table at frame 0x{info.Gfn:x}";
            }
        }

        return (child.Role.Access & ~allowed) != 0 ? $"links {child} with rights {Rights(page, child.Role.Access)}, more than the guest's {Rights(page, allowed)}" : null;
    }

    private string? AuditDirect(ShadowPage page, int index, ulong spte)
    {
        if (page.Role.Level == 1)
        {
            return AuditLeaf(page, index, spte, page.Gfn + (ulong)index, page.Role.Access, dirty: true);
        }

        ShadowPage child = _pages[Spte.ChildId(spte)]!;
        ulong expected = page.Gfn + ((ulong)index << (9 * (page.Role.Level - 1)));
        return child.Valid && child.Role.Direct && child.Gfn == expected && (child.Role.Access & ~page.Role.Access) == 0
            ? null
            : $"links {child} in a direct page whose entry {index} covers frames from 0x{expected:x}";
    }

    private string? AuditLeaf(ShadowPage page, int index, ulong spte, ulong gfn, uint allowed, bool dirty)
    {
        if (page.GfnAt(index) != gfn)
        {
            return $"maps frame 0x{page.GfnAt(index):x} but the guest maps 0x{gfn:x}";
        }

        if (HostFrameProblem(spte, gfn) is string host)
        {
            return host;
        }

        uint rights = Spte.AccessOf(spte);
        if ((spte & Spte.Writable) != 0 && IsWriteProtected(gfn))
        {
            return $"maps frame 0x{gfn:x} writable, but a shadow page shadows it: guest writes to it would not trap";
        }

        if ((spte & Spte.Writable) != 0 && !dirty)
        {
            return "is writable but the guest page is clean: the guest's dirty bit would not be set";
        }

        allowed = WithWpQuirk(page, allowed, rights);
        return (rights & ~allowed) != 0 ? $"grants rights {Rights(page, rights)}, more than the guest's {Rights(page, allowed)}" : null;
    }

    /// <summary>
    /// The architecture's TLB rule for a leaf of an unsync table that differs from its guest entry: pending when it agrees
    /// with a value that entry held after the last flush of its address in every address space whose root reaches it
    /// (<see cref="GuestTlb"/>); a global value (G set, x86) survives the flushes of MOV to CR3 under CR4.PGE.
    /// </summary>
    private bool IsPending(ShadowPage page, int index, ulong spte, IShadowFetcher decoder)
    {
        _reach.Clear();
        Reach(page, index, 0, 1);
        ulong gpa = GuestEntryGpa(page, index);
        int entryBytes = page.Role.Cpu.HasFourByteGpte ? 4 : 8;
        int shift = (int)(gpa & 7) * 8;
        ulong entryMask = entryBytes == 4 ? 0xFFFF_FFFFUL : ulong.MaxValue;
        // Every value recorded; which of them each address space may still hold is decided below, flush by flush.
        Tlb.ValuesSince(gpa & ~7UL, long.MinValue, _values);
        foreach ((ulong word, long until) in _values)
        {
            ulong value = (word >> shift) & entryMask;
            if (!decoder.TryDecodeGpte(value, 1, out GpteInfo info)
                || AuditLeaf(page, index, spte, info.Gfn, page.Role.Access & info.Access, info.Dirty) != null)
            {
                continue;
            }

            bool global = !page.Role.Cpu.Ept && (value & 0x100) != 0;
            bool heldSinceEveryFlush = true;
            foreach ((ulong context, ulong va) in _reach)
            {
                if (until <= Tlb.LastFlush(context, va, global))
                {
                    heldSinceEveryFlush = false;
                    break;
                }
            }

            if (heldSinceEveryFlush)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Every (address space, address) from which entry <paramref name="index"/> of <paramref name="page"/> is reached, into <c>_reach</c>.</summary>
    private void Reach(ShadowPage page, int index, ulong vaBelow, int level)
    {
        ulong va = vaBelow | ((ulong)index << (12 + (9 * (level - 1))));
        if (page.ParentHead == LinkPool.None)
        {
            int guestRoot = page.Role.Cpu.GuestRootLevel;
            int rootLevel = guestRoot <= 3 ? 2 : guestRoot;
            if (page.Role.Level == rootLevel)
            {
                _reach.Add((ContextOf(page), va));
            }

            return;
        }

        for (int node = page.ParentHead; node != LinkPool.None; node = _links.Next(node))
        {
            Reach(_pages[_links.PageOf(node)]!, _links.IndexOf(node), va, level + 1);
        }
    }

    private readonly List<(ulong Context, ulong Va)> _reach = new();
    private readonly List<(ulong Value, long Until)> _values = new();
    private long _pending;

    /// <summary>The leaf must name the host frame that backs <paramref name="gfn"/> now: a frame the host moved or took away shows here.</summary>
    private string? HostFrameProblem(ulong spte, ulong gfn)
    {
        ulong pfn = Spte.Pfn(spte);
        if (!Host.HasSlot(gfn))
        {
            return pfn == HostFrames.None && Spte.Frame(spte) == gfn ? null : $"maps host frame 0x{Spte.Frame(spte):x}, but guest frame 0x{gfn:x} is outside guest memory";
        }

        ulong backing = Host.PfnOf(gfn);
        if (pfn == backing)
        {
            return null;
        }

        return backing == HostFrames.None
            ? $"maps host frame 0x{pfn:x}, but the host took guest frame 0x{gfn:x} away"
            : $"maps host frame 0x{pfn:x}, but guest frame 0x{gfn:x} is backed by host frame 0x{backing:x} now";
    }

    // Rights as translate prints them (user rwx), or as EPT rights (rw-) in a shadow EPT page.
    private static string Rights(ShadowPage page, uint access) => AccessRights.Format(access, page.Role.Cpu.Ept);

    /// <summary>
    /// CR0.WP = 0: a supervisor write to a read-only guest page gets W in the shadow, without U (see Vcpu): such
    /// <paramref name="rights"/> are allowed beyond the guest's.
    /// </summary>
    private static bool IsWpQuirk(ShadowPage page, uint rights) =>
        !page.Role.Cpu.Cr0Wp && (rights & AccessRights.Write) != 0 && (rights & AccessRights.User) == 0;

    private static uint WithWpQuirk(ShadowPage page, uint allowed, uint rights) =>
        IsWpQuirk(page, rights) ? allowed | AccessRights.Write : allowed;

    /// <summary>The guest entry a shadow entry was derived from, with quadrants for 4-byte guests (see WrittenEntries).</summary>
    private static ulong GuestEntryGpa(ShadowPage page, int index)
    {
        ulong table = page.Gfn << 12;
        if (!page.Role.Cpu.HasFourByteGpte)
        {
            return table + ((ulong)index * 8);
        }

        int guestIndex = page.Role.Level == 2 ? (page.Role.Quadrant * 256) + (index / 2) : (page.Role.Quadrant * 512) + index;
        return table + ((ulong)guestIndex * 4);
    }

    private string GuestEntryText(ShadowPage page, int index)
    {
        ulong gpa = GuestEntryGpa(page, index);
        int entryBytes = page.Role.Cpu.HasFourByteGpte ? 4 : 8;
        string value = Memory.Contains(gpa, (ulong)entryBytes) ? $"0x{Memory.ReadEntry(gpa, entryBytes):x}" : "outside memory";
        return $"level-{page.Role.Level} entry at 0x{gpa:x} = {value}";
    }

    /// <summary>The entry and its parents up to a root: the linear address bits each index stands for.</summary>
    private string ShadowPath(ShadowPage page, int index, ulong spte)
    {
        var path = new StringBuilder($"{page}[{index}] = 0x{spte:x}");
        ShadowPage current = page;
        for (int depth = 0; depth < 6 && current.ParentHead != LinkPool.None; depth++)
        {
            int node = current.ParentHead;
            ShadowPage parent = _pages[_links.PageOf(node)]!;
            path.Insert(0, $"{parent}[{_links.IndexOf(node)}] -> ");
            current = parent;
        }

        return path.ToString();
    }
}
