using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ShadowMmu.Tests.Paging;

/// <summary>
/// The generated walk reads entries through guest memory's base reference with one bounds compare per entry, the
/// limit computed once per walk. These cases are where that compare is easy to get wrong: a memory smaller than one
/// entry (only an image can be that small), the last whole entry of an odd-sized image, and a copy-on-write image
/// whose pages are copied while walks set A/D flags in them.
/// </summary>
public sealed class WalkMemoryBoundsTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "shadowmmu-bounds-" + Guid.NewGuid().ToString("N"));

    public WalkMemoryBoundsTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(8, 0x1000)]
    [InlineData(8, 0x1003)]
    [InlineData(4, 0x1000)]
    [InlineData(4, 0x1002)]
    public void A_group_of_entries_reads_each_entry_zero_extended_aligned_or_not(int entryBytes, ulong gpa)
    {
        using GuestMemory memory = GuestMemory.Allocate(0x2000);
        for (int i = 0; i < 8; i++)
        {
            memory.WriteEntry(gpa + (ulong)(i * entryBytes), 0xA5A5_0000_0000_0000UL * (ulong)(entryBytes / 4 - 1) + 0x1000_0001UL * (ulong)(i + 1), entryBytes);
        }

        var group = new ulong[8];
        Assert.True(memory.TryReadEntries(gpa, group, entryBytes));
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(memory.ReadEntry(gpa + (ulong)(i * entryBytes), entryBytes), group[i]);
        }

        Assert.False(memory.TryReadEntries(memory.Size - (ulong)(7 * entryBytes), group, entryBytes));
    }

    [Theory]
    [InlineData("legacy32", 1)]
    [InlineData("legacy32", 3)]
    [InlineData("long4", 1)]
    [InlineData("long4", 5)]
    [InlineData("long4", 7)]
    [InlineData("long5", 2)]
    public void A_memory_smaller_than_one_entry_holds_no_entry(string modeName, int size)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);

        // Short of an entry, and that entry would be present, writable, user, accessed (and point to frame 0, itself):
        // a read past the end would see it, the bytes after the file's end in the mapped page being zeros. (A limit
        // computed as Size - EntryBytes or Size - EntryBytes + 1 without a guard wraps around here.)
        byte[] image = new byte[size];
        image[0] = 0x27;
        using GuestMemory memory = Map(image);
        CpuState cpu = WalkAllocationTests.StateFor(modeName, 0);

        GuestWalk generated = Walk(PagingModes.CreateWalker(memory, cpu), 0x123);
        GuestWalk reference = Walk(ReferenceWalker.For(mode, memory, cpu), 0x123);

        Assert.Equal(WalkFault.PageFault, generated.Fault);
        Assert.True(generated.EntryOutsideMemory, generated.ToString());
        Assert.Equal(PageFaultErrorCode.User, generated.ErrorCode);
        Assert.Equal(mode.RootLevel, generated.Level);
        Assert.Equal(reference.ToString(), generated.ToString());
        Assert.Equal(reference.EntryOutsideMemory, generated.EntryOutsideMemory);
    }

    [Theory]
    [InlineData("legacy32")]
    [InlineData("long4")]
    public void The_last_whole_entry_of_an_odd_sized_image_is_in_memory_and_the_next_is_not(string modeName)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        int e = mode.EntryBytes;

        // The root table at 0x1000 whose entry 1 is the last whole entry in memory and entry 2 is cut by the end.
        using GuestMemory source = GuestMemory.Allocate(0x4000);
        var builder = new PageTableBuilder(source, mode, 0x1000, 0x4000);
        ulong topIndexShift = (ulong)(mode.RootLevel == 2 ? 22 : mode.RootLevel == 4 ? 39 : 48);
        source.WriteEntry(builder.Root + (ulong)e, 0x27, e);      // present, points to frame 0 (all zeros: not present)
        source.WriteEntry(builder.Root + (2UL * (ulong)e), 0x27, e);
        byte[] image = new byte[builder.Root + (2UL * (ulong)e) + (ulong)e - 1];
        source.Read(0, image);
        using GuestMemory memory = Map(image);
        CpuState cpu = WalkAllocationTests.StateFor(modeName, builder.Root);
        IGuestPageWalker walker = PagingModes.CreateWalker(memory, cpu);

        GuestWalk inside = Walk(walker, 1UL << (int)topIndexShift);
        Assert.False(inside.EntryOutsideMemory, inside.ToString());
        Assert.Equal(0x27UL, inside.Ptes[mode.RootLevel - 1]);
        Assert.Equal(mode.RootLevel - 1, inside.Level);          // the next level's entry (in frame 0) is not present

        GuestWalk cut = Walk(walker, 2UL << (int)topIndexShift);
        Assert.True(cut.EntryOutsideMemory, cut.ToString());
        Assert.Equal(mode.RootLevel, cut.Level);
        Assert.Equal(builder.Root + (2UL * (ulong)e), cut.PteGpa[mode.RootLevel - 1]);
    }

    [Theory]
    [InlineData("legacy32")]
    [InlineData("pae")]
    [InlineData("long4")]
    [InlineData("long5")]
    public void Walks_over_a_copy_on_write_image_see_their_own_flag_updates_and_leave_the_file_alone(string modeName)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        using GuestMemory source = GuestMemory.Allocate(0x40_0000);
        var builder = new PageTableBuilder(source, mode, 0x1000, 0x10_0000);
        builder.Map(0x40_0000, 0x20_0000, 0x1000, 0x7);
        byte[] image = new byte[0x40_0000];
        source.Read(0, image);
        string path = Path.Combine(_folder, modeName + ".bin");
        File.WriteAllBytes(path, image);

        using GuestMemory memory = GuestMemory.MapImage(path);
        IGuestPageWalker walker = PagingModes.CreateWalker(memory, WalkAllocationTests.StateFor(modeName, builder.Root));

        // The first write sets A in every entry and D in the leaf: each compare-exchange copies a page of the mapping.
        GuestWalk first = Walk(walker, 0x40_0123, AccessKind.Write);
        Assert.Equal(WalkFault.None, first.Fault);
        Assert.NotEqual(0, first.UpdateCount);
        ulong leaf = builder.EntryAddress(0x40_0000, 1)!.Value;
        Assert.Equal(0x60UL, memory.ReadEntry(leaf, mode.EntryBytes) & 0x60);

        // The next walk reads the private copies: nothing left to set.
        GuestWalk second = Walk(walker, 0x40_0123, AccessKind.Write);
        Assert.Equal(0x20_0123UL, second.PhysicalAddress);
        Assert.Equal(0, second.UpdateCount);
        Assert.Equal(image, File.ReadAllBytes(path));
    }

    private GuestMemory Map(byte[] image)
    {
        string path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".bin");
        File.WriteAllBytes(path, image);
        return GuestMemory.MapImage(path);
    }

    private static GuestWalk Walk(IGuestPageWalker walker, ulong va, AccessKind kind = AccessKind.Read)
    {
        var walk = default(GuestWalk);
        walker.WalkAddr(ref walk, va, kind, 3, false);
        return walk;
    }

    private static GuestWalk Walk(ReferenceWalker walker, ulong va)
    {
        var walk = default(GuestWalk);
        walker.WalkAddr(ref walk, va, AccessKind.Read, 3, false);
        return walk;
    }
}
