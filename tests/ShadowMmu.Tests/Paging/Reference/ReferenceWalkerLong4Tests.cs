using Xunit;
using static ShadowMmu.Tests.Paging.Reference.Long4Tables;
using static ShadowMmu.Tests.Paging.Reference.ReferenceWalkerHarness;

namespace ShadowMmu.Tests.Paging.Reference;

/// <summary>4-level paging: page sizes, reserved bits, A/D updates, canonical addresses and odd tables.</summary>
public sealed class ReferenceWalkerLong4Tests
{
    [Fact]
    public void Page4K_TranslatesWithFullRights()
    {
        using GuestMemory memory = Build();
        var walker = Walker("long4", memory, Cpu());

        Assert.True(Run(walker, Va4K, out GuestWalk walk));
        Assert.Equal(WalkFault.None, walk.Fault);
        Assert.Equal(0xABCD123UL, walk.PhysicalAddress);
        Assert.Equal(0x1000UL, walk.PageSize);
        Assert.Equal(1, walk.Level);
        Assert.Equal(4, walk.MaxLevel);
        Assert.Equal(7u, walk.PteAccess); // U | W | X
        Assert.Equal(0xABCDUL, walk.Gfn);

        // The record, [level - 1]: table frame, entry address, entry (with the A flag this walk set).
        Assert.Equal(Pml4 >> 12, walk.TableGfn[3]);
        Assert.Equal(Pt >> 12, walk.TableGfn[0]);
        Assert.Equal(Pml4eGpa, walk.PteGpa[3]);
        Assert.Equal(PdpteGpa, walk.PteGpa[2]);
        Assert.Equal(PdeGpa, walk.PteGpa[1]);
        Assert.Equal(PteGpa, walk.PteGpa[0]);
        Assert.Equal(UserPte | A, walk.Ptes[0]);
    }

    [Fact]
    public void Page2M_TranslatesFromThePde()
    {
        // PDE[5] maps the 2 MiB page at 0x12400000 (2 MiB aligned).
        using GuestMemory memory = Build();
        memory.WriteUInt64(Pd + (5 * 8), 0x12400000 | PS | P | RW | US);
        var walker = Walker("long4", memory, Cpu());

        ulong va = (1UL << 39) | (2UL << 30) | (5UL << 21) | 0x54321;
        Assert.True(Run(walker, va, out GuestWalk walk));
        Assert.Equal(0x12454321UL, walk.PhysicalAddress);
        Assert.Equal(0x200000UL, walk.PageSize);
        Assert.Equal(2, walk.Level);
    }

    [Fact]
    public void Page1G_TranslatesFromThePdpte()
    {
        // PDPTE[3] maps the 1 GiB page at 0x1_4000_0000.
        using GuestMemory memory = Build();
        memory.WriteUInt64(Pdpt + (3 * 8), 0x1_4000_0000 | PS | P | RW | US);
        var walker = Walker("long4", memory, Cpu());

        ulong va = (1UL << 39) | (3UL << 30) | 0x2345_6789;
        Assert.True(Run(walker, va, out GuestWalk walk));
        Assert.Equal(0x1_6345_6789UL, walk.PhysicalAddress);
        Assert.Equal(0x4000_0000UL, walk.PageSize);
        Assert.Equal(3, walk.Level);
    }

    [Fact]
    public void Page1G_WithoutCpuidPage1Gb_IsAReservedBitFault()
    {
        // Without CPUID.80000001H:EDX[26] bit 7 of a PDPTE is reserved.
        using GuestMemory memory = Build();
        memory.WriteUInt64(Pdpt + (3 * 8), 0x1_4000_0000 | PS | P | RW | US);
        var walker = Walker("long4", memory, Cpu(features: CpuFeatures.All & ~CpuFeatures.Page1Gb));

        ulong va = (1UL << 39) | (3UL << 30) | 0x2345_6789;
        Assert.False(Run(walker, va, out GuestWalk walk));
        Assert.Equal(WalkFault.PageFault, walk.Fault);
        Assert.Equal(0x9u, walk.ErrorCode); // P | RSVD
        Assert.Equal(3, walk.Level);
    }

