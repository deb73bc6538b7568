using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// The mmu_lock: a spin lock, as KVM's <c>kvm->mmu_lock</c> is. Taken as <c>using (vm.MmuLock.Enter())</c>.
/// </summary>
/// <remarks>
/// Holds are short (a fault's Fetch and prefetch, a trapped write: tens of nanoseconds), so a waiter spins on a read
/// of the lock word rather than going to sleep in the kernel as a contended <see cref="Monitor"/> or
/// <c>System.Threading.Lock</c> may, and a release is one plain store: uncontended, taking and releasing it costs half
/// what a <see cref="Monitor"/> does (benchmarks/RESULTS.md). Past a few spins the waiter yields its core, so that a
/// holder preempted by an oversubscribed host (more vCPU threads than cores) runs.
/// The lock word holds the owner's managed thread id: that answers <see cref="IsHeldByCurrentThread"/>, and taking the
/// lock twice on one thread (it is not reentrant) throws rather than spinning for ever.
/// </remarks>
public sealed class MmuSpinLock
{
    private int _owner;

    /// <summary>A systematic tester's control of the waits (see <see cref="ISchedulingPoints"/>); null normally.</summary>
    internal ISchedulingPoints? Scheduling;

    /// <summary>True when the calling thread holds the lock.</summary>
    public bool IsHeldByCurrentThread => Volatile.Read(ref _owner) == Environment.CurrentManagedThreadId;

    /// <summary>Takes the lock; the scope's <c>Dispose</c> releases it.</summary>
    /// <exception cref="LockRecursionException">The calling thread holds the lock already.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Scope Enter()
    {
        int me = Environment.CurrentManagedThreadId;
        if (Interlocked.CompareExchange(ref _owner, me, 0) != 0)
        {
            EnterContended(me);
        }

        return new Scope(this);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterContended(int me)
    {
        if (Volatile.Read(ref _owner) == me)
        {
            throw new LockRecursionException("The mmu_lock is held by this thread already: it is not reentrant.");
        }

        if (Scheduling is ISchedulingPoints scheduling)
        {
            // Under a systematic tester the holder runs only when this waiter lets it.
            do
            {
                scheduling.Spin();
            }
            while (Interlocked.CompareExchange(ref _owner, me, 0) != 0);
            return;
        }

        // Test and test-and-set: spin on a plain read, which keeps the line shared, and compare-exchange only when
        // the lock looks free.
        var spin = default(SpinWait);
        do
        {
            do
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
            while (Volatile.Read(ref _owner) != 0);
        }
        while (Interlocked.CompareExchange(ref _owner, me, 0) != 0);
    }

    /// <summary>Releases the lock: a plain release store, as a spin unlock is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Exit()
    {
        System.Diagnostics.Debug.Assert(IsHeldByCurrentThread, "the mmu_lock is released by its holder");
        Volatile.Write(ref _owner, 0);
    }

    /// <summary>The mmu_lock held from <see cref="Enter"/> until <see cref="Dispose"/>.</summary>
    [ShadowMmu.Annotations.MmuLock]
    public readonly ref struct Scope
    {
        private readonly MmuSpinLock _lock;

        internal Scope(MmuSpinLock held) => _lock = held;

        /// <summary>Releases the lock.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Dispose() => _lock.Exit();
    }
}
