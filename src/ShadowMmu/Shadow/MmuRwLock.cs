using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// An mmu_lock with a shared and an exclusive side (issue 18), built as Linux's percpu rw-semaphore and big-reader
/// locks are: each reader (a vCPU) has its own indicator on its own cache line, and the exclusive side is one word that
/// a writer sets before it waits for the readers to drain. Taken as <c>using (rw.EnterShared(slot))</c> or
/// <c>using (rw.Enter())</c>.
/// </summary>
/// <remarks>
/// <para>The shared side writes only its own reader's line: an exchange that publishes the holder, then a read of the
/// writer word (which stays shared in every core's cache while no writer comes). Two vCPUs faulting on the shared side
/// therefore move no line between their cores for the lock, which is what a single lock word costs on every fault
/// (benchmarks/RESULTS.md, "What limits faults per second with 2 vCPUs").</para>
/// <para>The two sides meet as in Dekker's algorithm: a reader stores its indicator then reads the writer word; a
/// writer stores the writer word then reads every indicator; both stores are full fences (interlocked), so at least
/// one of the two sees the other. A reader that sees a writer withdraws its indicator and waits until the writer word
/// is clear, then tries again. A writer that sees a reader waits for it to leave.</para>
/// <para>Writers are preferred: the writer word is set as soon as a writer arrives (before it drains the readers), and
/// from then on no reader gets in, so readers that keep arriving cannot hold a writer off; a writer waits at most for
/// the holds that began before it. Readers can wait behind a stream of writers, as with percpu-rwsem; in the shadow MMU
/// writers are the rare side (page creation, zaps, trapped writes, syncs, host invalidations).</para>
/// <para>Neither side is reentrant, and the shared side cannot be upgraded in place: a reader that needs the exclusive
/// side releases the shared side and takes the exclusive one (and re-validates, as KVM's fault retries). Taking the
/// exclusive side while holding the shared side on the same thread throws <see cref="LockRecursionException"/> rather
/// than wait for itself for ever, as do the other recursions the lock can see.</para>
/// </remarks>
public sealed class MmuRwLock
{
    private readonly ReaderIndicator[] _readers;
    private WriterWord _writer;
    private int _readerCount;

