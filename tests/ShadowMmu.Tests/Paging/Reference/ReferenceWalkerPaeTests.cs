using Xunit;
using static ShadowMmu.Tests.Paging.Reference.ReferenceWalkerHarness;

namespace ShadowMmu.Tests.Paging.Reference;

/// <summary>
/// PAE paging: the four PDPTEs are registers loaded with CR3 (a present one with a reserved bit makes that load
/// #GP(0)), then a PD and a PT of 8-byte entries (SDM "PAE Paging", "PDPTE Registers").
/// </summary>
public sealed class ReferenceWalkerPaeTests
{
    // CR3 bits 31:5 address the PDPT; bits 4:3 (PWT, PCD) are not part of it.
    private const ulong Cr3 = 0x1020 | 0x18;
    private const ulong Pdpt = 0x1020;
    private const ulong Pd = 0x2000;
    private const ulong Pt = 0x3000;

    // PDPTE 2, PD index 3, PT index 4, offset 0x567.
    private const ulong Va4K = (2UL << 30) | (3UL << 21) | (4UL << 12) | 0x567;
    private const ulong PdpteGpa = Pdpt + (2 * 8);
    private const ulong PdeGpa = Pd + (3 * 8);
    private const ulong PteGpa = Pt + (4 * 8);

    private static CpuState Cpu(int maxPhysAddr = 40, bool nxe = true) =>
        new(Cr0PE | Cr0PG | Cr0WP, Cr3, Cr4PAE, nxe ? EferNXE : 0, 0, maxPhysAddr, CpuFeatures.All);

    // A PDPTE has no R/W or U/S (bits 2:1 are reserved): P and the address only.
    private static GuestMemory Build(ulong pdpte = Pd | P)
    {
        GuestMemory memory = GuestMemory.Allocate(MemorySize);
        memory.WriteUInt64(PdpteGpa, pdpte);
        memory.WriteUInt64(PdeGpa, Pt | P | RW | US);
        memory.WriteUInt64(PteGpa, 0xABCD000 | P | RW | US);
        return memory;
    }

    [Fact]
    public void Page4K_TranslatesThroughThePdpteRegister()
    {
        using GuestMemory memory = Build();
        var walker = Walker("pae", memory, Cpu());
        Assert.False(walker.RegisterLoadFaulted);

        Assert.True(Run(walker, Va4K, out GuestWalk walk));
        Assert.Equal(0xABCD567UL, walk.PhysicalAddress);
        Assert.Equal(0x1000UL, walk.PageSize);
        Assert.Equal(1, walk.Level);
        Assert.Equal(2, walk.MaxLevel);
        Assert.Equal(7u, walk.PteAccess);

        // The register level is recorded too: its "table" is the PDPT.
        Assert.Equal(Pd | P, walk.Ptes[2]);
        Assert.Equal(PdpteGpa, walk.PteGpa[2]);
        Assert.Equal(Pdpt >> 12, walk.TableGfn[2]);
        Assert.Equal(PdeGpa, walk.PteGpa[1]);

        // A is set in the PDE and PTE; a PDPTE has no A flag.
        Assert.Equal(Pd | P, memory.ReadEntry(PdpteGpa, 8));
        Assert.Equal(Pt | P | RW | US | A, memory.ReadEntry(PdeGpa, 8));
        Assert.Equal(0xABCD000 | P | RW | US | A, memory.ReadEntry(PteGpa, 8));
        Assert.Equal(2, walk.UpdateCount);
    }

    [Fact]
    public void Page2M_TranslatesFromThePde()
    {
        using GuestMemory memory = Build();
        memory.WriteUInt64(Pd + (5 * 8), 0x600000 | PS | P | RW | US);
        var walker = Walker("pae", memory, Cpu());

        Assert.True(Run(walker, (2UL << 30) | (5UL << 21) | 0x1ABCD, out GuestWalk walk));
        Assert.Equal(0x61ABCDUL, walk.PhysicalAddress);
        Assert.Equal(0x200000UL, walk.PageSize);
        Assert.Equal(2, walk.Level);
    }

    [Fact]
    public void NotPresentPdpte_IsANotPresentFault()
    {
        using GuestMemory memory = Build();
        var walker = Walker("pae", memory, Cpu());

        Assert.False(Run(walker, 1UL << 30, out GuestWalk walk, AccessKind.Write, cpl: 3));
        Assert.Equal(WalkFault.PageFault, walk.Fault);
        Assert.Equal(0x6u, walk.ErrorCode); // W | U
        Assert.Equal(3, walk.Level);
        Assert.Equal(Pdpt + 8, walk.PteGpa[2]);
    }