    [Theory]
    // Address bit 51 is at or above MAXPHYADDR 40.
    [InlineData(1, UserPte | (1UL << 51), 40)]
    // Bit 40 is the first physical-address bit at or above MAXPHYADDR 40; bit 39 is allowed (next case).
    [InlineData(1, UserPte | (1UL << 40), 40)]
    // Bits 62:52 are ignored (PK field or software), bit 63 is XD with NXE = 1: none of them is reserved.
    [InlineData(0, UserPte | (1UL << 39) | (1UL << 52) | (1UL << 58) | XD, 40)]
    // MAXPHYADDR 52 leaves no address bit reserved.
    [InlineData(0, UserPte | (1UL << 51), 52)]
    public void Pte_AddressBitsAtOrAboveMaxPhysAddr_AreReserved(int faults, ulong pte, int maxPhysAddr)
    {
        using GuestMemory memory = Build(pte: pte);
        var walker = Walker("long4", memory, Cpu(maxPhysAddr: maxPhysAddr));

        bool translated = Run(walker, Va4K, out GuestWalk walk);
        Assert.Equal(faults == 0, translated);
        if (faults != 0)
        {
            Assert.Equal(0x9u, walk.ErrorCode); // P | RSVD
            Assert.Equal(1, walk.Level);
        }
        else
        {
            Assert.Equal((pte & 0x000F_FFFF_FFFF_F000) | 0x123, walk.PhysicalAddress);
        }
    }

    [Fact]
    public void Xd_WithoutNxe_IsReserved()
    {
        using GuestMemory memory = Build(pte: UserPte | XD);
        var walker = Walker("long4", memory, Cpu(nxe: false));

        Assert.False(Run(walker, Va4K, out GuestWalk walk));
        Assert.Equal(0x9u, walk.ErrorCode); // P | RSVD

        // A fetch: I/D needs NXE or SMEP, and neither is on.
        Assert.False(Run(walker, Va4K, out walk, AccessKind.Fetch));
        Assert.Equal(0x9u, walk.ErrorCode);
    }

    [Fact]
    public void ReservedBitFault_CarriesTheAccessBits()
    {
        using GuestMemory memory = Build(pte: UserPte | (1UL << 51));
        var walker = Walker("long4", memory, Cpu());

        Assert.False(Run(walker, Va4K, out GuestWalk walk, AccessKind.Write, cpl: 3));
        Assert.Equal(0xFu, walk.ErrorCode); // P | W | U | RSVD
    }

    [Theory]
    // PML4E: bit 7 is reserved.
    [InlineData(4, Pdpt | P | RW | US | PS, Pd | P | RW | US, Pt | P | RW | US)]
    // PDE mapping a 2 MiB page: bits 20:13 are reserved (bit 13 here).
    [InlineData(2, Pdpt | P | RW | US, Pd | P | RW | US, 0x12400000 | (1UL << 13) | PS | P | RW | US)]
    // PDPTE mapping a 1 GiB page: bits 29:13 are reserved (bit 29 here).
    [InlineData(3, Pdpt | P | RW | US, 0x4000_0000 | (1UL << 29) | PS | P | RW | US, Pt | P | RW | US)]
    public void UpperLevelReservedBits_Fault(int level, ulong pml4e, ulong pdpte, ulong pde)
    {
        using GuestMemory memory = Build(pml4e: pml4e, pdpte: pdpte, pde: pde);
        var walker = Walker("long4", memory, Cpu());

        Assert.False(Run(walker, Va4K, out GuestWalk walk));
        Assert.Equal(0x9u, walk.ErrorCode);
        Assert.Equal(level, walk.Level);
    }

    [Fact]
    public void ReservedBitsInANotPresentEntry_AreNotChecked()
    {
        using GuestMemory memory = Build(pte: (UserPte & ~P) | (1UL << 51));
        var walker = Walker("long4", memory, Cpu());

        Assert.False(Run(walker, Va4K, out GuestWalk walk, AccessKind.Write, cpl: 3));
        Assert.Equal(0x6u, walk.ErrorCode); // W | U, P = 0
        Assert.Equal(1, walk.Level);
        Assert.False(walk.EntryOutsideMemory);
    }

