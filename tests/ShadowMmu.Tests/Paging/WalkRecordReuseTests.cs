using System.Linq;
using Xunit;

namespace ShadowMmu.Tests.Paging;

/// <summary>
/// The generated walk does not clear the record when it starts (a pass sets only the first level); every way out of it
/// sets the ending fields instead. So a record reused from a walk that translated, or that ran out of memory, must end
/// exactly as a fresh record does, whatever ends the next walk.
/// </summary>
public class WalkRecordReuseTests
{
    [Theory]
    [InlineData("legacy32")]
    [InlineData("pae")]
    [InlineData("long4")]
    [InlineData("long5")]
    public void A_reused_record_ends_as_a_fresh_one(string modeName)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        using GuestMemory memory = GuestMemory.Allocate(0x40_0000);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x10_0000);
        builder.Map(0x40_0000, 0x20_0000, 0x1000, 0x7);                   // user, writable
        builder.Map(0x40_1000, 0x20_1000, 0x1000, 0x5);                   // user, read-only
        builder.Map(0x40_2000, 0x20_2000, 0x1000, 0x7);                   // its leaf gets a reserved bit below
        builder.Map(0xC0_0000, 0x20_3000, 0x1000, 0x7);                   // its page table is moved outside memory below
        ulong reservedLeaf = builder.EntryAddress(0x40_2000, 1)!.Value;
        ulong reservedBit = mode.EntryBytes == 4 ? 0 : 1UL << 51;
        if (reservedBit != 0)
        {
            memory.WriteEntry(reservedLeaf, memory.ReadEntry(reservedLeaf, 8) | reservedBit, 8);
        }

        // The level-2 entry above 0xC0_0000's page table points past the end of memory: the PTE read is outside.
        ulong pde = builder.EntryAddress(0xC0_0000, 2)!.Value;
        ulong outside = mode.EntryBytes == 4 ? 0xFFFF_F000UL : 0x10_0000_0000UL;
        ulong pdeValue = memory.ReadEntry(pde, mode.EntryBytes);
        memory.WriteEntry(pde, (pdeValue & 0xFFF) | outside, mode.EntryBytes);

        IGuestPageWalker walker = PagingModes.CreateWalker(memory, WalkAllocationTests.StateFor(modeName, builder.Root));
        var endings = new (ulong Va, AccessKind Kind)[]
        {
            (0x40_0123, AccessKind.Write),        // translates
            (0x40_1123, AccessKind.Write),        // protection fault at the leaf
            (0x80_0000, AccessKind.Read),         // not present
            (0x40_2123, AccessKind.Read),         // reserved bit (8-byte modes)
            (0xC0_0123, AccessKind.Read),         // the PTE is outside memory
            (0x8000_0000_0000_0000, AccessKind.Read),  // #GP in 4- and 5-level paging; truncated to 32 bits otherwise
        };

        // Once each first, so that the walks below find the A and D flags set and all end the same way.
        foreach (var ending in endings)
        {
            var first = default(GuestWalk);
            walker.WalkAddr(ref first, ending.Va, ending.Kind, 3, false);
        }

        foreach (var before in endings)
        {
            foreach (var after in endings)
            {
                var reused = default(GuestWalk);
                walker.WalkAddr(ref reused, before.Va, before.Kind, 3, false);
                bool reusedResult = walker.WalkAddr(ref reused, after.Va, after.Kind, 3, false);
                var fresh = default(GuestWalk);
                bool freshResult = walker.WalkAddr(ref fresh, after.Va, after.Kind, 3, false);

                string what = $"{modeName}: 0x{after.Va:x} after 0x{before.Va:x}: reused {reused}, fresh {fresh}";
                Assert.True(freshResult == reusedResult, what);
                Assert.True(fresh.Va == reused.Va && fresh.Level == reused.Level && fresh.MaxLevel == reused.MaxLevel, what);
                Assert.True(fresh.Fault == reused.Fault && fresh.ErrorCode == reused.ErrorCode, what);
                Assert.True(fresh.EntryOutsideMemory == reused.EntryOutsideMemory, what);
                Assert.True(fresh.PhysicalAddress == reused.PhysicalAddress && fresh.PageSize == reused.PageSize, what);
                Assert.True(fresh.PteAccess == reused.PteAccess && fresh.ProtectionKey == reused.ProtectionKey, what);
                Assert.True(fresh.UpdateCount == reused.UpdateCount, what);
                for (int level = fresh.Fault == WalkFault.GeneralProtection ? 0 : fresh.Level; level >= 1 && level <= mode.RootLevel; level++)
                {
                    Assert.True(fresh.PteGpa[level - 1] == reused.PteGpa[level - 1] && fresh.Ptes[level - 1] == reused.Ptes[level - 1], what);
                    Assert.True(fresh.TableGfn[level - 1] == reused.TableGfn[level - 1] && fresh.PtAccess[level - 1] == reused.PtAccess[level - 1], what);
                }
            }
        }
    }
}
