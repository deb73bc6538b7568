using System.Linq;
using ShadowMmu.Oracle;
using Xunit;

namespace ShadowMmu.Tests.Differential;

/// <summary>
/// Where QEMU 5.0 (Unicorn 2.0.1) departs from the Intel SDM, the walkers follow the SDM. Each test builds the case,
/// shows what QEMU does, and shows that the walker does what the SDM says (README: "Where QEMU departs from the SDM").
/// </summary>
public class SdmVersusQemuTests
{
    private static readonly PagingModeInfo Pae = PagingModes.All.Single(m => m.Name == "pae");
    private static readonly PagingModeInfo Long4 = PagingModes.All.Single(m => m.Name == "long4");
    private const ulong Va = 0x4080_1234;

    [Theory]
    [InlineData(1, "R/W, reserved in a PDPTE")]
    [InlineData(6, "bit 6, reserved in a PDPTE")]
    public void Pae_pdpte_low_reserved_bit_is_a_GP_at_CR3_load_but_QEMU_ignores_it(int bit, string what)
    {
        (QemuGuestImage guest, ulong pdpte) = PaeGuest();
        guest.Memory.WriteUInt64(pdpte, guest.Memory.ReadEntry(pdpte, 8) | (1UL << bit));
        CpuState cpu = new(Cr0.PG | Cr0.PE | Cr0.WP, guest.Root, Cr4.PAE, 0);

        var walker = new PaeWalker(guest.Memory, cpu);
        var walk = default(GuestWalk);
        Assert.True(walker.RegisterLoadFaulted, what);
        Assert.False(walker.WalkAddr(ref walk, Va, AccessKind.Read, 0, false));
        Assert.Equal(WalkFault.GeneralProtection, walk.Fault);

        OracleResult qemu = QemuMmu.Run(guest.Bytes(), new OracleCase(cpu.Cr0, cpu.Cr3, cpu.Cr4, cpu.Efer, 0, false, 0, OracleAccess.Read, Va));
        Assert.Equal(OracleOutcome.Translated, qemu.Outcome);
    }

    [Fact]
    public void Pae_pdpte_address_bit_above_maxphyaddr_is_a_GP_at_CR3_load_but_a_reserved_PF_in_QEMU()
    {
        (QemuGuestImage guest, ulong pdpte) = PaeGuest();
        guest.Memory.WriteUInt64(pdpte, guest.Memory.ReadEntry(pdpte, 8) | (1UL << 45));
        CpuState cpu = new(Cr0.PG | Cr0.PE | Cr0.WP, guest.Root, Cr4.PAE, 0);

        var walk = default(GuestWalk);
        Assert.False(new PaeWalker(guest.Memory, cpu).WalkAddr(ref walk, Va, AccessKind.Read, 0, false));
        Assert.Equal(WalkFault.GeneralProtection, walk.Fault);

        OracleResult qemu = QemuMmu.Run(guest.Bytes(), new OracleCase(cpu.Cr0, cpu.Cr3, cpu.Cr4, cpu.Efer, 0, false, 0, OracleAccess.Read, Va));
        Assert.Equal(OracleOutcome.PageFault, qemu.Outcome);
        Assert.Equal(PageFaultErrorCode.Present | PageFaultErrorCode.Reserved, qemu.ErrorCode);
    }

    [Fact]
    public void Pae_pdpte_written_after_CR3_load_is_not_seen_until_the_next_load_but_QEMU_reads_it_each_walk()
    {
        (QemuGuestImage guest, ulong pdpte) = PaeGuest();
        CpuState cpu = new(Cr0.PG | Cr0.PE | Cr0.WP, guest.Root, Cr4.PAE, 0);
        var walker = new PaeWalker(guest.Memory, cpu);   // MOV CR3: the PDPTE registers are loaded here
        guest.Memory.WriteUInt64(pdpte, 0);               // then the guest clears the PDPTE in memory

        var walk = default(GuestWalk);
        Assert.True(walker.WalkAddr(ref walk, Va, AccessKind.Read, 0, false), walk.ToString());
        OracleResult qemu = QemuMmu.Run(guest.Bytes(), new OracleCase(cpu.Cr0, cpu.Cr3, cpu.Cr4, cpu.Efer, 0, false, 0, OracleAccess.Read, Va));
        Assert.Equal(OracleOutcome.PageFault, qemu.Outcome);
        Assert.Equal(0u, qemu.ErrorCode);
    }

    [Fact]
    public void A_faulting_walk_sets_no_accessed_flag_but_QEMU_sets_them_on_the_upper_levels()
    {
        using GuestMemory memory = GuestMemory.Allocate(QemuGuest.ImageSize);
        var builder = new PageTableBuilder(memory, Long4, 0x1000, 0x20_0000);
        MapCode(memory, builder, OracleMode.Long4);
        ulong va = 0x80_4000_0000;
        ulong leaf = builder.Map(va, 0x30_0000, 0x1000, 0x7);
        memory.WriteUInt64(leaf, 0x30_0000 | 0x6);   // the PTE is not present; every entry above has A clear
        CpuState cpu = new(Cr0.PG | Cr0.PE | Cr0.WP, builder.Root, Cr4.PAE, Efer.LME | Efer.LMA);

        var walk = default(GuestWalk);
        Assert.False(new Long4Walker(memory, cpu).WalkAddr(ref walk, va, AccessKind.Read, 0, false));
        Assert.Equal(0, walk.UpdateCount);

        var image = new byte[memory.Size];
        memory.Read(0, image);
        OracleResult qemu = QemuMmu.Run(image, new OracleCase(cpu.Cr0, cpu.Cr3, cpu.Cr4, cpu.Efer, 0, false, 0, OracleAccess.Read, va));
        Assert.Equal(OracleOutcome.PageFault, qemu.Outcome);
        Assert.Equal(3, qemu.PteUpdates.Count);
        Assert.All(qemu.PteUpdates, u => Assert.Equal(0x20UL, u.New ^ u.Old));
    }

    private static (QemuGuestImage Guest, ulong Pdpte) PaeGuest()
    {
        GuestMemory memory = GuestMemory.Allocate(QemuGuest.ImageSize);
        var builder = new PageTableBuilder(memory, Pae, 0x1000, 0x20_0000);
        MapCode(memory, builder, OracleMode.Pae);
        builder.Map(Va & ~0xFFFUL, 0x30_0000, 0x1000, 0x7 | 0x60);
        return (new QemuGuestImage(memory, builder.Root), builder.Root + ((Va >> 30) * 8));
    }

    private static void MapCode(GuestMemory memory, PageTableBuilder builder, OracleMode mode)
    {
        var image = new byte[memory.Size];
        memory.Read(0, image);
        OracleGuestCode.MapCodePages(image, mode, builder.Root, builder.AllocatePage);
        memory.Write(0, image);
    }

    private sealed record QemuGuestImage(GuestMemory Memory, ulong Root)
    {
        public byte[] Bytes()
        {
            var image = new byte[Memory.Size];
            Memory.Read(0, image);
            return image;
        }
    }
}