    /// <summary>A lock with room for <paramref name="maxReaders"/> readers (<see cref="AddReader"/>).</summary>
    public MmuRwLock(int maxReaders = Vm.MaxVcpus)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxReaders, 1);
        _readers = new ReaderIndicator[maxReaders];
    }

    /// <summary>
    /// A systematic tester's control of the waits and of the two points where Dekker's order matters (see
    /// <see cref="ISchedulingPoints"/>); null normally.
    /// </summary>
    internal ISchedulingPoints? Scheduling;

    /// <summary>Readers registered so far.</summary>
    public int ReaderCount => Volatile.Read(ref _readerCount);

    /// <summary>True when the calling thread holds the exclusive side.</summary>
    public bool IsHeldByCurrentThread => Volatile.Read(ref _writer.Owner) == Environment.CurrentManagedThreadId;

    /// <summary>True while a writer holds or waits for the exclusive side (readers then stay out).</summary>
    public bool IsWriterPresent => Volatile.Read(ref _writer.Owner) != 0;

    /// <summary>True when the calling thread holds the shared side as reader <paramref name="reader"/>.</summary>
    public bool IsHeldSharedByCurrentThread(int reader) => Volatile.Read(ref _readers[reader].Holder) == Environment.CurrentManagedThreadId;

    /// <summary>
    /// Registers a reader (a vCPU) and returns its slot for <see cref="EnterShared"/>. One slot is used by one thread at
    /// a time. Safe to call while others hold either side: a writer that read the count before this reader came sees it
    /// through the writer word instead (the new reader finds the word set and stays out).
    /// </summary>
    /// <exception cref="InvalidOperationException">Every slot is taken.</exception>
    public int AddReader()
    {
        int slot = Interlocked.Increment(ref _readerCount) - 1;
        if (slot >= _readers.Length)
        {
            Interlocked.Decrement(ref _readerCount);
            throw new InvalidOperationException($"The mmu_lock has room for {_readers.Length} readers.");
        }

        return slot;
    }

    /// <summary>Takes the shared side as reader <paramref name="reader"/>; the scope's <c>Dispose</c> releases it.</summary>
    /// <exception cref="LockRecursionException">The slot is held already, or this thread holds the exclusive side.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public SharedScope EnterShared(int reader)
    {
        ref int holder = ref _readers[(uint)reader < (uint)Volatile.Read(ref _readerCount) ? reader : ThrowUnknownReader(reader)].Holder;
        int me = Environment.CurrentManagedThreadId;
        if (Volatile.Read(ref holder) != 0)
        {
            ThrowReaderHeld(reader);
        }

        // Publish the indicator (a full fence), then look for a writer: Dekker's order against Enter's.
        Interlocked.Exchange(ref holder, me);
        Scheduling?.At(SchedulingPoint.SharedLockPublished);
        if (Volatile.Read(ref _writer.Owner) != 0)
        {
            EnterSharedContended(ref holder, me);
        }

        return new SharedScope(this, reader);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterSharedContended(ref int holder, int me)
    {
        do
        {
            // Back off: withdraw the indicator so that the writer can drain, wait for it to leave, publish again.
            Volatile.Write(ref holder, 0);
            if (Volatile.Read(ref _writer.Owner) == me)
            {
                throw new LockRecursionException("The mmu_lock's exclusive side is held by this thread: the shared side cannot be taken under it.");
            }

            WaitWhileSet(ref _writer.Owner);
            Interlocked.Exchange(ref holder, me);
            Scheduling?.At(SchedulingPoint.SharedLockPublished);
        }
        while (Volatile.Read(ref _writer.Owner) != 0);
    }

    /// <summary>Takes the exclusive side: waits for other writers, then keeps new readers out and waits for the present ones to leave.</summary>
    /// <exception cref="LockRecursionException">This thread holds the exclusive side, or the shared side, already.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ExclusiveScope Enter()
    {
        int me = Environment.CurrentManagedThreadId;
        if (Interlocked.CompareExchange(ref _writer.Owner, me, 0) != 0)
        {
            EnterContended(me);
        }

        // The compare-exchange was a full fence: every indicator read now is read after the writer word was set.
        Scheduling?.At(SchedulingPoint.ExclusiveLockAnnounced);
        int readers = Volatile.Read(ref _readerCount);
        for (int i = 0; i < readers; i++)
        {
            if (Volatile.Read(ref _readers[i].Holder) != 0)
            {
                DrainReader(i, me);
            }
        }

        return new ExclusiveScope(this);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterContended(int me)
    {
        if (Volatile.Read(ref _writer.Owner) == me)
        {
            throw new LockRecursionException("The mmu_lock is held by this thread already: it is not reentrant.");
        }

        if (Scheduling is ISchedulingPoints scheduling)
        {
            do
            {
                scheduling.Spin();
            }
            while (Interlocked.CompareExchange(ref _writer.Owner, me, 0) != 0);
            return;
        }

        // Test and test-and-set, as MmuSpinLock.
        var spin = default(SpinWait);
        do
        {
            do
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
            while (Volatile.Read(ref _writer.Owner) != 0);
        }
        while (Interlocked.CompareExchange(ref _writer.Owner, me, 0) != 0);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DrainReader(int reader, int me)
    {
        ref int holder = ref _readers[reader].Holder;
        if (Volatile.Read(ref holder) == me)
        {
            Volatile.Write(ref _writer.Owner, 0);
            throw new LockRecursionException($"This thread holds the mmu_lock's shared side (reader {reader}): release it before taking the exclusive side (no upgrade in place).");
        }

        // A reader that arrives from now on sees the writer word and withdraws; one inside finishes its hold.
        WaitWhileSet(ref holder);
    }

    // Spins (yielding past a few spins, or letting a systematic tester schedule) while the word is non-zero.
    private void WaitWhileSet(ref int word)
    {
        if (Scheduling is ISchedulingPoints scheduling)
        {
            while (Volatile.Read(ref word) != 0)
            {
                scheduling.Spin();
            }

            return;
        }

        var spin = default(SpinWait);
        while (Volatile.Read(ref word) != 0)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ExitShared(int reader)
    {
        System.Diagnostics.Debug.Assert(IsHeldSharedByCurrentThread(reader), "the shared side is released by its holder");
        Volatile.Write(ref _readers[reader].Holder, 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ExitExclusive()
    {
        System.Diagnostics.Debug.Assert(IsHeldByCurrentThread, "the exclusive side is released by its holder");
        Volatile.Write(ref _writer.Owner, 0);
    }

    private int ThrowUnknownReader(int reader) =>
        throw new ArgumentOutOfRangeException(nameof(reader), reader, $"Reader {reader} was not registered (AddReader): {ReaderCount} are.");

    private static void ThrowReaderHeld(int reader) =>
        throw new LockRecursionException($"Reader {reader} holds the mmu_lock's shared side already: it is not reentrant, and a slot belongs to one thread.");

    /// <summary>The shared side held from <see cref="EnterShared"/> until <see cref="Dispose"/>.</summary>
    [ShadowMmu.Annotations.MmuLock(Shared = true)]
    public readonly ref struct SharedScope
    {
        private readonly MmuRwLock _lock;
        private readonly int _reader;

        internal SharedScope(MmuRwLock held, int reader)
        {
            _lock = held;
            _reader = reader;
        }

        /// <summary>Releases the shared side.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Dispose() => _lock.ExitShared(_reader);
    }

    /// <summary>The exclusive side held from <see cref="Enter"/> until <see cref="Dispose"/>.</summary>
    [ShadowMmu.Annotations.MmuLock]
    public readonly ref struct ExclusiveScope
    {
        private readonly MmuRwLock _lock;

        internal ExclusiveScope(MmuRwLock held) => _lock = held;

        /// <summary>Releases the exclusive side.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Dispose() => _lock.ExitExclusive();
    }

    // One reader's indicator, alone in the middle of 128 bytes: no other reader's indicator, and nothing else that is
    // written, shares its cache line or the adjacent line that the hardware prefetcher pairs with it.
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct ReaderIndicator
    {
        [FieldOffset(64)]
        public int Holder;
    }

    // The writer word, likewise alone: readers only read it, so its line stays shared while no writer comes.
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct WriterWord
    {
        [FieldOffset(64)]
        public int Owner;
    }
}
