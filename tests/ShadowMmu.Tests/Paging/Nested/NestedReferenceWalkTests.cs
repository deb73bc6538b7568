using System;
using System.Linq;
using Xunit;

namespace ShadowMmu.Tests.Paging.Nested;

/// <summary>One two-dimensional walker: the generated one (<c>Long4Walker.WalkNested</c>) or the reference walker.</summary>
internal interface INestedWalker
{
    bool Walk(ref NestedWalk nested, ulong va, AccessKind kind, int cpl, bool ac);
}

/// <summary>
/// The two-dimensional walk (a long4 or PAE guest's tables, each entry and the final address through ept4), on a
/// layout where every guest-physical address X lives at host-physical X + 16 MiB, so that a translation that skips
/// EPT anywhere reads the wrong bytes. The expectations come from the SDM's order of events, spelled out per test.
/// </summary>
public sealed class NestedReferenceWalkTests : IDisposable
{
    private const ulong HostOffset = 0x100_0000;     // GPA X is at HPA X + 16 MiB
    private const ulong GuestSize = 0x100_0000;
    private const ulong Va = 0x7FFF_0123;
    private const ulong DataGpa = 0x40_0000;
    private readonly GuestMemory _host = GuestMemory.Allocate(2 * GuestSize);
    private readonly PageTableBuilder _ept;
    private ulong _guestRoot;
    private ulong _guestPte;

    public NestedReferenceWalkTests()
    {
        _ept = new PageTableBuilder(_host, Mode("ept4"), 0x1000, 0x10_0000);
    }

    public void Dispose() => _host.Dispose();

    private static PagingModeInfo Mode(string name) => PagingModes.All.Single(m => m.Name == name);

    // The guest's long4 tables, built in a guest-physical image and copied to their host-physical place.
    private void BuildGuest(string mode, ulong leafFlags = 0x7)
    {
        using GuestMemory guest = GuestMemory.Allocate(GuestSize);
        var builder = new PageTableBuilder(guest, Mode(mode), 0x1000, 0x10_0000);
        _guestPte = builder.Map(Va & ~0xFFFUL, DataGpa, 0x1000, leafFlags);
        _guestRoot = builder.Root;
        var bytes = new byte[0x10_0000];
        guest.Read(0, bytes);
        _host.Write(HostOffset, bytes);
    }

    // EPT maps guest-physical [0, 16 MiB) to host-physical [16 MiB, 32 MiB) with 2 MiB pages, RWX write-back,
    // except the 4 KiB pages listed, mapped with their own flags (0: left unmapped).
    private void MapEpt(params (ulong Gpa, ulong Flags)[] exceptions)
    {
        for (ulong gpa = 0; gpa < GuestSize; gpa += 0x20_0000)
        {
            if (exceptions.Any(e => (e.Gpa & ~0x1F_FFFFUL) == gpa))
            {
                for (ulong page = gpa; page < gpa + 0x20_0000; page += 0x1000)
                {
                    ulong flags = exceptions.Any(e => e.Gpa == page) ? exceptions.First(e => e.Gpa == page).Flags : 0x37;
                    if (flags != 0)
                    {
                        _ept.Map(page, page + HostOffset, 0x1000, flags);
                    }
                }
            }
            else
            {
                _ept.Map(gpa, gpa + HostOffset, 0x20_0000, 0x37);
            }
        }
    }

    // Tests run with the reference walker and, where the mode has one (not PAE: its PDPTE registers), the generated.
    private bool _generated;

    public static TheoryData<bool> Walkers => new() { false, true };

