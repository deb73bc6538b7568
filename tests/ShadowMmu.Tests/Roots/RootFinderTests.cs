using System;
using System.Collections.Generic;
using System.Linq;
using ShadowMmu.Dumps;
using ShadowMmu.Roots;
using ShadowMmu.Tests.Dumps;
using Xunit;

namespace ShadowMmu.Tests.Roots;

/// <summary>
/// The root finder on guests built here (<see cref="SyntheticGuest"/>): each mode found from its shape alone, 4 and 5
/// levels told apart, kernel halves grouped, Windows' self-map, PAE's 32-byte-aligned PDPTs, and what VMCOREINFO says,
/// including when it says something the dump cannot back.
/// </summary>
public sealed class RootFinderTests
{
    public static TheoryData<string> Modes() => new() { "long4", "long5", "pae", "legacy32" };

    [Theory]
    [MemberData(nameof(Modes))]
    public void Every_address_space_of_a_raw_guest_is_found_in_its_mode(string mode)
    {
        SyntheticGuest guest = SyntheticGuest.Build(mode, processes: 3);
        using MemoryDump dump = guest.OpenRaw();

        RootSearch search = RootFinder.Find(dump);

        Assert.Equal(guest.Roots.Order(), search.Candidates.Where(c => c.Confidence >= RootConfidence.High).Select(c => c.Root).Order());
        foreach (ulong root in guest.Roots)
        {
            RootCandidate candidate = Assert.Single(search.Candidates, c => c.Root == root);
            Assert.Equal(mode, candidate.Mode.Name);
            Assert.Equal(3, candidate.SharesKernelHalfWith);
            Assert.Contains(candidate.Evidence, e => e.Kind == RootEvidenceKind.SharedKernelHalf && e.Text == "kernel half shared with 3 other tables");
            Assert.Equal(0, candidate.MalformedTables);
        }

        // The processes map user pages on top of the kernel's half, so they come first, and say how many.
        Assert.Equal(guest.KernelRoot, search.Candidates.Where(c => c.Confidence >= RootConfidence.High).Last().Root);
        RootCandidate second = Assert.Single(search.Candidates, c => c.Root == guest.ProcessRoots[1]);
        Assert.Contains(second.Evidence, e => e.Kind == RootEvidenceKind.Walk && e.Text.StartsWith("107 pages (9 user) mapped in ", StringComparison.Ordinal));
    }

    [Fact]
    public void Two_top_level_entries_referencing_one_table_are_an_alias_that_ranks_a_table_lower()
    {
        SyntheticGuest guest = SyntheticGuest.Build("long4", processes: 2);
        // As boot-time tables do: the kernel's half mapped a second time at address 0 (entry 0 = entry 256).
        Array.Copy(guest.Image, (int)guest.KernelRoot + (256 * 8), guest.Image, (int)guest.KernelRoot, 8);
        using MemoryDump dump = guest.OpenRaw();

        RootSearch search = RootFinder.Find(dump);

        RootCandidate kernel = Assert.Single(search.Candidates, c => c.Root == guest.KernelRoot);
        Assert.Contains(kernel.Evidence, e => e.Kind == RootEvidenceKind.Doubt && e.Text == "entries 0 and 256 reference the same table, as boot-time tables do");
        Assert.Equal(guest.KernelRoot, search.Candidates.Where(c => c.Mode.Name == "long4").Last().Root);
    }

