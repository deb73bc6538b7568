using Xunit;
using static ShadowMmu.Tests.Paging.Reference.ReferenceWalkerHarness;

namespace ShadowMmu.Tests.Paging.Reference;

/// <summary>5-level paging: a PML5 above the 4-level tree, 57-bit linear addresses canonical from bit 56.</summary>
public sealed class ReferenceWalkerLong5Tests
{
    // PML5 index 1, PML4 index 2, PDPT index 3, PD index 4, PT index 5, offset 0x678.
    private const ulong Va4K = (1UL << 48) | (2UL << 39) | (3UL << 30) | (4UL << 21) | (5UL << 12) | 0x678;

    private static CpuState Cpu(CpuFeatures features = CpuFeatures.All) =>
        new(Cr0PE | Cr0PG | Cr0WP, 0x1000, Cr4PAE | Cr4LA57, EferLME | EferNXE, 0, 40, features);

    private static GuestMemory Build()
    {
        GuestMemory memory = GuestMemory.Allocate(MemorySize);
        memory.WriteUInt64(0x1000 + (1 * 8), 0x2000 | P | RW | US);
        memory.WriteUInt64(0x2000 + (2 * 8), 0x3000 | P | RW | US);
        memory.WriteUInt64(0x3000 + (3 * 8), 0x4000 | P | RW | US);
        memory.WriteUInt64(0x4000 + (4 * 8), 0x5000 | P | RW | US);
        memory.WriteUInt64(0x5000 + (5 * 8), 0xABCD000 | P | RW | US);
        return memory;
    }

    [Fact]
    public void Page4K_TranslatesThroughFiveLevels()
    {
        using GuestMemory memory = Build();
        var walker = Walker("long5", memory, Cpu());

        Assert.True(Run(walker, Va4K, out GuestWalk walk, AccessKind.Write));
        Assert.Equal(0xABCD678UL, walk.PhysicalAddress);
        Assert.Equal(0x1000UL, walk.PageSize);
        Assert.Equal(5, walk.MaxLevel);
        Assert.Equal(1, walk.Level);
        Assert.Equal(0x1008UL, walk.PteGpa[4]);
        Assert.Equal(5, walk.UpdateCount);
        Assert.Equal(0x2000 | P | RW | US | A, memory.ReadEntry(0x1008, 8));
        Assert.Equal(0xABCD000 | P | RW | US | A | D, memory.ReadEntry(0x5028, 8));
    }

    [Fact]
    public void Page1G_TranslatesFromThePdpte()
    {
        using GuestMemory memory = Build();
        memory.WriteUInt64(0x3000 + (6 * 8), 0x8000_0000 | PS | P | RW | US);
        var walker = Walker("long5", memory, Cpu());

        ulong va = (1UL << 48) | (2UL << 39) | (6UL << 30) | 0x1234_5678;
        Assert.True(Run(walker, va, out GuestWalk walk));
        Assert.Equal(0x9234_5678UL, walk.PhysicalAddress);
        Assert.Equal(3, walk.Level);

        var noGb = Walker("long5", memory, Cpu(CpuFeatures.All & ~CpuFeatures.Page1Gb));
        Assert.False(Run(noGb, va, out walk));
        Assert.Equal(0x9u, walk.ErrorCode);
    }

    [Fact]
    public void Pml5eBit7_IsReserved()
    {
        using GuestMemory memory = Build();
        memory.WriteUInt64(0x1008, 0x2000 | PS | P | RW | US);
        var walker = Walker("long5", memory, Cpu());

        Assert.False(Run(walker, Va4K, out GuestWalk walk));
        Assert.Equal(0x9u, walk.ErrorCode);
        Assert.Equal(5, walk.Level);
    }

    [Theory]
    // Bit 56 set with 63:57 clear, and the reverse.
    [InlineData(0x0100_0000_0000_0000UL)]
    [InlineData(0xFE00_0000_0000_0000UL)]
    public void NonCanonicalAddress_IsGeneralProtection(ulong va)
    {
        using GuestMemory memory = Build();
        var walker = Walker("long5", memory, Cpu());

        Assert.False(Run(walker, va, out GuestWalk walk));
        Assert.Equal(WalkFault.GeneralProtection, walk.Fault);
    }

    [Fact]
    public void AddressNonCanonicalIn4LevelPaging_IsWalked()
    {
        // Bit 47 set, 63:48 clear: non-canonical with 48 bits, an ordinary address with 57.
        using GuestMemory memory = Build();
        var walker = Walker("long5", memory, Cpu());

        Assert.False(Run(walker, 0x0000_8000_0000_0000UL, out GuestWalk walk));
        Assert.Equal(WalkFault.PageFault, walk.Fault);
        Assert.Equal(0x0u, walk.ErrorCode);
        // PML5 index 0 (bits 56:48): that entry is not present.
        Assert.Equal(5, walk.Level);
        Assert.Equal(0x1000UL, walk.PteGpa[4]);
    }
}
