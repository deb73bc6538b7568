using System.Linq;
using Xunit;

namespace ShadowMmu.Tests.Paging.Ept;

/// <summary>
/// The current SDM (Vol. 3C, the notes to the table "Exit Qualification for EPT Violations"): with 4-level EPT, a
/// guest-physical address with any of bits 51:48 set is an EPT violation whose exit qualification has bits 6:3 (the
/// rights) clear. No 4-level structure translates those bits; 5-level EPT does. Generated and reference walkers alike.
/// </summary>
public class EptAddressWidthTests
{
    private static (GuestMemory Memory, CpuState Cpu, PagingModeInfo Mode) Build(string modeName)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        GuestMemory memory = GuestMemory.Allocate(0x40_0000);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x10_0000);

        // Read/write/execute, write-back: the page for every low address below.
        builder.Map(0x8000_0000, 0x20_0000, 0x1000, 0x7 | (6 << 3));
        if (mode.RootLevel == 5)
        {
            builder.Map(0x1_0000_8000_0000, 0x30_0000, 0x1000, 0x7 | (6 << 3));
        }

        return (memory, PagingModeFacts.Of(mode).SelectingState(builder.Root), mode);
    }

    [Theory]
    [InlineData(48, AccessKind.Read, EptViolationQualification.Read)]
    [InlineData(49, AccessKind.Write, EptViolationQualification.Write)]
    [InlineData(51, AccessKind.Fetch, EptViolationQualification.Fetch)]
    public void Ept4_faults_on_bits_51_to_48_before_any_entry_with_no_rights(int bit, AccessKind kind, uint access)
    {
        (GuestMemory memory, CpuState cpu, PagingModeInfo mode) = Build("ept4");
        using (memory)
        {
            ulong gpa = 0x8000_0123UL | (1UL << bit);
            var flags = EptAccessFlags.GuestLinearAddressValid | EptAccessFlags.Final | EptAccessFlags.GuestUser;
            foreach (IEptWalker walker in new IEptWalker[] { PagingModes.CreateEptWalker(memory, cpu), ReferenceWalker.For(mode, memory, cpu) })
            {
                var walk = default(GuestWalk);

                Assert.False(walker.WalkGpa(ref walk, gpa, kind, flags));

                Assert.Equal(WalkFault.EptViolation, walk.Fault);
                Assert.Equal(0, walk.Level);
                Assert.Equal(0u, walk.ErrorCode & 0x78);
                Assert.Equal(access | (uint)flags, walk.ErrorCode);
                Assert.Equal(gpa, walk.Va);
                Assert.Equal(0, walk.UpdateCount);
            }
        }
    }

    [Fact]
    public void Bits_above_51_are_no_part_of_a_guest_physical_address_and_5_level_EPT_translates_bit_48()
    {
        (GuestMemory memory4, CpuState cpu4, _) = Build("ept4");
        (GuestMemory memory5, CpuState cpu5, _) = Build("ept5");
        using (memory4)
        using (memory5)
        {
            var walk = default(GuestWalk);

            Assert.True(PagingModes.CreateEptWalker(memory4, cpu4).WalkGpa(ref walk, 0xFFF0_0000_8000_0123UL, AccessKind.Read, EptAccessFlags.Final));
            Assert.Equal(0x20_0123UL, walk.PhysicalAddress);
            Assert.True(PagingModes.CreateEptWalker(memory5, cpu5).WalkGpa(ref walk, 0x1_0000_8000_0123UL, AccessKind.Read, EptAccessFlags.Final));
            Assert.Equal(0x30_0123UL, walk.PhysicalAddress);
        }
    }
}
