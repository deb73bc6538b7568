using ShadowMmu.Dumps;
using ShadowMmu.Tests.RealGuests;
using Xunit;

namespace ShadowMmu.Tests.Paging.Mappings;

/// <summary>
/// Enumerating an address space allocates nothing once its tables have been read once: a real guest's whole space
/// (tens of thousands of pages, every level) walked a second time costs 0 bytes.
/// </summary>
public sealed class AddressSpaceAllocationTests
{
    private struct CountPages : IMappingVisitor
    {
        public long Pages;

        public void Page(in MappedPage page) => Pages++;
    }

    [Theory]
    [InlineData("long4")]
    [InlineData("long5")]
    [InlineData("pae")]
    [InlineData("legacy32")]
    public void A_real_guests_space_enumerates_with_no_allocation(string mode)
    {
        GuestStop stop = RealGuestFixtures.Stop(mode, 1);
        QemuRegisters r = stop.Cpus[0].Registers;
        using MemoryDump dump = MemoryDump.Open(stop.RawPath);
        var cpu = new CpuState(r.Cr0, r.PagingCr3, r.Cr4, r.Efer);
        PagingModeInfo info = PagingModes.Select(cpu)!;
        ulong[] registers = new ulong[PagingModeFacts.Of(info).RootRegisters];
        PagingModes.ReadRootRegistersAsLoaded(dump.Memory, cpu, registers);
        var space = new AddressSpace(info, dump.Memory, cpu, registers);
        var warm = new CountPages();
        space.Enumerate(ref warm);

        var count = new CountPages();
        long allocated = SteadyStateAllocation.BytesPerRound(() =>
        {
            count = new CountPages();
            space.Enumerate(ref count);
        });

        Assert.True(count.Pages > 1000, $"{mode}: {count.Pages} pages");
        Assert.Equal(warm.Pages, count.Pages);
        Assert.Equal(0, allocated);
    }
}
