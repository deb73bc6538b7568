using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Threading.Tasks;
using ShadowMmu.Dumps;
using ShadowMmu.Tests.Differential;
using ShadowMmu.Tests.RealGuests;
using Xunit;

namespace ShadowMmu.Tests.Paging;

/// <summary>
/// <see cref="AddressTranslator"/>: a debugger's view of a guest's memory. It answers as the generated walker answers
/// on the memory itself, stores nothing (not even the A/D flags that walker sets), allocates nothing, and may be used
/// from several threads at once; and on the real Linux guests it lands where QEMU's gva2gpa does.
/// </summary>
public sealed class AddressTranslatorTests
{
    public static TheoryData<string> Modes => new() { "legacy32", "pae", "long4", "long5" };

    [Theory]
    [MemberData(nameof(Modes))]
    public void Translates_as_the_walker_does_on_random_tables_and_stores_nothing(string modeName)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        int compared = 0, translated = 0;
        for (int seed = 0; seed < 12; seed++)
        {
            using GuestMemory memory = GuestMemory.Allocate(0x40_0000);
            var tables = new RandomGuestTables((seed * 31) + modeName.Length, memory, mode);
            tables.Populate(200);
            byte[] before = Hash(memory);
            for (int state = 0; state < 6; state++)
            {
                CpuState cpu = tables.PickCpu();
                var cases = Enumerable.Range(0, 200).Select(_ => tables.PickCase(cpu)).ToArray();
                foreach (var group in cases.GroupBy(c => (c.Kind, c.Cpl, c.Ac)))
                {
                    ulong[] vas = group.Select(c => c.Va).Concat(tables.MappedVas.Take(20)).ToArray();
                    var results = new AddressTranslation[vas.Length];
                    translated += new AddressTranslator(memory, cpu, strictRootRegisters: true).Translate(vas, results, group.Key.Kind, group.Key.Cpl, group.Key.Ac);
                    Assert.Equal(before, Hash(memory));

                    // The walker itself, on the memory, its A/D flags put back after each walk.
                    IGuestPageWalker walker = PagingModes.CreateWalker(modeName, memory, cpu);
                    for (int i = 0; i < vas.Length; i++)
                    {
                        var walk = default(GuestWalk);
                        walker.WalkAddr(ref walk, vas[i], group.Key.Kind, group.Key.Cpl, group.Key.Ac);
                        for (int u = walk.UpdateCount - 1; u >= 0; u--)
                        {
                            memory.WriteEntry(walk.Updates[u].Gpa, walk.Updates[u].Old, mode.EntryBytes);
                        }

                        var expected = new AddressTranslation(vas[i], walk.PhysicalAddress, walk.PageSize, walk.Fault, walk.ErrorCode, walk.Level, walk.PteAccess);
                        Assert.Equal(expected, results[i]);
                        compared++;
                    }
                }
            }
        }

