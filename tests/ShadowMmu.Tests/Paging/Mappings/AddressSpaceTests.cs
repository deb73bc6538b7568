using System.Collections.Generic;
using System.Linq;
using ShadowMmu.Tests.Differential;
using Xunit;

namespace ShadowMmu.Tests.Paging.Mappings;

/// <summary>
/// <see cref="AddressSpace"/> against the generated walkers on random tables with garbage: every page it lists
/// translates as listed at its first, last and a random byte with the rights listed, and every address a walk
/// translates lies in a page it lists.
/// </summary>
public class AddressSpaceTests
{
    public static TheoryData<string> X86Modes => new(PagingModes.All.Where(m => !m.IsEpt).Select(m => m.Name));

    private sealed class Collect : IMappingVisitor
    {
        public List<MappedPage> Pages { get; } = new();

        public void Page(in MappedPage page) => Pages.Add(page);
    }

    [Theory]
    [MemberData(nameof(X86Modes))]
    public void Every_listed_page_translates_as_listed_and_every_translation_is_listed(string modeName)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        int pagesChecked = 0, walksChecked = 0;
        for (int seed = 0; seed < 40; seed++)
        {
            using GuestMemory memory = GuestMemory.Allocate(0x80_0000);
            var tables = new RandomGuestTables(seed * 31 + 7, memory, mode);
            tables.Populate(60);
            CpuState cpu = tables.PickCpu();

            // A supervisor read with no SMAP or SMEP, and a PKRU that lets every key through, sees every mapping.
            CpuState reader = cpu with { Cr4 = cpu.Cr4 & ~(Cr4.SMAP | Cr4.SMEP), Pkru = 0 };
            IGuestPageWalker walker = PagingModes.CreateWalker(memory, reader);
            if (walker is PaeWalker { RegisterLoadFaulted: true })
            {
                continue;
            }

            var space = new AddressSpace(mode, memory, cpu, walker is PaeWalker pae ? pae.PdpteRegisters : default);
            var collect = new Collect();
            AddressSpaceCounts counts = space.Enumerate(ref collect);
            Assert.Equal(collect.Pages.Count, counts.Pages);
            Assert.Equal(collect.Pages.OrderBy(p => p.Va).Select(p => p.Va), collect.Pages.Select(p => p.Va));

            var rng = new System.Random(seed);
            var walk = default(GuestWalk);
            foreach (MappedPage page in collect.Pages)
            {
                foreach (ulong offset in new[] { 0UL, page.Size - 1, (ulong)rng.NextInt64((long)page.Size) })
                {
                    walker.WalkAddr(ref walk, page.Va + offset, AccessKind.Read, 0, false);
                    Assert.True(walk.Fault == WalkFault.None, $"{mode.Name} seed {seed}: 0x{page.Va + offset:x} listed but walks to {walk.Fault}");
                    Assert.Equal(page.Pa + offset, walk.PhysicalAddress);
                    Assert.Equal(page.Size, walk.PageSize);
                    Assert.Equal(page.Access, walk.PteAccess);
                    Assert.Equal(page.Level, walk.Level);
                    Assert.Equal(page.ProtectionKey, walk.ProtectionKey);
                }

                pagesChecked++;
            }

            // Whatever translates is listed.
            IEnumerable<ulong> probes = tables.MappedVas.Concat(Enumerable.Range(0, 200).Select(_ => (ulong)rng.NextInt64() & ((1UL << mode.LinearBits) - 1)));
            foreach (ulong va in probes)
            {
                walker.WalkAddr(ref walk, va, AccessKind.Read, 0, false);
                if (walk.Fault != WalkFault.None)
                {
                    continue;
                }

                MappedPage page = Assert.Single(collect.Pages, p => walk.Va >= p.Va && walk.Va - p.Va < p.Size);
                Assert.Equal(page.Pa + (walk.Va - page.Va), walk.PhysicalAddress);
                walksChecked++;
            }
        }

        Assert.True(pagesChecked > 200 && walksChecked > 200, $"{pagesChecked} pages, {walksChecked} walks");
    }

    [Fact]
    public void Absent_subtrees_are_skipped_and_tables_outside_memory_counted()
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == "long4");
        using GuestMemory memory = GuestMemory.Allocate(0x40_0000);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x10_0000);
        builder.Map(0xFFFF_8000_0000_0000, 0x20_0000, 0x20_0000, 0x3);
        builder.Map(0x7FFF_F000, 0x30_0000, 0x1000, 0x7);
        memory.WriteEntry(builder.Root + 8 * 300, 0x7FFF_F000 | 0x7, 8); // a PML4E pointing past the end of memory
        memory.WriteEntry(builder.Root + 8 * 301, 0x5000 | 0x7 | (1UL << 7), 8); // PS in a PML4E is reserved

        var space = new AddressSpace(mode, memory, PagingModeFacts.Of(mode).SelectingState(builder.Root));
        var collect = new Collect();
        AddressSpaceCounts counts = space.Enumerate(ref collect);

        Assert.Equal(new[] { 0x7FFF_F000UL, 0xFFFF_8000_0000_0000UL }, collect.Pages.Select(p => p.Va));
        Assert.Equal(new[] { 0x1000UL, 0x20_0000UL }, collect.Pages.Select(p => p.Size));
        Assert.Equal(AccessRights.All, collect.Pages[0].Access);
        Assert.Equal(AccessRights.Write | AccessRights.Execute, collect.Pages[1].Access);
        Assert.Equal(1, counts.TablesOutsideMemory);
        Assert.Equal(1, counts.ReservedEntries);
        Assert.Equal(6, counts.Tables);
    }
}
