using System;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Xunit;

namespace ShadowMmu.Tests.Generator;

/// <summary>Adding a paging mode is writing one spec file: a spec the library does not ship becomes a working walker.</summary>
public class ConsumerSpecTests
{
    // A made-up 3-level format: 39-bit canonical linear addresses, 2 MiB pages at level 2, no NX, no protection keys.
    private const string Tiny3 = """
        mode tiny3
        title A made-up 3-level format
        entry-bytes 8
        linear-bits 39 canonical
        root CR3 51:12
        bit present 0
        bit writable 1
        bit user 2
        bit accessed 5
        bit dirty 6
        bit page-size 7
        level 3 L3E
          index 38:30
          table 51:12
          reserved 7
        level 2 L2E
          index 29:21
          table 51:12
          page 2M frame 51:21
          reserved 20:13 in page
        level 1 L1E
          index 20:12
          page 4K frame 51:12
        """;

    [Fact]
    public void A_spec_the_library_does_not_ship_walks_through_generated_code()
    {
        var (result, output, _) = GeneratorHarness.Run(("/consumer/tiny3.paging", Tiny3));
        Assert.Empty(result.Diagnostics);
        Assembly assembly = GeneratorHarness.Load(output);
        Type walkerType = assembly.GetType("Consumer.Tiny3Walker", throwOnError: true)!;

        using GuestMemory memory = GuestMemory.Allocate(0x10_0000);
        // L3[1] -> L2 at 0x2000; L2[3] -> L1 at 0x3000; L1[5] -> page 0x8_0000, user, writable, A clear.
        memory.WriteUInt64(0x1000 + (1 * 8), 0x2000 | 0x7);
        memory.WriteUInt64(0x2000 + (3 * 8), 0x3000 | 0x7);
        memory.WriteUInt64(0x3000 + (5 * 8), 0x8_0000 | 0x7);
        // L2[4] maps a 2 MiB page at 0x20_0000, supervisor only.
        memory.WriteUInt64(0x2000 + (4 * 8), 0x20_0000 | 0x83);
        var cpu = new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, 0x1000, 0, 0);
        var walker = (IGuestPageWalker)Activator.CreateInstance(walkerType, memory, cpu)!;

        ulong va = (1UL << 30) | (3UL << 21) | (5UL << 12) | 0x123;
        var walk = default(GuestWalk);
        Assert.True(walker.WalkAddr(ref walk, va, AccessKind.Write, 3, false), walk.ToString());
        Assert.Equal(0x8_0123UL, walk.PhysicalAddress);
        Assert.Equal(0x1000UL, walk.PageSize);
        Assert.Equal(0x67UL, memory.ReadEntry(0x3000 + (5 * 8), 8) & 0xFFF);   // A and D set in the leaf

        ulong large = (1UL << 30) | (4UL << 21) | 0x1_2345;
        Assert.False(walker.WalkAddr(ref walk, large, AccessKind.Read, 3, false));
        Assert.Equal(PageFaultErrorCode.Present | PageFaultErrorCode.User, walk.ErrorCode);
        Assert.True(walker.WalkAddr(ref walk, large, AccessKind.Read, 0, false));
        Assert.Equal(0x21_2345UL, walk.PhysicalAddress);

        // 39-bit canonical: bit 39 set without bits 63:40 is a #GP.
        Assert.False(walker.WalkAddr(ref walk, 1UL << 39, AccessKind.Read, 0, false));
        Assert.Equal(WalkFault.GeneralProtection, walk.Fault);