        Assert.True(compared > 10_000 && translated > compared / 10, $"{compared} compared, {translated} translated");
    }

    [Fact]
    public void A_write_through_the_translator_lists_nothing_and_leaves_the_flags_unset()
    {
        using GuestMemory memory = GuestMemory.Allocate(0x40_0000);
        var builder = new PageTableBuilder(memory, PagingModes.All.Single(m => m.Name == "long4"), 0x1000, 0x10_0000);
        ulong pte = builder.Map(0x7FFF_0000, 0x20_0000, 0x1000, 0x7);
        var cpu = new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, builder.Root, Cr4.PAE, Efer.LME | Efer.LMA | Efer.NXE);
        var results = new AddressTranslation[1];

        int translated = new AddressTranslator(memory, cpu).Translate(new ulong[] { 0x7FFF_0123 }, results, AccessKind.Write, 3);

        Assert.Equal(1, translated);
        Assert.Equal(0x20_0123UL, results[0].Pa);
        Assert.Equal(0x7UL, memory.ReadEntry(pte, 8) & 0x67);   // neither A nor D
    }

    [Fact]
    public void Translates_without_allocating()
    {
        using GuestMemory memory = GuestMemory.Allocate(0x40_0000);
        var tables = new RandomGuestTables(5, memory, PagingModes.All.Single(m => m.Name == "long4"));
        tables.Populate(100);
        var translator = new AddressTranslator(memory, tables.PickCpu() with { Cr0 = Cr0.PG | Cr0.PE });
        ulong[] vas = tables.MappedVas.ToArray();
        var results = new AddressTranslation[vas.Length];
        translator.Translate(vas, results, AccessKind.Write);

        Assert.Equal(0, SteadyStateAllocation.BytesPerRound(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                translator.Translate(vas, results, AccessKind.Write);
            }
        }));
    }

    [Fact]
    public void Threads_translating_at_once_see_the_same_memory()
    {
        using GuestMemory memory = GuestMemory.Allocate(0x40_0000);
        var tables = new RandomGuestTables(9, memory, PagingModes.All.Single(m => m.Name == "long4"));
        tables.Populate(200);
        var translator = new AddressTranslator(memory, tables.PickCpu() with { Cr0 = Cr0.PG | Cr0.PE });
        ulong[] vas = tables.MappedVas.Concat(tables.MappedVas.Select(va => va ^ 0x40_0000)).ToArray();
        var expected = new AddressTranslation[vas.Length];
        translator.Translate(vas, expected, AccessKind.Write);

        var answers = new AddressTranslation[4][];
        Parallel.For(0, 4, t =>
        {
            answers[t] = new AddressTranslation[vas.Length];
            for (int round = 0; round < 200; round++)
            {
                translator.Translate(vas, answers[t], AccessKind.Write);
            }
        });

        Assert.All(answers, a => Assert.Equal(expected, a));
    }

    [Fact]
    public void A_read_only_view_reads_the_same_bytes_compares_and_refuses_writes()
    {
        using GuestMemory memory = GuestMemory.Allocate(0x1000);
        memory.WriteUInt64(8, 0x1234);
        using GuestMemory view = memory.CreateReadOnlyView();

        Assert.True(view.IsReadOnly);
        Assert.False(memory.IsReadOnly);
        Assert.Equal(0x1234UL, view.ReadEntry(8, 8));
        Assert.True(view.TryCompareExchangeUInt64(8, 0x1234, 0x5678));
        Assert.False(view.TryCompareExchangeUInt64(8, 0x9999, 0x5678));
        Assert.True(view.TryCompareExchangeUInt32(8, 0x1234, 0x5678));
        Assert.Equal(0x1234UL, memory.ReadEntry(8, 8));
        Assert.Throws<InvalidOperationException>(() => view.WriteUInt64(8, 1));
        Assert.Throws<InvalidOperationException>(() => view.WriteEntry(8, 1, 4));
        Assert.Throws<InvalidOperationException>(() => view.Write(0, new byte[4]));
        memory.WriteUInt64(8, 0x42);
        Assert.Equal(0x42UL, view.ReadEntry(8, 8));
        view.Dispose();
        Assert.Equal(0x42UL, memory.ReadEntry(8, 8));   // the view freed nothing
    }

    /// <summary>
    /// A PAE image whose PDPT has bit 5 set in a present entry after the load (as QEMU's TCG leaves it): by default the
    /// translator reads the entry as the register held it, and says which bits it ignored; strictly, as the SDM's MOV to
    /// CR3, every address is #GP; given registers are used as given, and checked as a load checks them.
    /// </summary>
    [Fact]
    public void Pae_reads_the_images_pdptes_as_the_registers_held_them_unless_told_otherwise()
    {
        using GuestMemory memory = GuestMemory.Allocate(0x10_0000);
        var cpu = new CpuState(Cr0.PG | Cr0.PE, 0x1020, Cr4.PAE, 0);
        memory.WriteUInt64(0x1020, 0x2000 | 0x21);          // PDPTE 0, bit 5 set: reserved in the register
        memory.WriteUInt64(0x2000, 0x3000 | 0x3);           // PDE 0 -> page table
        memory.WriteUInt64(0x3000 + (5 * 8), 0x7000 | 0x3); // PTE 5 -> frame 0x7000
        const ulong va = 0x5123;

        var lenient = new AddressTranslator(memory, cpu);
        Assert.True(lenient.TryTranslate(va, out ulong pa));
        Assert.Equal(0x7123UL, pa);
        Assert.Equal(0x20UL, lenient.IgnoredRootRegisterBits);

        var results = new AddressTranslation[1];
        Assert.Equal(0, new AddressTranslator(memory, cpu, strictRootRegisters: true).Translate(new[] { va }, results));
        Assert.Equal(WalkFault.GeneralProtection, results[0].Fault);

        ulong[] given = { 0x2001, 0, 0, 0 };
        Assert.True(new AddressTranslator(memory, cpu, given).TryTranslate(va, out pa));
        Assert.Equal(0x7123UL, pa);
        Assert.Equal(0, new AddressTranslator(memory, cpu, new ulong[] { 0x2021, 0, 0, 0 }).Translate(new[] { va }, results));
        Assert.Equal(WalkFault.GeneralProtection, results[0].Fault);
        Assert.Throws<ArgumentException>(() => new AddressTranslator(memory, cpu, new ulong[] { 0x2001 }));

        var long4 = new CpuState(Cr0.PG | Cr0.PE, 0x1000, Cr4.PAE, Efer.LME | Efer.LMA);
        Assert.Throws<ArgumentException>(() => new AddressTranslator(memory, long4, given));
        Assert.Equal(0UL, new AddressTranslator(memory, long4).IgnoredRootRegisterBits);
    }

    public static TheoryData<string, int, int> RealVcpus()
    {
        var data = new TheoryData<string, int, int>();
        foreach (string mode in new[] { "long4", "long5", "pae", "legacy32" })
        {
            for (int cpu = 0; cpu < 2; cpu++)
            {
                data.Add(mode, 1, cpu);
            }
        }

        return data;
    }

    /// <summary>
    /// QEMU's gva2gpa is a debug walk: present entries only, rights ignored; a supervisor read with EFLAGS.AC and PKRU 0
    /// is refused by nothing but a reserved bit. PAE's PDPTEs in these images have bit 5 set (QEMU's accessed flag), which
    /// the translator reads as the registers held them.
    /// </summary>
    [Theory]
    [MemberData(nameof(RealVcpus))]
    public void On_the_real_guests_it_lands_where_gva2gpa_does(string mode, int stop, int cpu)
    {
        GuestStop guestStop = RealGuestFixtures.Stop(mode, stop);
        VcpuRecord vcpu = guestStop.Cpus[cpu];
        QemuRegisters r = vcpu.Registers;
        using MemoryDump dump = MemoryDump.Open(guestStop.RawPath);
        var translator = new AddressTranslator(dump.Memory, new CpuState(r.Cr0, r.PagingCr3, r.Cr4, r.Efer));
        IReadOnlyList<Gva2GpaSample> samples = vcpu.Gva2Gpa;
        var results = new AddressTranslation[samples.Count];

        translator.Translate(samples.Select(s => s.Va).ToArray(), results, AccessKind.Read, 0, ac: true);

        for (int i = 0; i < samples.Count; i++)
        {
            Assert.True(samples[i].Gpa == (results[i].Translated ? results[i].Pa : null), $"0x{samples[i].Va:x}: QEMU {samples[i].Gpa:x}, the translator {results[i]}");
        }
    }

    private static byte[] Hash(GuestMemory memory)
    {
        byte[] bytes = new byte[memory.Size];
        memory.Read(0, bytes);
        return SHA256.HashData(bytes);
    }
}