    [Theory]
    [InlineData("long4")]
    [InlineData("long5")]
    public void Four_and_five_levels_are_told_apart_by_shape_and_say_why(string mode)
    {
        SyntheticGuest guest = SyntheticGuest.Build(mode, processes: 1);
        using MemoryDump dump = guest.OpenRaw();

        RootCandidate kernel = Assert.Single(RootFinder.Find(dump).Candidates, c => c.Root == guest.KernelRoot);

        Assert.Equal(mode, kernel.Mode.Name);
        RootEvidence why = Assert.Single(kernel.Evidence, e => e.Kind == RootEvidenceKind.Mode);
        Assert.StartsWith(mode == "long5" ? "5-level: " : "4-level: read as 5-level, ", why.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_self_referencing_entry_is_evidence_and_ranks_its_table_first()
    {
        SyntheticGuest guest = SyntheticGuest.Build("long4", processes: 2, selfMap: true);
        using MemoryDump dump = guest.OpenRaw();

        RootSearch search = RootFinder.Find(dump);

        RootCandidate kernel = search.Candidates[0];
        Assert.Equal(guest.KernelRoot, kernel.Root);
        Assert.Contains(kernel.Evidence, e => e.Kind == RootEvidenceKind.SelfReference && e.Text == "self-referencing entry 493 (0x1ed)");
        Assert.Equal(2, kernel.SharesKernelHalfWith);   // the self-map is the kernel's own, not part of the shared half
    }

    [Fact]
    public void A_pae_pdpt_is_found_at_its_32_byte_slot()
    {
        SyntheticGuest guest = SyntheticGuest.Build("pae", processes: 2);
        using MemoryDump dump = guest.OpenRaw();

        RootSearch search = RootFinder.Find(dump);

        foreach (ulong slot in guest.ProcessRoots)
        {
            Assert.NotEqual(0UL, slot & 0xFFF);
            RootCandidate candidate = Assert.Single(search.Candidates, c => c.Root == slot);
            Assert.Equal(slot, candidate.SelectingState().Cr3);
            Assert.Equal(Cr4.PAE, candidate.SelectingState().Cr4 & (Cr4.PAE | Cr4.LA57));
        }
    }

    [Fact]
    public void Vmcoreinfos_x86_64_root_is_symbol_minus_the_kernel_map_plus_phys_base()
    {
        SyntheticGuest guest = SyntheticGuest.Build("long5", processes: 2);
        // A kernel linked at 0xffffffff81000000 + (root's offset), slid by KASLR and loaded 0x1000000 below where it was linked.
        const long physBase = -0x1000000;
        ulong symbol = guest.KernelRoot + 0xffffffff80000000UL + 0x1000000UL;
        using MemoryDump dump = guest.OpenElf(62, $"OSRELEASE=6.1.0\nSYMBOL(init_top_pgt)={symbol:x}\nNUMBER(phys_base)={physBase}\nNUMBER(pgtable_l5_enabled)=1\nKERNELOFFSET=38a00000\n");

        RootSearch search = RootFinder.Find(dump);

        RootCandidate kernel = search.Candidates[0];
        Assert.Equal(guest.KernelRoot, kernel.Root);
        Assert.True(kernel.FromVmcoreinfo);
        Assert.Equal(RootConfidence.Certain, kernel.Confidence);
        Assert.Equal("VMCOREINFO SYMBOL(init_top_pgt)", kernel.Evidence[0].Text);
        Assert.Equal(new[] { "long5" }, search.ModesSearched.Select(m => m.Name));
        Assert.Equal(new[] { "VMCOREINFO NUMBER(pgtable_l5_enabled)=1" }, search.ModeEvidence);
    }

    [Fact]
    public void Vmcoreinfos_i386_root_is_found_under_another_page_offset_and_says_which()
    {
        SyntheticGuest guest = SyntheticGuest.Build("legacy32", processes: 2);
        using MemoryDump dump = guest.OpenElf(3, $"OSRELEASE=6.1.0\nSYMBOL(swapper_pg_dir)={guest.KernelRoot + 0x80000000:x}\n");

        RootCandidate kernel = RootFinder.Find(dump).Candidates[0];

        Assert.Equal(guest.KernelRoot, kernel.Root);
        Assert.Equal("legacy32", kernel.Mode.Name);
        Assert.Equal("VMCOREINFO SYMBOL(swapper_pg_dir) (PAGE_OFFSET 0x80000000)", kernel.Evidence[0].Text);
    }

    [Fact]
    public void A_vmcoreinfo_root_the_dump_does_not_hold_is_listed_low_with_the_reason()
    {
        SyntheticGuest guest = SyntheticGuest.Build("long4", processes: 2);
        using MemoryDump dump = guest.OpenElf(62, "SYMBOL(init_top_pgt)=ffffffffc0000000\nNUMBER(phys_base)=0\nNUMBER(pgtable_l5_enabled)=0\n");

        RootSearch search = RootFinder.Find(dump);

        RootCandidate named = Assert.Single(search.Candidates, c => c.FromVmcoreinfo);
        Assert.Equal(0x40000000UL, named.Root);
        Assert.Equal(RootConfidence.Low, named.Confidence);
        Assert.Contains(named.Evidence, e => e.Kind == RootEvidenceKind.Doubt && e.Text == "the dump does not hold this table");
        Assert.Equal(guest.Roots.Order(), search.AtLeast(RootConfidence.High).Select(c => c.Root).Order());
    }

    [Fact]
    public void A_lime_dump_with_gaps_gives_what_the_raw_image_gives()
    {
        SyntheticGuest guest = SyntheticGuest.Build("long4", processes: 3);
        byte[] lime = DumpWriters.Lime(new[]
        {
            new DumpWriters.Range(0x100000, guest.Image.AsSpan(0x100000, 0x100000).ToArray()),     // the tables
            new DumpWriters.Range(0x800000, guest.Image.AsSpan(0x800000, 0x1000000).ToArray()),    // the pages they map
        });
        using MemoryDump raw = guest.OpenRaw();
        using MemoryDump limeDump = MemoryDump.Open(new MemorySource("guest.lime", lime), null);

        RootSearch fromRaw = RootFinder.Find(raw), fromLime = RootFinder.Find(limeDump);

        Assert.Equal(DumpFormat.Lime, limeDump.Format);
        Assert.Equal(0x1100000 / 4096, fromLime.PagesScanned);
        Assert.Equal(fromRaw.Candidates.Select(c => c.ToString()), fromLime.Candidates.Select(c => c.ToString()));
    }

    [Fact]
    public void Candidates_select_their_mode()
    {
        foreach (string mode in new[] { "long4", "long5", "pae", "legacy32" })
        {
            SyntheticGuest guest = SyntheticGuest.Build(mode, processes: 1);
            using MemoryDump dump = guest.OpenRaw();
            foreach (RootCandidate candidate in RootFinder.Find(dump).Candidates.Where(c => c.Confidence >= RootConfidence.High))
            {
                Assert.Same(candidate.Mode, PagingModes.Select(candidate.SelectingState()));
            }
        }
    }
}
