using System;
using System.Linq;
using ShadowMmu.Tests.Paging.Reference;
using Xunit;
using static ShadowMmu.Tests.Paging.Reference.ReferenceWalkerHarness;

namespace ShadowMmu.Tests.Paging;

/// <summary>
/// The reference walker as an object: built from spec text or a built-in mode, rejecting invalid specs. The walks
/// themselves are tested per mode in <c>Paging/Reference/</c>.
/// </summary>
public sealed class ReferenceWalkerTests
{
    private static readonly CpuState Long4Cpu = Long4Tables.Cpu();

    public static TheoryData<string> BuiltInModes => new(PagingModes.All.Select(m => m.Name));

    [Theory]
    [MemberData(nameof(BuiltInModes))]
    public void For_BuiltInMode_DescribesTheSameMode(string name)
    {
        using GuestMemory memory = GuestMemory.Allocate(MemorySize);
        PagingModeInfo mode = Mode(name);
        var walker = ReferenceWalker.For(mode, memory, Long4Cpu);

        Assert.Equal(mode, walker.Mode);
        Assert.Same(memory, walker.Memory);
        Assert.False(walker.RegisterLoadFaulted);
    }

    [Fact]
    public void BuiltInModes_HaveTheSdmShapes()
    {
        using GuestMemory memory = GuestMemory.Allocate(MemorySize);
        (string Name, int Levels, int EntryBytes, int LinearBits)[] expected =
        {
            ("legacy32", 2, 4, 32),
            ("pae", 3, 8, 32),
            ("long4", 4, 8, 48),
            ("long5", 5, 8, 57),
        };

        foreach (var (name, levels, entryBytes, linearBits) in expected)
        {
            PagingModeInfo mode = ReferenceWalker.For(Mode(name), memory, Long4Cpu).Mode;
            Assert.Equal(levels, mode.RootLevel);
            Assert.Equal(entryBytes, mode.EntryBytes);
            Assert.Equal(linearBits, mode.LinearBits);
        }
    }

    [Fact]
    public void Constructor_FromSpecText_NamesTheSpecReference()
    {
        using GuestMemory memory = GuestMemory.Allocate(MemorySize);
        string text = Mode("long4").SpecText;
        var walker = new ReferenceWalker(text, memory, Long4Cpu);

        Assert.Equal("long4", walker.Mode.Name);
        Assert.Equal("4-level paging", walker.Mode.Title);
        Assert.Equal("(reference)", walker.Mode.SpecFile);
        Assert.Equal(text, walker.Mode.SpecText);
    }

    [Fact]
    public void Constructor_FromSpecText_Walks()
    {
        using GuestMemory memory = Long4Tables.Build();
        var walker = new ReferenceWalker(Mode("long4").SpecText, memory, Long4Cpu);

        Assert.True(Run(walker, Long4Tables.Va4K, out GuestWalk walk));
        Assert.Equal(0xABCD123UL, walk.PhysicalAddress);
    }

    [Theory]
    // A missing required statement (entry-bytes, linear-bits, root, flags, levels).
    [InlineData("mode broken\n", "MMUG002")]
    // An unknown statement.
    [InlineData("mode broken\nfrobnicate 3\n", "MMUG010")]
    // An unknown condition.
    [InlineData("mode broken\nentry-bytes 8\nlinear-bits 21\nroot CR3 51:12\nbit present 0\nbit writable 1\nbit user 2\n"
        + "bit execute-disable 63 when EFER.XYZ\nlevel 2 PDE\n index 20:12\n table 51:12\nlevel 1 PTE\n index 11:0\n page 4K frame 51:12\n",
        "MMUG006")]
    public void InvalidSpec_IsArgumentException_ListingTheDiagnostics(string text, string id)
    {
        using GuestMemory memory = GuestMemory.Allocate(MemorySize);

        var error = Assert.Throws<ArgumentException>(() => new ReferenceWalker(text, memory, Long4Cpu));
        Assert.Contains(id, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidSpec_UnknownConditionMessage_UsesTheSharedFormat()
    {
        using GuestMemory memory = GuestMemory.Allocate(MemorySize);
        string text = Mode("long4").SpecText.Replace("when EFER.NXE", "when EFER.XYZ", StringComparison.Ordinal);

        var error = Assert.Throws<ArgumentException>(() => new ReferenceWalker(text, memory, Long4Cpu));
        Assert.Contains("Unknown condition 'EFER.XYZ'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RegisterLevelBelowTheRoot_IsArgumentException()
    {
        using GuestMemory memory = GuestMemory.Allocate(MemorySize);
        // Long5's PML4E maps no page, so the parser accepts it as a register level; only the root can be one.
        string text = Mode("long5").SpecText.Replace("level 4 PML4E\n", "level 4 PML4E\n  register\n", StringComparison.Ordinal);
        Assert.Contains("register", text, StringComparison.Ordinal);

        var error = Assert.Throws<ArgumentException>(() => new ReferenceWalker(text, memory, Long4Cpu));
        Assert.Contains("only the root level", error.Message, StringComparison.Ordinal);
    }
}
