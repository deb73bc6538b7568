using System;
using Xunit;

namespace ShadowMmu.Tests.Paging;

/// <summary>
/// PAE's PDPTE registers given to the generated walker instead of loaded from the table at CR3 (as a VM entry loads them
/// from the VMCS, or a dump's reader knows them): the walk uses the registers, not memory, and the values are checked
/// as a MOV to CR3 checks them.
/// </summary>
public sealed class GivenRootRegistersTests
{
    private const ulong Pdpt = 0x1000, Pd = 0x2000, OtherPd = 0x4000, Pt = 0x3000, Frame = 0x7000;
    private const ulong Va = (1UL << 30) | (5UL << 12) | 0x123;   // PDPTE 1, PDE 0, PTE 5

    private static readonly CpuState Cpu = new(Cr0.PG | Cr0.PE, Pdpt, Cr4.PAE, 0);

    private static GuestMemory Build()
    {
        GuestMemory memory = GuestMemory.Allocate(0x10_0000);
        memory.WriteUInt64(Pdpt + 8, OtherPd | 1);     // what memory holds at CR3: a page directory with nothing in it
        memory.WriteUInt64(Pd, Pt | 0x3);
        memory.WriteUInt64(Pt + (5 * 8), Frame | 0x3);
        return memory;
    }

    [Fact]
    public void The_walk_reads_the_given_registers_not_memory()
    {
        using GuestMemory memory = Build();
        ulong[] registers = { 0, Pd | 1, 0, 0 };

        var fromMemory = (PaeWalker)PagingModes.CreateWalker(memory, Cpu);
        var given = (PaeWalker)PagingModes.CreateWalker(memory, Cpu, registers);

        var walk = default(GuestWalk);
        Assert.False(fromMemory.WalkAddr(ref walk, Va, AccessKind.Read, 0, false));
        Assert.True(given.WalkAddr(ref walk, Va, AccessKind.Read, 0, false));
        Assert.Equal(Frame | 0x123, walk.PhysicalAddress);
        Assert.Equal(registers, given.PdpteRegisters.ToArray());
        Assert.False(given.RegisterLoadFaulted);
    }

    [Theory]
    [InlineData(Pd | 1 | 0x20)]          // bit 5: reserved in the register
    [InlineData(Pd | 1 | (1UL << 63))]   // XD: reserved in the register
    public void A_given_register_with_a_reserved_bit_makes_the_load_fault(ulong pdpte)
    {
        using GuestMemory memory = Build();
        var walker = new PaeWalker(memory, Cpu, new ulong[] { 0, pdpte, 0, 0 });

        var walk = default(GuestWalk);
        Assert.True(walker.RegisterLoadFaulted);
        Assert.False(walker.WalkAddr(ref walk, Va, AccessKind.Read, 0, false));
        Assert.Equal(WalkFault.GeneralProtection, walk.Fault);
    }

    [Fact]
    public void A_faulting_memory_load_is_forgotten_when_the_registers_are_given()
    {
        using GuestMemory memory = Build();
        memory.WriteUInt64(Pdpt, Pd | 1 | 0x20);      // memory's PDPTE 0 would make a load from memory fault

        Assert.True(new PaeWalker(memory, Cpu).RegisterLoadFaulted);
        Assert.False(new PaeWalker(memory, Cpu, new ulong[] { Pd | 1, Pd | 1, 0, 0 }).RegisterLoadFaulted);
    }

    [Fact]
    public void Registers_are_four_and_only_for_modes_that_have_them()
    {
        using GuestMemory memory = Build();

        Assert.Throws<ArgumentException>(() => new PaeWalker(memory, Cpu, new ulong[] { Pd | 1 }));
        var long4 = new CpuState(Cr0.PG | Cr0.PE, Pdpt, Cr4.PAE, Efer.LME | Efer.LMA);
        Assert.Throws<ArgumentException>(() => PagingModes.CreateWalker(memory, long4, new ulong[] { 0, 0, 0, 0 }));
        Assert.IsType<Long4Walker>(PagingModes.CreateWalker(memory, long4, ReadOnlySpan<ulong>.Empty));
    }

    [Fact]
    public void Read_as_loaded_clears_only_the_flag_bits_a_register_reserves()
    {
        using GuestMemory memory = Build();
        memory.WriteUInt64(Pdpt, Pd | 1 | 0x20 | 0x6);          // A, R/W, U/S: reserved below bit 12
        memory.WriteUInt64(Pdpt + 16, Pd | 0x20);               // not present: kept as it is
        memory.WriteUInt64(Pdpt + 24, Pd | 1 | (1UL << 45));    // an address bit above MAXPHYADDR: kept, and faults
        Span<ulong> registers = stackalloc ulong[4];

        ulong cleared = PagingModes.ReadRootRegistersAsLoaded(memory, Cpu, registers);

        Assert.Equal(0x26UL, cleared);
        Assert.Equal(new[] { Pd | 1, OtherPd | 1, Pd | 0x20, Pd | 1 | (1UL << 45) }, registers.ToArray());
        Assert.True(new PaeWalker(memory, Cpu, registers).RegisterLoadFaulted);
    }
}
