using Xunit;

namespace ShadowMmu.Tests.Shadow;

/// <summary>The shadow MMU's small structures: a page's group of entries, and the pool of reverse-map links.</summary>
public class ShadowStructuresTests
{
    [Fact]
    public void Absent_in_group_names_the_entries_of_the_aligned_group_that_are_not_present()
    {
        var page = new ShadowPage(0);
        page.Set(17, Spte.Leaf(0x123, 0x100123, AccessRights.All, 0, prefetched: false));
        page.Set(20, Spte.Link(3));
        page.Set(23, Spte.Leaf(0x456, HostFrames.None, AccessRights.User, 0, prefetched: true));
        page.Set(24, Spte.Leaf(0x789, 0x100789, AccessRights.All, 0, prefetched: false));   // the next group

        Assert.Equal(0b0110_1101, page.AbsentInGroup(16));
        Assert.Equal(0b0110_1101, page.AbsentInGroup(23));
        Assert.Equal(0b1111_1110, page.AbsentInGroup(31));
        Assert.Equal(0xFF, page.AbsentInGroup(ShadowPage.EntryCount - 1));
    }

    [Fact]
    public void A_leaf_names_the_host_frame_or_with_no_slot_the_guest_frame()
    {
        ulong backed = Spte.Leaf(0x123, 0x100456, AccessRights.All, 0, prefetched: false);
        ulong unbacked = Spte.Leaf(0x40000, HostFrames.None, AccessRights.All, 0, prefetched: false);

        Assert.Equal(0x100456UL, Spte.Pfn(backed));
        Assert.Equal(0x100456UL, Spte.Frame(backed));
        Assert.Equal(HostFrames.None, Spte.Pfn(unbacked));
        Assert.Equal(0x40000UL, Spte.Frame(unbacked));
        Assert.NotEqual(0UL, unbacked & Spte.NoSlot);
    }

    [Fact]
    public void The_link_pool_counts_its_free_links()
    {
        var pool = new LinkPool(3);
        int a = LinkPool.None, b = LinkPool.None;
        Assert.True(pool.CanAdd(3));
        Assert.False(pool.CanAdd(4));

        Assert.True(pool.Add(ref a, 1, 10));
        Assert.True(pool.Add(ref a, 2, 20));
        Assert.True(pool.Add(ref b, 3, 30));
        Assert.False(pool.CanAdd(1));
        Assert.False(pool.Add(ref b, 4, 40));

        Assert.True(pool.Remove(ref a, 1, 10));
        Assert.False(pool.Remove(ref a, 1, 10));
        Assert.True(pool.CanAdd(1));
        Assert.False(pool.CanAdd(2));
        Assert.Equal((2, 20), (pool.PageOf(a), pool.IndexOf(a)));
        Assert.Equal(LinkPool.None, pool.Next(a));

        Assert.True(pool.Add(ref b, 4, 40));
        Assert.Equal((4, 40), (pool.PageOf(b), pool.IndexOf(b)));
        Assert.Equal((3, 30), (pool.PageOf(pool.Next(b)), pool.IndexOf(pool.Next(b))));
    }
}
