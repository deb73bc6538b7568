using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ShadowMmu.Dumps;
using ShadowMmu.Roots;
using ShadowMmu.Tests.RealGuests;
using Xunit;

namespace ShadowMmu.Tests.Roots;

/// <summary>
/// The root finder on the real guests (tests/fixtures/real-guests): four Linux kernels, one per paging mode, two
/// stops each, two vCPUs, in the three files QEMU wrote (raw pmemsave without notes, ELF and kdump with CPU notes and
/// VMCOREINFO). The oracle is what QEMU recorded: each vCPU's CR3 from <c>info registers</c>, and <c>gva2gpa</c>'s
/// translations of kernel addresses.
/// </summary>
public sealed class RootFinderRealGuestTests
{
    public static TheoryData<string, int, int, string> VcpuFiles() => RealGuestRoots.VcpuFiles();

    public static TheoryData<string, int> Stops() => RealGuestRoots.Stops();

    [Theory]
    [MemberData(nameof(VcpuFiles))]
    public void The_cr3_each_vcpu_held_is_among_the_first_candidates_of_its_mode(string mode, int stop, int cpu, string file)
    {
        GuestStop guestStop = RealGuestFixtures.Stop(mode, stop);
        ulong cr3 = guestStop.Cpus[cpu].Registers.PagingCr3;
        RootSearch search = RealGuestRoots.Search(guestStop, file);
        List<RootCandidate> ofMode = RealGuestRoots.OfMode(search, mode);

        int rank = ofMode.FindIndex(c => c.Root == cr3) + 1;
        Assert.True(rank > 0, $"{guestStop} {file}: CR3 0x{cr3:x} of cpu {cpu} is not a {mode} candidate; candidates: {string.Join(" | ", search.Candidates.Take(8))}");
        Assert.True(rank <= RealGuestRoots.NearTop, $"{guestStop} {file}: CR3 0x{cr3:x} of cpu {cpu} is {mode} candidate {rank}; before it: {string.Join(" | ", ofMode.Take(rank - 1))}");
        RootCandidate found = ofMode[rank - 1];
        Assert.True(found.Confidence >= RootConfidence.High, found.ToString());
        Assert.Equal(0, found.MalformedTables);
        if (mode == "long4")
        {
            // pti=on: a CPU in user mode holds the user table of its process's pair, one in the kernel the kernel table
            // (README of the fixtures); the two are listed together, kernel table first.
            bool user = guestStop.Cpus[cpu].Registers.Cpl == 3;
            Assert.Equal(user, found.IsPtiUserTable);
            Assert.Equal(user ? cr3 - 0x1000 : cr3 + 0x1000, found.PtiPartner);
            Assert.Equal(found.PtiPartner, ofMode[user ? rank - 2 : rank].Root);
        }
        if (file == "raw")
        {
            Assert.Empty(found.Cpus);   // a raw image has no notes: found by the scan alone
        }
        else
        {
            Assert.Equal(RootConfidence.Certain, found.Confidence);
            Assert.Contains(cpu, found.Cpus);
            Assert.Contains(found.Evidence, e => e.Kind == RootEvidenceKind.CpuRegister);
        }
    }

    [Theory]
    [MemberData(nameof(Stops))]
    public void A_raw_images_best_candidate_is_a_root_in_the_guests_mode(string mode, int stop)
    {
        RootSearch search = RealGuestRoots.Search(RealGuestFixtures.Stop(mode, stop), "raw");

        Assert.Empty(search.ModeEvidence);   // nothing told it the mode
        Assert.Equal(4, search.ModesSearched.Count);
        RootCandidate best = Assert.IsType<RootCandidate>(search.Best);
        Assert.Equal(mode, best.Mode.Name);
        Assert.Equal(RootConfidence.High, best.Confidence);
        Assert.True(best.SharesKernelHalfWith >= 3, best.ToString());
        // Every candidate that is High or better is in the guest's mode: the other modes' shapes are scraps.
        Assert.All(search.AtLeast(RootConfidence.High), c => Assert.Equal(mode, c.Mode.Name));
    }

