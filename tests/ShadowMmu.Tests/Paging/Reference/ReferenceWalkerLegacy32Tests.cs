using Xunit;
using static ShadowMmu.Tests.Paging.Reference.ReferenceWalkerHarness;

namespace ShadowMmu.Tests.Paging.Reference;

/// <summary>
/// 32-bit paging: 4-byte entries, 4 KiB pages, 4 MiB pages with CR4.PSE (PS ignored without it), and PSE-36, whose
/// PDE bits 20:13 hold physical-address bits 39:32 up to MAXPHYADDR (SDM table "Format of a 32-Bit Page-Directory
/// Entry that Maps a 4-MByte Page").
/// </summary>
public sealed class ReferenceWalkerLegacy32Tests
{
    private const ulong Pd = 0x1000;
    private const ulong Pt = 0x2000;

    // PD index 3, PT index 5, offset 0x678.
    private const ulong Va4K = (3UL << 22) | (5UL << 12) | 0x678;
    private const ulong PdeGpa = Pd + (3 * 4);
    private const ulong PteGpa = Pt + (5 * 4);

    private static CpuState Cpu(bool pse = true, int maxPhysAddr = 40, CpuFeatures features = CpuFeatures.All, ulong cr4Extra = 0,
        ulong efer = 0) =>
        new(Cr0PE | Cr0PG | Cr0WP, Pd, (pse ? Cr4PSE : 0) | cr4Extra, efer, 0, maxPhysAddr, features);

    private static GuestMemory Build()
    {
        GuestMemory memory = GuestMemory.Allocate(MemorySize);
        memory.WriteUInt32(PdeGpa, (uint)(Pt | P | RW | US));
        memory.WriteUInt32(PteGpa, (uint)(0xABC000 | P | RW | US));
        return memory;
    }

    // A 4 MiB PDE at index 6, read with offset 0x1234.
    private static ulong Map4M(GuestMemory memory, ulong pde)
    {
        memory.WriteUInt32(Pd + (6 * 4), (uint)pde);
        return (6UL << 22) | 0x1234;
    }

    [Fact]
    public void Page4K_TranslatesAndSetsAccessedThenDirty()
    {
        using GuestMemory memory = Build();
        var walker = Walker("legacy32", memory, Cpu());

        Assert.True(Run(walker, Va4K, out GuestWalk walk));
        Assert.Equal(0xABC678UL, walk.PhysicalAddress);
        Assert.Equal(0x1000UL, walk.PageSize);
        Assert.Equal(1, walk.Level);
        Assert.Equal(2, walk.MaxLevel);
        Assert.Equal(7u, walk.PteAccess);
        Assert.Equal(PdeGpa, walk.PteGpa[1]);
        Assert.Equal(PteGpa, walk.PteGpa[0]);
        Assert.Equal(Pt | P | RW | US | A, memory.ReadEntry(PdeGpa, 4));
        Assert.Equal(0xABC000 | P | RW | US | A, memory.ReadEntry(PteGpa, 4));
        Assert.Equal(2, walk.UpdateCount);

        Assert.True(Run(walker, Va4K, out walk, AccessKind.Write));
        Assert.Equal(0xABC000 | P | RW | US | A | D, memory.ReadEntry(PteGpa, 4));
        Assert.Equal(1, walk.UpdateCount);
        Assert.Equal(new PteUpdate(PteGpa, 0xABC000 | P | RW | US | A, 0xABC000 | P | RW | US | A | D), walk.Updates[0]);
    }

    [Fact]
    public void LinearAddress_IsTruncatedTo32Bits()
    {
        using GuestMemory memory = Build();
        var walker = Walker("legacy32", memory, Cpu());

        Assert.True(Run(walker, 0xFFFF_FFFF_0000_0000UL | Va4K, out GuestWalk walk));
        Assert.Equal(0xABC678UL, walk.PhysicalAddress);
        Assert.Equal(Va4K, walk.Va);
    }

    [Fact]
    public void Page4M_WithPse()
    {
        using GuestMemory memory = Build();
        ulong va = Map4M(memory, 0x00800000 | PS | P | RW | US);
        var walker = Walker("legacy32", memory, Cpu());

        Assert.True(Run(walker, va, out GuestWalk walk, AccessKind.Write));
        Assert.Equal(0x801234UL, walk.PhysicalAddress);
        Assert.Equal(0x400000UL, walk.PageSize);
        Assert.Equal(2, walk.Level);
        Assert.Equal(0x00800000 | PS | P | RW | US | A | D, memory.ReadEntry(Pd + (6 * 4), 4));
    }