    private INestedWalker Walker(bool eptAccessedDirty = false, string mode = "long4")
    {
        var cpu = mode == "long4"
            ? new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, _guestRoot, Cr4.PAE, Efer.LME | Efer.LMA | Efer.NXE)
            : new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, _guestRoot, Cr4.PAE, Efer.NXE);
        IEptWalker ept = PagingModes.CreateEptWalker(_host, new CpuState(0, 0, 0, 0, Eptp: EptPointer.Make(_ept.Root, 4, eptAccessedDirty)));
        return _generated && mode == "long4"
            ? new Generated(new Long4Walker(_host, cpu), ept)
            : new Reference(ReferenceWalker.Nested(_host, cpu, ept));
    }

    private sealed record Generated(Long4Walker Guest, IEptWalker Ept) : INestedWalker
    {
        public bool Walk(ref NestedWalk nested, ulong va, AccessKind kind, int cpl, bool ac) => Guest.WalkNested(ref nested, va, kind, cpl, ac, Ept);
    }

    private sealed record Reference(ReferenceWalker Walker) : INestedWalker
    {
        public bool Walk(ref NestedWalk nested, ulong va, AccessKind kind, int cpl, bool ac) => Walker.WalkNested(ref nested, va, kind, cpl, ac);
    }

    [Theory]
    [MemberData(nameof(Walkers))]
    public void A_linear_address_goes_through_the_guest_tables_and_EPT_to_the_host_address(bool generated)
    {
        _generated = generated;
        BuildGuest("long4");
        MapEpt();
        var nested = default(NestedWalk);

        Assert.True(Walker().Walk(ref nested, Va, AccessKind.Write, 3, false), nested.ToString());

        Assert.Equal(NestedFault.None, nested.Fault);
        Assert.Equal(DataGpa + 0x123, nested.Guest.PhysicalAddress);
        Assert.Equal(DataGpa + 0x123 + HostOffset, nested.HostPhysicalAddress);
        // The guest's A/D flags were set where the guest's entries really are: at their host-physical addresses.
        Assert.Equal(0x67UL, _host.ReadEntry(_guestPte + HostOffset, 8) & 0xFFF);
        Assert.Equal(0UL, _host.ReadEntry(_guestPte, 8));
        Assert.Equal(_guestPte + HostOffset, nested.GuestEntryHpa[0]);
        Assert.Equal(4, nested.Guest.UpdateCount);
    }

    [Theory]
    [MemberData(nameof(Walkers))]
    public void A_guest_table_EPT_does_not_map_is_an_EPT_violation_on_that_guest_level(bool generated)
    {
        _generated = generated;
        BuildGuest("long4");
        ulong pteTable = _guestPte & ~0xFFFUL;
        MapEpt((pteTable, 0));
        var nested = default(NestedWalk);

        Assert.False(Walker().Walk(ref nested, Va, AccessKind.Read, 3, false));

        Assert.Equal(NestedFault.Ept, nested.Fault);
        Assert.True(nested.EptOnGuestTable);
        Assert.Equal(1, nested.Guest.Level);
        Assert.Equal(_guestPte, nested.FaultGpa);
        Assert.Equal(WalkFault.EptViolation, nested.Ept.Fault);
        // A read (bit 0) of a guest paging-structure entry (bit 8 clear) with a valid linear address (bit 7); nothing allowed.
        Assert.Equal(0x81UL, nested.Ept.ExitQualification);

        // With EPT A/D flags on, that read is a write: bits 0 and 1.
        Assert.False(Walker(eptAccessedDirty: true).Walk(ref nested, Va, AccessKind.Read, 3, false));
        Assert.Equal(0x83UL, nested.Ept.ExitQualification);
    }

    [Theory]
    [MemberData(nameof(Walkers))]
    public void The_guests_own_fault_comes_before_EPT_for_the_final_address(bool generated)
    {
        _generated = generated;
        BuildGuest("long4", leafFlags: 0x5);   // read-only in the guest
        MapEpt((DataGpa, 0));                    // and the page is not in EPT either
        var nested = default(NestedWalk);

        Assert.False(Walker().Walk(ref nested, Va, AccessKind.Write, 3, false));

        Assert.Equal(NestedFault.Guest, nested.Fault);
        Assert.Equal(WalkFault.PageFault, nested.Guest.Fault);
        Assert.Equal(PageFaultErrorCode.Present | PageFaultErrorCode.Write | PageFaultErrorCode.User, nested.Guest.ErrorCode);
    }

    [Theory]
    [MemberData(nameof(Walkers))]
    public void The_final_address_EPT_refuses_carries_the_guests_rights_in_the_qualification(bool generated)
    {
        _generated = generated;
        BuildGuest("long4", leafFlags: 0x7 | (1UL << 63));   // user, writable, execute-disabled in the guest
        MapEpt((DataGpa, 0x31));                               // read-only in EPT
        var nested = default(NestedWalk);

        Assert.False(Walker().Walk(ref nested, Va, AccessKind.Write, 3, false));

        Assert.Equal(NestedFault.Ept, nested.Fault);
        Assert.False(nested.EptOnGuestTable);
        Assert.Equal(DataGpa + 0x123, nested.FaultGpa);
        // Write (1), R allowed (3), linear valid (7), final (8), guest U/S (9), R/W (10), XD (11).
        Assert.Equal(0xF8AUL, nested.Ept.ExitQualification);
    }

    [Theory]
    [MemberData(nameof(Walkers))]
    public void Setting_a_guest_accessed_flag_is_a_write_through_EPT(bool generated)
    {
        _generated = generated;
        BuildGuest("long4");
        ulong pteTable = _guestPte & ~0xFFFUL;
        MapEpt((pteTable, 0x31));   // the guest's page table is read-only in EPT
        var nested = default(NestedWalk);

        // The walk reads the PTE (allowed) but must write its accessed flag: an EPT violation, a write of a guest table.
        Assert.False(Walker().Walk(ref nested, Va, AccessKind.Read, 3, false));
        Assert.Equal(NestedFault.Ept, nested.Fault);
        Assert.True(nested.EptOnGuestTable);
        Assert.Equal(_guestPte, nested.FaultGpa);
        Assert.Equal(0x8AUL, nested.Ept.ExitQualification);   // write (1), R allowed (3), linear valid (7)

        // Once the flag is set no write is needed, and the walk translates.
        _host.WriteUInt64(_guestPte + HostOffset, _host.ReadEntry(_guestPte + HostOffset, 8) | 0x20);
        Assert.True(Walker().Walk(ref nested, Va, AccessKind.Read, 3, false), nested.ToString());
    }

    [Theory]
    [MemberData(nameof(Walkers))]
    public void EPT_accessed_and_dirty_flags_are_set_for_the_guest_tables_and_the_data_page(bool generated)
    {
        _generated = generated;
        BuildGuest("long4");
        MapEpt((DataGpa, 0x37), (_guestPte & ~0xFFFUL, 0x37));
        var nested = default(NestedWalk);

        Assert.True(Walker(eptAccessedDirty: true).Walk(ref nested, Va, AccessKind.Read, 3, false), nested.ToString());

        ulong dataEntry = _ept.EntryAddress(DataGpa, 1)!.Value;
        ulong tableEntry = _ept.EntryAddress(_guestPte & ~0xFFFUL, 1)!.Value;
        Assert.Equal(0x100UL, _host.ReadEntry(dataEntry, 8) & 0x300);    // a read of the data: A only
        Assert.Equal(0x300UL, _host.ReadEntry(tableEntry, 8) & 0x300);   // guest paging structures are written: A and D
        Assert.Contains(Enumerable.Range(0, nested.EptUpdateCount).Select(i => nested.EptUpdates[i].Gpa), a => a == dataEntry);
    }

    [Fact]
    public void A_PAE_guest_loads_its_PDPTE_registers_through_EPT()
    {
        BuildGuest("pae");
        MapEpt();
        var nested = default(NestedWalk);
        Assert.True(Walker(mode: "pae").Walk(ref nested, Va, AccessKind.Read, 0, false), nested.ToString());
        Assert.Equal(DataGpa + 0x123 + HostOffset, nested.HostPhysicalAddress);

        // With the PDPT's page missing from EPT the MOV to CR3 exits: a read without a linear address (qualification 1).
        using var fresh = new NestedReferenceWalkTests();
        fresh.BuildGuest("pae");
        fresh.MapEpt((fresh._guestRoot & ~0xFFFUL, 0));
        Assert.False(fresh.Walker(mode: "pae").Walk(ref nested, Va, AccessKind.Read, 0, false));
        Assert.Equal(NestedFault.Ept, nested.Fault);
        Assert.Equal(1UL, nested.Ept.ExitQualification);
    }
}