    [Theory]
    [InlineData(AccessKind.Read, 0, 0x0u)]
    [InlineData(AccessKind.Write, 3, 0x6u)]
    // I/D: a fetch with EFER.NXE = 1.
    [InlineData(AccessKind.Fetch, 3, 0x14u)]
    public void NotPresentPte_FaultsWithPClear(AccessKind kind, int cpl, uint errorCode)
    {
        using GuestMemory memory = Build(pte: UserPte & ~P);
        var walker = Walker("long4", memory, Cpu());

        Assert.False(Run(walker, Va4K, out GuestWalk walk, kind, cpl));
        Assert.Equal(errorCode, walk.ErrorCode);
        Assert.Equal(1, walk.Level);
    }

    [Fact]
    public void Read_SetsAccessedInEveryEntry_AndListsTheUpdates()
    {
        using GuestMemory memory = Build();
        var walker = Walker("long4", memory, Cpu());

        Assert.True(Run(walker, Va4K, out GuestWalk walk));

        Assert.Equal(Pdpt | P | RW | US | A, memory.ReadEntry(Pml4eGpa, 8));
        Assert.Equal(Pd | P | RW | US | A, memory.ReadEntry(PdpteGpa, 8));
        Assert.Equal(Pt | P | RW | US | A, memory.ReadEntry(PdeGpa, 8));
        Assert.Equal(UserPte | A, memory.ReadEntry(PteGpa, 8)); // a read sets no D

        Assert.Equal(4, walk.UpdateCount);
        Assert.Equal(new PteUpdate(Pml4eGpa, Pdpt | P | RW | US, Pdpt | P | RW | US | A), walk.Updates[0]);
        Assert.Equal(new PteUpdate(PdpteGpa, Pd | P | RW | US, Pd | P | RW | US | A), walk.Updates[1]);
        Assert.Equal(new PteUpdate(PdeGpa, Pt | P | RW | US, Pt | P | RW | US | A), walk.Updates[2]);
        Assert.Equal(new PteUpdate(PteGpa, UserPte, UserPte | A), walk.Updates[3]);

        // Everything is already set: a second walk writes nothing.
        Assert.True(Run(walker, Va4K, out walk));
        Assert.Equal(0, walk.UpdateCount);
    }

    [Fact]
    public void Write_SetsDirtyInTheLeafOnly()
    {
        using GuestMemory memory = Build();
        var walker = Walker("long4", memory, Cpu());

        Assert.True(Run(walker, Va4K, out GuestWalk walk, AccessKind.Write));

        Assert.Equal(UserPte | A | D, memory.ReadEntry(PteGpa, 8));
        Assert.Equal(Pt | P | RW | US | A, memory.ReadEntry(PdeGpa, 8));
        Assert.Equal(new PteUpdate(PteGpa, UserPte, UserPte | A | D), walk.Updates[3]);
        Assert.Equal(UserPte | A | D, walk.Ptes[0]);
    }

    [Fact]
    public void Write_To2MPage_SetsDirtyInThePde()
    {
        using GuestMemory memory = Build();
        ulong pdeGpa = Pd + (5 * 8);
        memory.WriteUInt64(pdeGpa, 0x12400000 | PS | P | RW | US);
        var walker = Walker("long4", memory, Cpu());

        Assert.True(Run(walker, (1UL << 39) | (2UL << 30) | (5UL << 21), out GuestWalk walk, AccessKind.Write));
        Assert.Equal(0x12400000 | PS | P | RW | US | A | D, memory.ReadEntry(pdeGpa, 8));
        Assert.Equal(3, walk.UpdateCount);
    }

    [Fact]
    public void FaultingWalk_SetsNoFlags()
    {
        // A user write to a read-only page faults after a complete walk: KVM (and so this model) sets no A bit.
        using GuestMemory memory = Build(pte: UserPte & ~RW);
        var walker = Walker("long4", memory, Cpu());

        Assert.False(Run(walker, Va4K, out GuestWalk walk, AccessKind.Write, cpl: 3));
        Assert.Equal(0, walk.UpdateCount);
        Assert.Equal(Pdpt | P | RW | US, memory.ReadEntry(Pml4eGpa, 8));
        Assert.Equal(UserPte & ~RW, memory.ReadEntry(PteGpa, 8));
    }