    [Fact]
    public void PageSizeBit_IsIgnoredWithoutPse()
    {
        // PDE 0x3087: PS = 1, address 0x3000. With CR4.PSE = 0 it references the page table at 0x3000; with
        // CR4.PSE = 1 it maps a 4 MiB page whose bit 12 is PAT and bit 13 physical-address bit 32.
        using GuestMemory memory = Build();
        ulong va = Map4M(memory, 0x3000 | PS | P | RW | US);
        memory.WriteUInt32(0x3000 + (1 * 4), (uint)(0x5000 | P | RW | US)); // PT index 1 = va bits 21:12

        var noPse = Walker("legacy32", memory, Cpu(pse: false));
        Assert.True(Run(noPse, va, out GuestWalk walk));
        Assert.Equal(0x5234UL, walk.PhysicalAddress);
        Assert.Equal(0x1000UL, walk.PageSize);
        Assert.Equal(1, walk.Level);

        var pse = Walker("legacy32", memory, Cpu(pse: true));
        Assert.True(Run(pse, va, out walk));
        Assert.Equal(0x1_0000_1234UL, walk.PhysicalAddress);
        Assert.Equal(0x400000UL, walk.PageSize);
    }

    [Theory]
    // Bits 16:13 = 0b0101: physical-address bits 35:32 = 5 (allowed at MAXPHYADDR 36 and 40).
    [InlineData(36, 0x00400000 | (0x5UL << 13), 0x5_0040_1234UL)]
    [InlineData(40, 0x00400000 | (0x5UL << 13), 0x5_0040_1234UL)]
    // Bit 17 holds physical-address bit 36: reserved at MAXPHYADDR 36, allowed at 40.
    [InlineData(36, 0x00400000 | (1UL << 17), 0UL)]
    [InlineData(40, 0x00400000 | (1UL << 17), 0x10_0040_1234UL)]
    // Bits 20:13 all ones: physical-address bits 39:32, the PSE-36 limit, at MAXPHYADDR 40.
    [InlineData(40, 0x00400000 | (0xFFUL << 13), 0xFF_0040_1234UL)]
    // Bit 21 is always reserved in a 4 MiB PDE.
    [InlineData(40, 0x00400000 | (1UL << 21), 0UL)]
    [InlineData(52, 0x00400000 | (1UL << 21), 0UL)]
    public void Pse36(int maxPhysAddr, ulong pdeAddressBits, ulong physicalAddress)
    {
        using GuestMemory memory = Build();
        ulong va = Map4M(memory, pdeAddressBits | PS | P | RW | US);
        var walker = Walker("legacy32", memory, Cpu(maxPhysAddr: maxPhysAddr));

        bool translated = Run(walker, va, out GuestWalk walk);
        if (physicalAddress == 0)
        {
            Assert.False(translated);
            Assert.Equal(0x9u, walk.ErrorCode); // P | RSVD
            Assert.Equal(2, walk.Level);
        }
        else
        {
            Assert.True(translated);
            Assert.Equal(physicalAddress, walk.PhysicalAddress);
        }
    }

    [Fact]
    public void WithoutCpuidPse36_Bits20To13AreReserved()
    {
        using GuestMemory memory = Build();
        ulong va = Map4M(memory, 0x00400000 | (1UL << 13) | PS | P | RW | US);
        var walker = Walker("legacy32", memory, Cpu(features: CpuFeatures.All & ~CpuFeatures.Pse36));

        Assert.False(Run(walker, va, out GuestWalk walk));
        Assert.Equal(0x9u, walk.ErrorCode);

        // The same PDE with CR4.PSE = 0 references a table: nothing is reserved in a 32-bit table entry.
        var noPse = Walker("legacy32", memory, Cpu(pse: false, features: CpuFeatures.All & ~CpuFeatures.Pse36));
        Assert.False(Run(noPse, va, out walk));
        Assert.True(walk.EntryOutsideMemory); // the "table" at 0x402000 is past the 64 KiB of memory
        Assert.Equal(0x0u, walk.ErrorCode);
    }

    [Fact]
    public void NoExecuteDisableBit_FetchErrorCodeHasIdOnlyWithSmep()
    {
        // 32-bit paging has no XD: I/D is reported for fetches only with CR4.SMEP, even with EFER.NXE = 1.
        using GuestMemory memory = Build();
        memory.WriteUInt32(PteGpa, (uint)(0xABC000 | RW | US));

        var nx = Walker("legacy32", memory, Cpu(efer: EferNXE));
        Assert.False(Run(nx, Va4K, out GuestWalk walk, AccessKind.Fetch, cpl: 3));
        Assert.Equal(0x4u, walk.ErrorCode); // U

        var smep = Walker("legacy32", memory, Cpu(cr4Extra: Cr4SMEP));
        Assert.False(Run(smep, Va4K, out walk, AccessKind.Fetch, cpl: 3));
        Assert.Equal(0x14u, walk.ErrorCode); // U | I/D
    }

    [Fact]
    public void UserAccessToSupervisorPage_Faults()
    {
        using GuestMemory memory = Build();
        memory.WriteUInt32(PdeGpa, (uint)(Pt | P | RW));
        var walker = Walker("legacy32", memory, Cpu());

        Assert.False(Run(walker, Va4K, out GuestWalk walk, AccessKind.Read, cpl: 3));
        Assert.Equal(0x5u, walk.ErrorCode); // P | U
        Assert.Equal(1, walk.Level);
    }
}
