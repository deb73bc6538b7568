using System;
using Xunit;

namespace ShadowMmu.Tests.Paging;

/// <summary>
/// The walk record's ending methods write the ending fields as a few wide stores: each field must read back as written,
/// and an ending must clear what an earlier one left.
/// </summary>
public class GuestWalkRecordTests
{
    [Fact]
    public void A_translation_sets_every_ending_field()
    {
        var walk = default(GuestWalk);
        walk.EndEptOutsideMemory(5, 2, 0x3000, 0x1234, new LevelAccess(0x0F0F_0000_0000));

        walk.EndTranslated(4, 2, 0x1234_5678, 0x20_0000, AccessRights.User | AccessRights.Write, 9, new LevelAccess(0x07_0305_0700));

        Assert.Equal(WalkFault.None, walk.Fault);
        Assert.Equal((2, 4), (walk.Level, walk.MaxLevel));
        Assert.Equal((0x1234_5678UL, 0x20_0000UL), (walk.PhysicalAddress, walk.PageSize));
        Assert.Equal((AccessRights.User | AccessRights.Write, 9), (walk.PteAccess, walk.ProtectionKey));
        Assert.Equal(0U, walk.ErrorCode);
        Assert.False(walk.EntryOutsideMemory);
        Assert.Equal((0, false), (walk.MemoryType, walk.IgnorePat));
        Assert.Equal(0x07_0305_0700UL, walk.PtAccess.Packed);
        Assert.Equal((byte)0x07, walk.PtAccess[1]);
        Assert.Equal((byte)0x05, walk.PtAccess[2]);
        Assert.Equal((byte)0x03, walk.PtAccess[3]);
    }

    [Fact]
    public void A_fault_clears_what_a_translation_left()
    {
        var walk = default(GuestWalk);
        walk.EndTranslatedEpt(4, 1, 0xABC_D000, 0x1000, 15, 6, true, new LevelAccess(0x0F0F_0F0F));

        walk.EndPageFault(5, 3, 0x1D, new LevelAccess(0x0707_0000_0000));

        Assert.Equal(WalkFault.PageFault, walk.Fault);
        Assert.Equal((3, 5), (walk.Level, walk.MaxLevel));
        Assert.Equal(0x1DU, walk.ErrorCode);
        Assert.Equal((0UL, 0UL, 0U, 0), (walk.PhysicalAddress, walk.PageSize, walk.PteAccess, walk.ProtectionKey));
        Assert.Equal((0, false, false), (walk.MemoryType, walk.IgnorePat, walk.EntryOutsideMemory));
        Assert.Equal(0x0707_0000_0000UL, walk.PtAccess.Packed);
    }

    [Fact]
    public void Ept_endings_carry_the_memory_type_and_say_which_exit()
    {
        var walk = default(GuestWalk);
        walk.EndTranslatedEpt(4, 2, 0x20_0123, 0x20_0000, 7, 6, true, new LevelAccess(0x0F_0F0F_0000));
        Assert.Equal((WalkFault.None, 6, true, 7U), (walk.Fault, walk.MemoryType, walk.IgnorePat, walk.PteAccess));

        walk.EndEptViolation(4, 1, 0x18A, new LevelAccess(0x0F));
        Assert.Equal((WalkFault.EptViolation, 0x18AUL, 0, false), (walk.Fault, walk.ExitQualification, walk.MemoryType, walk.IgnorePat));

        walk.EndEptMisconfiguration(5, 4, default);
        Assert.Equal((WalkFault.EptMisconfiguration, 0U, 4, 5), (walk.Fault, walk.ErrorCode, walk.Level, walk.MaxLevel));

        walk.EndEptOutsideMemory(4, 2, 0x9_0000, 0x181, new LevelAccess(0x0F_0000_0000));
        Assert.Equal((WalkFault.EptViolation, true), (walk.Fault, walk.EntryOutsideMemory));
        Assert.Equal((0x9_0000UL, 0UL), (walk.PteGpa[1], walk.Ptes[1]));
    }

    [Fact]
    public void The_interpreter_style_endings_keep_the_first_level_and_the_rights_recorded()
    {
        var walk = default(GuestWalk);
        walk.Begin(0x1234);
        walk.Restart(4);
        walk.Record(4, 0x1000, 0x2027, AccessRights.All);
        walk.Record(3, 0x2008, 0x3025, AccessRights.User | AccessRights.Execute);

        walk.OutsideMemory(2, 0x9_9000, AccessRights.User, 0x4);

        Assert.Equal((2, 4, true), (walk.Level, walk.MaxLevel, walk.EntryOutsideMemory));
        Assert.Equal(0x0705_0400UL, walk.PtAccess.Packed);
        Assert.Equal((0x1000UL, 0x2008UL, 0x9_9000UL), (walk.PteGpa[3], walk.PteGpa[2], walk.PteGpa[1]));
        Assert.Equal((0x2027UL, 0x3025UL, 0UL), (walk.Ptes[3], walk.Ptes[2], walk.Ptes[1]));

        walk.Restart(4);
        Assert.Equal(0UL, walk.PtAccess.Packed);
        Assert.Equal(0x1234UL, walk.Va);
    }

    [Fact]
    public void Records_at_every_level_land_in_that_level_s_slots()
    {
        var walk = default(GuestWalk);
        for (int level = 1; level <= LevelValues.Length; level++)
        {
            walk.Record(level, (ulong)level * 0x1000, (ulong)level * 0x11);
        }

        for (int level = 1; level <= LevelValues.Length; level++)
        {
            Assert.Equal(((ulong)level * 0x1000, (ulong)level * 0x11), (walk.PteGpa[level - 1], walk.Ptes[level - 1]));
        }

        Assert.Equal(0UL, walk.Va);
        Assert.Equal(0UL, walk.PhysicalAddress);
    }

    [Fact]
    public void Level_access_holds_a_byte_per_level()
    {
        var access = default(LevelAccess);
        access[0] = 7;
        access[4] = 0x0F;
        access[2] = 5;
        access[2] = 3;

        Assert.Equal(0x0F_0003_0007UL, access.Packed);
        Assert.Equal(new LevelAccess(0x0F_0003_0007), access);
        Assert.Throws<IndexOutOfRangeException>(() => access[LevelAccess.Length]);
        Assert.Throws<IndexOutOfRangeException>(() => access[-1] = 1);
    }
}