    [Theory]
    [InlineData(0x0000_8000_0000_0000UL)]
    [InlineData(0xFFFF_7FFF_FFFF_FFFFUL)]
    [InlineData(0x8000_0000_0000_0000UL)]
    [InlineData(0x0001_0000_0000_0000UL)]
    public void NonCanonicalAddress_IsGeneralProtection(ulong va)
    {
        using GuestMemory memory = Build();
        var walker = Walker("long4", memory, Cpu());

        Assert.False(Run(walker, va, out GuestWalk walk, AccessKind.Write, cpl: 3));
        Assert.Equal(WalkFault.GeneralProtection, walk.Fault);
        Assert.Equal(0u, walk.ErrorCode);
        Assert.Equal(0, walk.UpdateCount);
    }

    [Fact]
    public void CanonicalHighAddress_IsWalked()
    {
        // Bits 63:47 all ones: canonical; PML4E[511] is not present, so the walk ends in #PF, not #GP.
        using GuestMemory memory = Build();
        var walker = Walker("long4", memory, Cpu());

        Assert.False(Run(walker, 0xFFFF_FFFF_FFFF_F000UL, out GuestWalk walk));
        Assert.Equal(WalkFault.PageFault, walk.Fault);
        Assert.Equal(0u, walk.ErrorCode);
        Assert.Equal(4, walk.Level);
        Assert.Equal(Pml4 + (511 * 8), walk.PteGpa[3]);
    }

    [Fact]
    public void EntryOutsideMemory_IsANotPresentFault()
    {
        // The PDPTE points at a page directory at 64 GiB, far past the 64 KiB of guest memory.
        const ulong farTable = 0x10_0000_0000;
        using GuestMemory memory = Build(pdpte: farTable | P | RW | US);
        var walker = Walker("long4", memory, Cpu());

        Assert.False(Run(walker, Va4K, out GuestWalk walk, AccessKind.Write, cpl: 3));
        Assert.Equal(WalkFault.PageFault, walk.Fault);
        Assert.Equal(0x6u, walk.ErrorCode); // W | U, P = 0
        Assert.True(walk.EntryOutsideMemory);
        Assert.Equal(2, walk.Level);
        Assert.Equal(farTable + (3 * 8), walk.PteGpa[1]);
        Assert.Equal(farTable >> 12, walk.TableGfn[1]);
        Assert.Equal(0, walk.UpdateCount);
    }

    [Fact]
    public void SelfReferencingPml4e_TranslatesToItsOwnTable()
    {
        // PML4E[0] points at the PML4 itself, so with va = 0 every level reads that same entry and the 4 KiB
        // page is the PML4. Setting A in the entry at the top changes what the lower levels read: the walk restarts.
        using GuestMemory memory = GuestMemory.Allocate(MemorySize);
        memory.WriteUInt64(Pml4, Pml4 | P | RW | US);
        var walker = Walker("long4", memory, Cpu());

        Assert.True(Run(walker, 0x123, out GuestWalk walk));
        Assert.Equal(Pml4 + 0x123, walk.PhysicalAddress);
        Assert.Equal(1, walk.Level);
        Assert.Equal(Pml4 | P | RW | US | A, memory.ReadEntry(Pml4, 8));
        Assert.Equal(1, walk.UpdateCount);
        Assert.Equal(new PteUpdate(Pml4, Pml4 | P | RW | US, Pml4 | P | RW | US | A), walk.Updates[0]);

        Assert.True(Run(walker, 0x456, out walk, AccessKind.Write));
        Assert.Equal(Pml4 + 0x456, walk.PhysicalAddress);
        Assert.Equal(Pml4 | P | RW | US | A | D, memory.ReadEntry(Pml4, 8));
    }

    [Fact]
    public void TablePastTheEndOfMemory_ForEveryIndex_NeverThrows()
    {
        // Every PML4E points at the last page of memory, whose entries point past the end.
        using GuestMemory memory = GuestMemory.Allocate(MemorySize);
        for (ulong i = 0; i < 512; i++)
        {
            memory.WriteUInt64(Pml4 + (i * 8), (MemorySize - 0x1000) | P | RW | US);
            memory.WriteUInt64(MemorySize - 0x1000 + (i * 8), 0xF_FFFF_F000 | P | RW | US);
        }

        // Only the lower half of the PML4 is reachable: indexes 256 and up need a sign-extended (high) address.
        var walker = Walker("long4", memory, Cpu());
        for (ulong i = 0; i < 256; i++)
        {
            Assert.False(Run(walker, (i << 39) | (i << 30), out GuestWalk walk));
            Assert.True(walk.EntryOutsideMemory);
            Assert.Equal(2, walk.Level);
        }
    }
}
