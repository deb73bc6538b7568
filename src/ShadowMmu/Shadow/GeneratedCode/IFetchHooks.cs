namespace ShadowMmu;

/// <summary>
/// Points inside <c>Fetch</c> where a deterministic scenario may act (another thread writing guest memory, say).
/// The default, <see cref="NoFetchHooks"/>, compiles to nothing.
/// </summary>
/// <remarks>
/// A fault may hold the mmu_lock twice: first its shared side (<c>FetchShared</c>), then, when that answered
/// <see cref="FetchOutcome.NeedsExclusive"/>, its exclusive side (<c>Fetch</c>). The hooks under the lock run in each
/// hold (<see cref="AfterFetch"/> sees <see cref="FetchOutcome.NeedsExclusive"/> at the end of the first);
/// <c>vcpu.Vm.MmuLock.IsHeldByCurrentThread</c> tells the exclusive hold from the shared one.
/// </remarks>
public interface IFetchHooks
{
    /// <summary>
    /// Called with the mmu_lock held (either side), right after the shadow page <paramref name="child"/> for the guest table that
    /// holds the walk's entry at <paramref name="level"/> was obtained (the table is write-protected from here on),
    /// and before that entry is re-checked.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    void AfterChildPage(int level, ShadowPage child);

    /// <summary>
    /// Called by the fault path without the mmu_lock, after the guest walk succeeded and before the lock is taken for
    /// <c>Fetch</c>: the window in which the entries the walk read may change under it. Not called by <c>Fetch</c>.
    /// </summary>
    void AfterWalk(Vcpu vcpu, in GuestWalk walk)
    {
    }

    /// <summary>
    /// Called by the fault path without the mmu_lock, after it took its snapshot of <see cref="Vm.MmuInvalidateSeq"/>
    /// (<paramref name="mmuSeq"/>) and resolved the guest frame to host frame <paramref name="pfn"/>, before it takes the
    /// lock: the window in which a host invalidation may move the frame under it.
    /// </summary>
    void AfterResolve(Vcpu vcpu, in GuestWalk walk, long mmuSeq, ulong pfn)
    {
    }

    /// <summary>
    /// Called by the fault path with the mmu_lock held, after it re-checked the sequence (<paramref name="stale"/>: an
    /// invalidation moved or may be moving the frame, and the fault retries) and before anything is installed.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    void AfterSequenceCheck(Vcpu vcpu, bool checkedSequence, bool stale)
    {
    }

    /// <summary>Called by the fault path with the mmu_lock held, right before <c>Fetch</c> (and its root re-check).</summary>
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    void BeforeFetch(Vcpu vcpu, in GuestWalk walk)
    {
    }

    /// <summary>Called by the fault path with the mmu_lock still held, right after <c>Fetch</c> returned <paramref name="outcome"/>.</summary>
    [ShadowMmu.Annotations.RequiresMmuLock(Shared = true)]
    void AfterFetch(Vcpu vcpu, FetchOutcome outcome)
    {
    }

    /// <summary>Called by the fault path without the mmu_lock, right after it released the lock that <c>Fetch</c> ran under, before the access is retried.</summary>
    void AfterUnlock(Vcpu vcpu)
    {
    }
}

/// <summary>No hooks.</summary>
public readonly struct NoFetchHooks : IFetchHooks
{
    /// <inheritdoc/>
    public void AfterChildPage(int level, ShadowPage child)
    {
    }
}