    [Theory]
    // Present with R/W (bit 1), U/S (bit 2), A (bit 5), PS (bit 7), bit 8, XD (bit 63), an ignored-elsewhere bit 52,
    // or an address bit at or above MAXPHYADDR 40.
    [InlineData(Pd | P | RW)]
    [InlineData(Pd | P | US)]
    [InlineData(Pd | P | A)]
    [InlineData(Pd | P | PS)]
    [InlineData(Pd | P | (1UL << 8))]
    [InlineData(Pd | P | XD)]
    [InlineData(Pd | P | (1UL << 52))]
    [InlineData(Pd | P | (1UL << 40))]
    public void PdpteWithAReservedBit_MakesTheLoadGeneralProtection(ulong pdpte)
    {
        using GuestMemory memory = Build();
        memory.WriteUInt64(Pdpt, pdpte); // PDPTE 0; the walk below goes through PDPTE 2
        var walker = Walker("pae", memory, Cpu());

        Assert.True(walker.RegisterLoadFaulted);
        Assert.False(Run(walker, Va4K, out GuestWalk walk));
        Assert.Equal(WalkFault.GeneralProtection, walk.Fault);
        Assert.Equal(0u, walk.ErrorCode);
        Assert.Equal(0, walk.UpdateCount);
    }

    [Theory]
    // Reserved bits in a not-present PDPTE do not fault the load (the SDM lets some CPUs check them; this model does not).
    [InlineData(Pd | RW | US)]
    // Bits 11:9 are ignored, bits 4:3 are PWT/PCD; bit 39 is a valid address bit at MAXPHYADDR 40.
    [InlineData(Pd | P | (7UL << 9) | (3UL << 3))]
    [InlineData(Pd | P | (1UL << 39))]
    public void PdpteWithoutAReservedBit_Loads(ulong pdpte)
    {
        using GuestMemory memory = Build();
        memory.WriteUInt64(Pdpt, pdpte);
        var walker = Walker("pae", memory, Cpu());

        Assert.False(walker.RegisterLoadFaulted);
        Assert.True(Run(walker, Va4K, out _));
    }

    [Fact]
    public void AddressBitAboveMaxPhysAddr36_IsReservedInThePdpte()
    {
        using GuestMemory memory = Build();
        memory.WriteUInt64(Pdpt, Pd | P | (1UL << 36));

        Assert.True(Walker("pae", memory, Cpu(maxPhysAddr: 36)).RegisterLoadFaulted);
        Assert.False(Walker("pae", memory, Cpu(maxPhysAddr: 40)).RegisterLoadFaulted);
    }

    [Fact]
    public void PdpteRegisters_IgnoreLaterWritesToThePdpt()
    {
        using GuestMemory memory = Build();
        var walker = Walker("pae", memory, Cpu());
        memory.WriteUInt64(PdpteGpa, 0);

        Assert.True(Run(walker, Va4K, out GuestWalk walk));
        Assert.Equal(0xABCD567UL, walk.PhysicalAddress);

        // A new walker is a new CR3 load: it sees the cleared PDPTE.
        Assert.False(Run(Walker("pae", memory, Cpu()), Va4K, out walk));
        Assert.Equal(0x0u, walk.ErrorCode);
    }

    [Fact]
    public void PdptPastTheEndOfMemory_LoadsAsNotPresent()
    {
        using GuestMemory memory = GuestMemory.Allocate(MemorySize);
        var cpu = new CpuState(Cr0PE | Cr0PG, 0xFFFF_FFE0, Cr4PAE, 0, 0, 40, CpuFeatures.All);
        var walker = Walker("pae", memory, cpu);

        Assert.False(walker.RegisterLoadFaulted);
        Assert.False(Run(walker, Va4K, out GuestWalk walk));
        Assert.Equal(0x0u, walk.ErrorCode);
        Assert.Equal(3, walk.Level);
    }

    [Theory]
    // PDE and PTE bits 62:52 are reserved in PAE paging (not ignored as in 4-level paging).
    [InlineData(2, 1UL << 62)]
    [InlineData(1, 1UL << 52)]
    // Address bits at or above MAXPHYADDR.
    [InlineData(1, 1UL << 45)]
    public void PdeAndPteReservedBits(int level, ulong bit)
    {
        using GuestMemory memory = Build();
        ulong gpa = level == 2 ? PdeGpa : PteGpa;
        memory.WriteUInt64(gpa, memory.ReadEntry(gpa, 8) | bit);
        var walker = Walker("pae", memory, Cpu());

        Assert.False(Run(walker, Va4K, out GuestWalk walk));
        Assert.Equal(0x9u, walk.ErrorCode);
        Assert.Equal(level, walk.Level);
    }

    [Fact]
    public void Xd_FaultsFetchesWithNxe_AndIsReservedWithout()
    {
        using GuestMemory memory = Build();
        memory.WriteUInt64(PteGpa, 0xABCD000 | P | RW | US | XD);

        Assert.False(Run(Walker("pae", memory, Cpu()), Va4K, out GuestWalk walk, AccessKind.Fetch));
        Assert.Equal(0x11u, walk.ErrorCode); // P | I/D
        Assert.True(Run(Walker("pae", memory, Cpu()), Va4K, out _, AccessKind.Read));

        Assert.False(Run(Walker("pae", memory, Cpu(nxe: false)), Va4K, out walk, AccessKind.Read));
        Assert.Equal(0x9u, walk.ErrorCode); // P | RSVD
    }
}
