using System.Runtime.CompilerServices;

namespace ShadowMmu;

/// <summary>
/// The shadow page-table entry format: the host's 64-bit format. A leaf maps the host frame that backs a guest frame
/// (<see cref="HostFrames"/>) with the rights the guest allows or fewer; the guest frame it stands for is kept beside
/// it in the shadow page (KVM's <c>shadowed_translation</c>). A guest frame outside guest memory has no host frame: its
/// leaf holds the guest frame itself and <see cref="NoSlot"/>. A non-leaf names the child shadow page by its id in the
/// frame field and grants every right (all restrictions live in the leaf, as in KVM's <c>link_shadow_page</c>).
/// </summary>
public static class Spte
{
    /// <summary>Present.</summary>
    public const ulong Present = 1UL << 0;

    /// <summary>Writable.</summary>
    public const ulong Writable = 1UL << 1;

    /// <summary>User-accessible.</summary>
    public const ulong User = 1UL << 2;

    /// <summary>Accessed: set by the vCPU's hardware walk when it uses a leaf.</summary>
    public const ulong Accessed = 1UL << 5;

    /// <summary>Software bit: installed by prefetch, not by a fault on this address.</summary>
    public const ulong Prefetched = 1UL << 9;

    /// <summary>
    /// Software bit of a <em>non-present</em> leaf entry (a tombstone, <see cref="Tombstone"/>): the entry stays on the
    /// reverse map of the guest frame its page records for it (<see cref="ShadowPage.GfnAt"/>), so that a fault on the
    /// mmu_lock's shared side may install a leaf for that frame again without touching the reverse map.
    /// </summary>
    public const ulong OnReverseMap = 1UL << 10;

    /// <summary>Software bit of a leaf: no host memory backs the guest frame (KVM: no memslot); the frame field holds the guest frame.</summary>
    public const ulong NoSlot = 1UL << 11;

    /// <summary>Frame (leaf: a host frame) or child shadow-page id (non-leaf).</summary>
    public const ulong FrameMask = 0x000F_FFFF_FFFF_F000UL;

    /// <summary>Protection key of a leaf.</summary>
    public const ulong KeyMask = 0xFUL << 59;

    /// <summary>Execute-disable.</summary>
    public const ulong NoExecute = 1UL << 63;

    /// <summary>A non-leaf entry linking shadow page <paramref name="childId"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Link(int childId) => ((ulong)childId << 12) | Present | Writable | User;

    /// <summary>
    /// A leaf entry for host frame <paramref name="pfn"/> with rights <paramref name="access"/> (U W X) and a
    /// protection key; for <see cref="HostFrames.None"/>, the guest frame <paramref name="gfn"/> with <see cref="NoSlot"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Leaf(ulong gfn, ulong pfn, uint access, int protectionKey, bool prefetched) =>
        (pfn == HostFrames.None ? (gfn << 12) | NoSlot : pfn << 12) | Present
        | ((access & AccessRights.Write) != 0 ? Writable : 0)
        | ((access & AccessRights.User) != 0 ? User : 0)
        | ((access & AccessRights.Execute) == 0 ? NoExecute : 0)
        | ((ulong)protectionKey << 59)
        | (prefetched ? Prefetched : Accessed);

    /// <summary>The rights (U W X) a leaf grants.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint AccessOf(ulong spte) =>
        ((spte & Writable) != 0 ? AccessRights.Write : 0)
        | ((spte & User) != 0 ? AccessRights.User : 0)
        | ((spte & NoExecute) == 0 ? AccessRights.Execute : 0);

    /// <summary>The frame a leaf maps: a host frame, or with <see cref="NoSlot"/> the guest frame itself.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Frame(ulong spte) => (spte & FrameMask) >> 12;

    /// <summary>The host frame a leaf maps, or <see cref="HostFrames.None"/> for one with <see cref="NoSlot"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Pfn(ulong spte) => (spte & NoSlot) != 0 ? HostFrames.None : (spte & FrameMask) >> 12;

    /// <summary>The child shadow page a non-leaf links.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ChildId(ulong spte) => (int)((spte & FrameMask) >> 12);

    /// <summary>
    /// The non-present value that a leaf dropped on the mmu_lock's shared side becomes (INVLPG): <see cref="OnReverseMap"/>
    /// and a stamp in the frame field that no other drop writes (the dropping vCPU's count of drops and its id). A fault
    /// installs with a compare-exchange from the value it read before its re-check; because every drop writes a value no
    /// one wrote before, a drop between that read and the compare-exchange always makes it fail (the ABA guard), even
    /// when the entry was not present before the drop either.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Tombstone(ulong stamp) => OnReverseMap | ((stamp << 12) & FrameMask);

    /// <summary>True for a non-present entry that is still on its frame's reverse map (<see cref="Tombstone"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsTombstone(ulong spte) => (spte & (Present | OnReverseMap)) == OnReverseMap;

    /// <summary>Whether the entry is present.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsPresent(ulong spte) => (spte & Present) != 0;
}
