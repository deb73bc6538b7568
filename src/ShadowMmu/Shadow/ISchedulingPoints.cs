namespace ShadowMmu;

/// <summary>The places where the shadow MMU's protocols care who runs next (the hook points a systematic test explores).</summary>
public enum SchedulingPoint
{
    /// <summary>A fault's guest walk is done (no mmu_lock): guest writes may rewrite what it read.</summary>
    FaultAfterWalk,

    /// <summary>A fault snapshotted mmu_invalidate_seq and resolved its host frame (no mmu_lock): the host may move the frame.</summary>
    FaultAfterResolve,

    /// <summary>A fault holds the mmu_lock, checked the sequence, and is about to fetch and install.</summary>
    FaultBeforeInstall,

    /// <summary>A guest store is in memory, and the MMU has not looked at the frame's protection yet (a pending trap).</summary>
    GuestStoreLanded,

    /// <summary>A vCPU store translated through the shadow tables and is about to write memory (inside its shadow walk).</summary>
    StoreAfterTranslate,

    /// <summary>The host started an invalidation (its range zapped) and has not changed its mapping yet.</summary>
    InvalidationStarted,

    /// <summary>The host changed its mapping and has not ended the invalidation yet.</summary>
    InvalidationMoved,

    /// <summary>A sync wrote-protected an unsync table again and is about to re-read its entries (mmu_lock held).</summary>
    SyncAfterProtect,

    /// <summary>A guest flush (INVLPG, CR3 load) was recorded and its sync is about to run.</summary>
    FlushRecorded,

    /// <summary>A reader of <see cref="MmuRwLock"/> published its indicator and has not yet looked for a writer.</summary>
    SharedLockPublished,

    /// <summary>A writer of <see cref="MmuRwLock"/> set the writer word and has not yet looked at the readers' indicators.</summary>
    ExclusiveLockAnnounced,

    /// <summary>
    /// A fault on the mmu_lock's shared side re-checked the guest entry and is about to install its leaf (a
    /// compare-exchange, or a plain store in a page only its vCPU reaches): a trapped guest write may land here, and
    /// another vCPU may install or drop the same entry.
    /// </summary>
    SharedBeforeInstall,
}

/// <summary>
/// The seam through which a systematic concurrency tester (Microsoft.Coyote) controls the shadow MMU's threads: the MMU
/// calls <see cref="At"/> at each <see cref="SchedulingPoint"/> and <see cref="Spin"/> in each wait loop (the mmu_lock's
/// spin, a wait for shadow walks or for an invalidation), so that the tester decides who runs next and a waiter never
/// spins while the thread it waits for is held back. Null (the default) costs a null check. The MMU never calls it
/// while holding a lock other than the mmu_lock.
/// </summary>
public interface ISchedulingPoints
{
    /// <summary>A point where another thread may run before this one goes on.</summary>
    void At(SchedulingPoint point);

    /// <summary>This thread waits for another: let it run.</summary>
    void Spin();
}