        var modes = (PagingModeInfo[])assembly.GetType("Consumer.GeneratedPagingModes")!.GetField("All")!.GetValue(null)!;
        Assert.Equal("tiny3", modes.Single().Name);
    }

    [Fact]
    public void A_spec_whose_tables_may_be_unaligned_reads_its_entries_as_the_reference_walker_does()
    {
        // Tiny3 with table addresses that keep bits 3:2: an entry may start 4 bytes into an 8-byte slot. The generated
        // walk reads those levels with the checked (unaligned) read, and the aligned one only where it is safe.
        string unaligned = Tiny3.Replace("mode tiny3", "mode tiny3u").Replace("root CR3 51:12", "root CR3 51:2")
            .Replace("  index 38:30\n  table 51:12", "  index 38:30\n  table 51:2");
        var (result, output, _) = GeneratorHarness.Run(("/consumer/tiny3u.paging", unaligned));

        // The walk is generated; the two-dimensional one is not (an entry is read through EPT with one aligned load),
        // and the generator says so at the level whose entries may be unaligned.
        Diagnostic note = Assert.Single(result.Diagnostics);
        Assert.Equal(("MMUG014", DiagnosticSeverity.Info), (note.Id, note.Severity));
        Assert.Contains("Tiny3uWalker gets no WalkNested", note.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(unaligned.Split('\n').ToList().FindIndex(line => line.StartsWith("level 3", StringComparison.Ordinal)),
            note.Location.GetLineSpan().StartLinePosition.Line);
        string source = result.GeneratedTrees.Single(t => t.FilePath.EndsWith("Tiny3uWalker.g.cs", StringComparison.Ordinal)).ToString();
        Assert.Equal(2, CountOf(source, "The table's address may leave the entry unaligned"));   // levels 3 and 2; level 1 is aligned
        Assembly assembly = GeneratorHarness.Load(output);
        Type walkerType = assembly.GetType("Consumer.Tiny3uWalker", throwOnError: true)!;
        var info = (PagingModeInfo)walkerType.GetField("Info")!.GetValue(null)!;

        using GuestMemory memory = GuestMemory.Allocate(0x10_0000);
        // CR3 = 0x1004: L3[1] at 0x100C -> L2 table at 0x2024 (the entry's flag bits 5 and 2, A and U, are address bits
        // too); L2[3] at 0x203C -> L1 at 0x3000; L1[5] -> page 0x8_0000. Every A flag is set, so a read changes nothing.
        memory.WriteUInt64(0x100C, 0x2024 | 0x3);
        memory.WriteUInt64(0x203C, 0x3000 | 0x27);
        memory.WriteUInt64(0x3000 + (5 * 8), 0x8_0000 | 0x27);
        var cpu = new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, 0x1004, 0, 0);
        var walker = (IGuestPageWalker)Activator.CreateInstance(walkerType, memory, cpu)!;
        ReferenceWalker reference = ReferenceWalker.For(info, memory, cpu);

        ulong va = (1UL << 30) | (3UL << 21) | (5UL << 12) | 0x123;
        var walk = default(GuestWalk);
        var expected = default(GuestWalk);
        Assert.True(reference.WalkAddr(ref expected, va, AccessKind.Read, 3, false), expected.ToString());
        Assert.True(walker.WalkAddr(ref walk, va, AccessKind.Read, 3, false), walk.ToString());
        Assert.Equal(0x8_0123UL, walk.PhysicalAddress);
        for (int level = 3; level >= 1; level--)
        {
            Assert.Equal(expected.PteGpa[level - 1], walk.PteGpa[level - 1]);
            Assert.Equal(expected.Ptes[level - 1], walk.Ptes[level - 1]);
        }

        Assert.Equal(0x100CUL, walk.PteGpa[2]);
        Assert.Equal(0x203CUL, walk.PteGpa[1]);

        static int CountOf(string text, string part) => (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;
    }

    [Fact]
    public void Generated_code_compiles_as_CSharp_12_the_language_of_the_NET_8_SDK()
    {
        var specs = new[] { "legacy32", "pae", "long4", "long5" }
            .Select(m => (Microsoft.CodeAnalysis.AdditionalText)new GeneratorHarness.InMemoryAdditionalText("/specs/" + m + ".paging", GeneratorHarness.BuiltInSpec(m)));
        var compilation = GeneratorHarness.NewCompilation(Microsoft.CodeAnalysis.CSharp.LanguageVersion.CSharp12, "namespace Consumer { class A { } }");
        GeneratorHarness.NewDriver(specs, version: Microsoft.CodeAnalysis.CSharp.LanguageVersion.CSharp12)
            .RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);

        Assert.Equal(6, output.SyntaxTrees.Count());
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error));
    }

    [Fact]
    public void Long_mode_without_execute_disable_is_one_spec_edit()
    {
        string noNx = GeneratorHarness.BuiltInSpec("long4")
            .Replace("mode long4", "mode long4nonx")
            .Replace("bit execute-disable 63 when EFER.NXE\n", "")
            .Replace("  reserved 63 unless EFER.NXE\n", "  reserved 63\n");
        var (result, output, _) = GeneratorHarness.Run(("/consumer/long4nonx.paging", noNx));
        Assert.Empty(result.Diagnostics);
        Type walkerType = GeneratorHarness.Load(output).GetType("Consumer.Long4nonxWalker", throwOnError: true)!;

        using GuestMemory memory = GuestMemory.Allocate(0x10_0000);
        var builder = new PageTableBuilder(memory, PagingModes.All.Single(m => m.Name == "long4"), 0x1000, 0x8_0000);
        builder.Map(0x40_0000, 0x9_0000, 0x1000, 0x7);
        var cpu = new CpuState(Cr0.PG | Cr0.PE, builder.Root, Cr4.PAE, Efer.LME | Efer.NXE);
        var walker = (IGuestPageWalker)Activator.CreateInstance(walkerType, memory, cpu)!;
        var walk = default(GuestWalk);

        // A fetch succeeds (no XD bit at all), and bit 63 is reserved whatever EFER.NXE says.
        Assert.True(walker.WalkAddr(ref walk, 0x40_0000, AccessKind.Fetch, 3, false), walk.ToString());
        ulong leaf = builder.EntryAddress(0x40_0000, 1)!.Value;
        memory.WriteUInt64(leaf, memory.ReadEntry(leaf, 8) | (1UL << 63));
        Assert.False(walker.WalkAddr(ref walk, 0x40_0000, AccessKind.Read, 3, false));
        Assert.Equal(PageFaultErrorCode.Present | PageFaultErrorCode.Reserved | PageFaultErrorCode.User, walk.ErrorCode);
    }
}