    [Theory]
    [MemberData(nameof(Stops))]
    public void Vmcoreinfos_root_is_the_table_the_kernel_maps_itself_with(string mode, int stop)
    {
        GuestStop guestStop = RealGuestFixtures.Stop(mode, stop);
        using MemoryDump dump = MemoryDump.Open(guestStop.ElfPath);
        RootSearch search = RealGuestRoots.Search(guestStop, "elf");
        RootCandidate kernel = Assert.Single(search.Candidates, c => c.FromVmcoreinfo);

        Assert.Equal(ExpectedKernelRoot(dump.VmcoreInfo!.Text, mode), kernel.Root);
        Assert.Equal(mode, kernel.Mode.Name);
        Assert.Equal(RootConfidence.Certain, kernel.Confidence);
        Assert.Same(kernel, search.Best);
        if (mode == "long4")
        {
            // pti=on: init_top_pgt is the kernel table of a PTI pair, its user table 4 KiB above.
            Assert.Equal(kernel.Root + 0x1000, kernel.PtiPartner);
        }

        // The oracle: every kernel address QEMU translated with a vCPU's CR3 (the kernel half every address space
        // shares) translates the same through the kernel's own root. vCPU 1 at stop 2 runs in the kernel.
        VcpuRecord inKernel = RealGuestFixtures.Stop(mode, 2).Cpus[1];
        Assert.Equal(0, inKernel.Registers.Cpl);
        PageMap kernelMap = PageMap.Of(dump, kernel);
        int compared = 0;
        foreach (Gva2GpaSample sample in inKernel.Gva2Gpa.Where(s => IsKernelAddress(mode, s.Va)))
        {
            Assert.True(sample.Gpa == kernelMap.Translate(sample.Va), $"{guestStop}: 0x{sample.Va:x}: QEMU says {Show(sample.Gpa)}, the VMCOREINFO root {Show(kernelMap.Translate(sample.Va))}");
            compared++;
        }

        Assert.True(compared > 300, $"only {compared} kernel samples");
    }

    [Theory]
    [MemberData(nameof(Stops))]
    public void Pages_mapped_is_what_AddressSpace_enumerates(string mode, int stop)
    {
        GuestStop guestStop = RealGuestFixtures.Stop(mode, stop);
        using MemoryDump dump = MemoryDump.Open(guestStop.RawPath);
        RootSearch search = RealGuestRoots.Search(guestStop, "raw");

        foreach (RootCandidate candidate in search.Candidates.Take(6))
        {
            var counter = new PageCounter();
            AddressSpaceCounts counts = Space(dump, candidate).Enumerate(ref counter);
            Assert.Equal(counts.Pages, candidate.PagesMapped);
            Assert.Equal(counter.UserPages, candidate.UserPagesMapped);
            Assert.Equal(counter.Bytes, candidate.BytesMapped);
            Assert.Equal(counts.Tables + (candidate.Mode.Name == "pae" ? 1 : 0), candidate.Tables);   // AddressSpace holds PAE's PDPTEs as registers, not a table
            Assert.Equal(0, counts.ReservedEntries);
            Assert.Equal(0, counts.TablesOutsideMemory);
        }
    }

    [Theory]
    [MemberData(nameof(Stops))]
    public void Every_format_gives_the_same_candidates_of_the_guests_mode(string mode, int stop)
    {
        GuestStop guestStop = RealGuestFixtures.Stop(mode, stop);
        string[] raw = Summary(RealGuestRoots.Search(guestStop, "raw"), mode);

        Assert.NotEmpty(raw);
        Assert.Equal(raw, Summary(RealGuestRoots.Search(guestStop, "elf"), mode));
        Assert.Equal(raw, Summary(RealGuestRoots.Search(guestStop, "kdump"), mode));
    }

