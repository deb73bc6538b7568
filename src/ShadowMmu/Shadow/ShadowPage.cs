using System.Runtime.Intrinsics;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// One shadow page table: 512 host-format entries shadowing one guest table (or, when direct, one range of guest
/// frames), KVM's <c>struct kvm_mmu_page</c>. Pages are created once and recycled; their id is stable and is what a
/// non-leaf shadow entry holds.
/// </summary>
public sealed class ShadowPage
{
    internal const int EntryCount = 512;

    // A cache line of padding on each side of the entries: a page's object (read on every fault through it) and its
    // neighbours in the heap never share a line with entries that vCPUs write (on the shared side, each its own).
    private const int Padding = 8;

    private readonly ulong[] _sptes = new ulong[EntryCount + (2 * Padding)];
    [ShadowMmu.Annotations.GuardedByMmuLock]
    private readonly ulong[] _gfns = new ulong[EntryCount];

    internal ShadowPage(int id) => Id = id;

    /// <summary>The page's id: the value in the frame field of the entries that link it.</summary>
    public int Id { get; }

    /// <summary>The guest frame shadowed (direct pages: the first frame of the range).</summary>
    [ShadowMmu.Annotations.GuardedByMmuLock]
    public ulong Gfn { get; internal set; }

    /// <summary>What it shadows besides the frame.</summary>
    [ShadowMmu.Annotations.GuardedByMmuLock]
    public ShadowRole Role { get; internal set; }

    /// <summary>False once zapped: a zapped page is no longer found, and a vCPU using it as a root reloads.</summary>
    [ShadowMmu.Annotations.GuardedByMmuLock]
    public bool Valid { get; internal set; }

    /// <summary>How many vCPU root slots hold this page; such pages are not reclaimed while in use.</summary>
    [ShadowMmu.Annotations.GuardedByMmuLock]
    public int RootCount { get; internal set; }

    /// <summary>Trapped writes since a fault last walked through this page (KVM's write_flooding_count).</summary>
    [ShadowMmu.Annotations.GuardedByMmuLock]
    internal int WriteFloodCount;

    /// <summary>
    /// True while the page is unsync (KVM's <c>sp-&gt;unsync</c>): its guest table (of 4 KiB pages) is mapped writable and no
    /// longer write-protected, so the guest edits it without a trap, and the page is synced at the guest's TLB flushes.
    /// </summary>
    [ShadowMmu.Annotations.GuardedByMmuLock]
    public bool Unsync { get; internal set; }

    /// <summary>How many entries have their bit in <see cref="UnsyncChildBitmap"/> (KVM's <c>unsync_children</c>).</summary>
    [ShadowMmu.Annotations.GuardedByMmuLock]
    internal int UnsyncChildren;

    /// <summary>Entries whose child page is unsync or has unsync children (KVM's <c>unsync_child_bitmap</c>; cleared lazily).</summary>
    [ShadowMmu.Annotations.GuardedByMmuLock]
    internal readonly ulong[] UnsyncChildBitmap = new ulong[EntryCount / 64];

    /// <summary>Head of the list of (parent page, index) entries that link this page.</summary>
    [ShadowMmu.Annotations.GuardedByMmuLock]
    internal int ParentHead = LinkPool.None;

    /// <summary>
    /// The one vCPU whose roots (current or cached) reach this page, <see cref="NoVcpu"/> while none does, or
    /// <see cref="ManyVcpus"/> once more than one may (it never goes back: a zap may leave it too high, never too low).
    /// A leaf of a page only its own vCPU reaches is installed on the shared side with a plain store (Vm.ReplaceLeaf).
    /// </summary>
    [ShadowMmu.Annotations.GuardedByMmuLock]
    internal int ReachedBy = NoVcpu;

    /// <summary><see cref="ReachedBy"/> of a page no vCPU's roots reach.</summary>
    internal const int NoVcpu = -1;

    /// <summary><see cref="ReachedBy"/> of a page more than one vCPU's roots may reach.</summary>
    internal const int ManyVcpus = -2;

    /// <summary>Epoch at which the page was zapped; it is reused only when no vCPU walk can still see it.</summary>
    [ShadowMmu.Annotations.GuardedByMmuLock]
    internal long ZappedAt;

    /// <summary>Neighbours in the VM's list of active pages, oldest first.</summary>
    [ShadowMmu.Annotations.GuardedByMmuLock]
    internal ShadowPage? Older;

    [ShadowMmu.Annotations.GuardedByMmuLock]
    internal ShadowPage? Newer;

    /// <summary>Reads entry <paramref name="index"/> atomically, as the vCPU's page walker does.</summary>
    public ulong this[int index] => Volatile.Read(ref _sptes[Padding + index]);

    internal ref ulong Entry(int index) => ref _sptes[Padding + index];

    /// <summary>
    /// The entries of the aligned group of 8 that <paramref name="index"/> is in that are not present: bit i for entry
    /// <c>(index &amp; ~7) + i</c>. One look at the group instead of eight, for prefetch, which maps only those.
    /// </summary>
    public int AbsentInGroup(int index)
    {
        ref ulong group = ref _sptes[Padding + (index & ~7)];
        Vector256<ulong> present = Vector256<ulong>.One;
        uint low = Vector256.Equals(Vector256.LoadUnsafe(ref group) & present, Vector256<ulong>.Zero).ExtractMostSignificantBits();
        uint high = Vector256.Equals(Vector256.LoadUnsafe(ref group, 4) & present, Vector256<ulong>.Zero).ExtractMostSignificantBits();
        return (int)(low | high << 4);
    }

    /// <summary>A plain store of entry <paramref name="index"/>: the exclusive side's (the shared side changes leaves only through Vm.ReplaceLeaf and INVLPG's tombstones).</summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    internal void Set(int index, ulong value) => Volatile.Write(ref _sptes[Padding + index], value);

    /// <summary>The guest frame leaf <paramref name="index"/> stands for (KVM's <c>kvm_mmu_page_get_gfn</c>); set with the leaf, under the mmu_lock.</summary>
    public ulong GfnAt(int index) => _gfns[index];

    internal void SetGfn(int index, ulong gfn) => _gfns[index] = gfn;

    /// <inheritdoc/>
    public override string ToString() => $"sp#{Id}(gfn 0x{Gfn:x}, {Role})";
}