/// <summary>The two-dimensional walks allocate nothing in steady state, generated and reference.</summary>
public sealed class NestedWalkAllocationTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Two_dimensional_walks_allocate_zero_bytes(bool reference)
    {
        using GuestMemory host = GuestMemory.Allocate(0x40_0000);
        using GuestMemory guest = GuestMemory.Allocate(0x20_0000);
        var builder = new PageTableBuilder(guest, PagingModes.All.Single(m => m.Name == "long4"), 0x1000, 0x10_0000);
        builder.Map(0x7FFF_0000, 0x10_0000, 0x1000, 0x7);
        var bytes = new byte[0x20_0000];
        guest.Read(0, bytes);
        host.Write(0x20_0000, bytes);
        var ept = new PageTableBuilder(host, PagingModes.All.Single(m => m.Name == "ept4"), 0x1000, 0x10_0000);
        for (ulong gpa = 0; gpa < 0x20_0000; gpa += 0x1000)
        {
            ept.Map(gpa, gpa + 0x20_0000, 0x1000, 0x37);
        }

        var cpu = new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, builder.Root, Cr4.PAE, Efer.LME | Efer.LMA | Efer.NXE);
        IEptWalker eptWalker = PagingModes.CreateEptWalker(host, new CpuState(0, 0, 0, 0, Eptp: EptPointer.Make(ept.Root, 4, accessedDirty: true)));
        var generated = new Long4Walker(host, cpu);
        ReferenceWalker interpreted = ReferenceWalker.Nested(host, cpu, eptWalker);
        var nested = default(NestedWalk);

        void Round()
        {
            for (int i = 0; i < 1000; i++)
            {
                bool ok = reference
                    ? interpreted.WalkNested(ref nested, 0x7FFF_0123, AccessKind.Write, 3, false)
                    : generated.WalkNested(ref nested, 0x7FFF_0123, AccessKind.Write, 3, false, eptWalker);
                Assert.True(ok);
                Assert.False(reference
                    ? interpreted.WalkNested(ref nested, 0x1234_5000, AccessKind.Read, 3, false)
                    : generated.WalkNested(ref nested, 0x1234_5000, AccessKind.Read, 3, false, eptWalker));
            }
        }

        Round();
        Assert.Equal(0, SteadyStateAllocation.BytesPerRound(Round));
    }
}