    // What the kernel's VMCOREINFO says, read here line by line: x86-64 writes init_top_pgt's run-time (KASLR-slid)
    // address and phys_base (signed, %ld); i386 writes swapper_pg_dir, which lies at PAGE_OFFSET (0xC0000000 in
    // Debian's kernels) + its physical address.
    private static ulong ExpectedKernelRoot(string vmcoreinfo, string mode)
    {
        Dictionary<string, string> lines = vmcoreinfo.Split('\n').Where(l => l.Contains('=')).ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);
        if (mode is "long4" or "long5")
        {
            ulong symbol = ulong.Parse(lines["SYMBOL(init_top_pgt)"], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            long physBase = long.Parse(lines["NUMBER(phys_base)"], CultureInfo.InvariantCulture);
            Assert.Equal(mode == "long5" ? "1" : "0", lines["NUMBER(pgtable_l5_enabled)"]);
            return unchecked(symbol - 0xffffffff80000000UL + (ulong)physBase);
        }

        Assert.Equal(mode == "pae", lines.ContainsKey("CONFIG_X86_PAE"));
        return ulong.Parse(lines["SYMBOL(swapper_pg_dir)"], NumberStyles.HexNumber, CultureInfo.InvariantCulture) - 0xC0000000UL;
    }

    private static bool IsKernelAddress(string mode, ulong va) => mode is "long4" or "long5" ? (va >> 63) != 0 : va >= 0xC0000000;

    private static string Show(ulong? gpa) => gpa is ulong g ? $"0x{g:x}" : "unmapped";

    private static string[] Summary(RootSearch search, string mode) =>
        RealGuestRoots.OfMode(search, mode).Select(c => $"0x{c.Root:x} {c.PagesMapped} {c.SharesKernelHalfWith}").Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// The candidate's address space as <see cref="AddressSpace"/> reads it (the reference walker's rules), MAXPHYADDR 52
    /// as the finder assumes; PAE's PDPTE registers as the image holds them without TCG's accessed flag.
    /// </summary>
    internal static AddressSpace Space(MemoryDump dump, RootCandidate candidate)
    {
        CpuState cpu = candidate.SelectingState() with { MaxPhysAddr = 52 };
        if (candidate.Mode.Name != "pae")
        {
            return new AddressSpace(candidate.Mode, dump.Memory, cpu);
        }

        var pdptes = new ulong[4];
        for (int i = 0; i < 4; i++)
        {
            dump.Memory.TryReadUInt64(candidate.Root + (ulong)(i * 8), out pdptes[i]);
            pdptes[i] &= ~0x20UL;
        }

        return new AddressSpace(candidate.Mode, dump.Memory, cpu, pdptes);
    }

    private struct PageCounter : IMappingVisitor
    {
        public ulong Bytes;
        public long UserPages;

        public void Page(in MappedPage page)
        {
            Bytes += page.Size;
            UserPages += (page.Access & AccessRights.User) != 0 ? 1 : 0;
        }
    }

    /// <summary>Every page an address space maps, for looking addresses up.</summary>
    private sealed class PageMap : IMappingVisitor
    {
        private readonly List<MappedPage> _pages = new();

        public static PageMap Of(MemoryDump dump, RootCandidate candidate)
        {
            var map = new PageMap();
            Space(dump, candidate).Enumerate(ref map);
            return map;
        }

        public void Page(in MappedPage page) => _pages.Add(page);

        public ulong? Translate(ulong va)
        {
            int lo = 0, hi = _pages.Count - 1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >> 1;
                MappedPage page = _pages[mid];
                if (va < page.Va)
                {
                    hi = mid - 1;
                }
                else if (va - page.Va >= page.Size)
                {
                    lo = mid + 1;
                }
                else
                {
                    return page.Pa + (va - page.Va);
                }
            }

            return null;
        }
    }
}
