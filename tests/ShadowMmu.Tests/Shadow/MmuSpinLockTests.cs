using System;
using System.Threading;
using Xunit;

namespace ShadowMmu.Tests.Shadow;

/// <summary>The mmu_lock is a spin lock: it must exclude, know its holder, refuse to be taken twice, and not allocate.</summary>
public class MmuSpinLockTests
{
    [Fact]
    public void Holders_on_several_threads_exclude_each_other()
    {
        // Each holder reads the shared count, spins a little and writes it back plus one: without exclusion two
        // holders read the same value and an increment is lost. More threads than the machine's 2 cores, so that
        // some holders are preempted while they hold the lock and the waiters must yield to them.
        const int Threads = 6, Rounds = 20_000;
        var mmuLock = new MmuSpinLock();
        long count = 0;
        int inside = 0, overlaps = 0;
        using var start = new Barrier(Threads);
        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            threads[t] = new Thread(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < Rounds; i++)
                {
                    using (mmuLock.Enter())
                    {
                        if (Interlocked.Increment(ref inside) != 1)
                        {
                            Interlocked.Increment(ref overlaps);
                        }

                        long seen = Volatile.Read(ref count);
                        Thread.SpinWait(i % 8);
                        Volatile.Write(ref count, seen + 1);
                        Interlocked.Decrement(ref inside);
                    }
                }
            });
            threads[t].Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        Assert.Equal(0, overlaps);
        Assert.Equal((long)Threads * Rounds, count);
    }

    [Fact]
    public void Knows_whether_the_calling_thread_holds_it()
    {
        var mmuLock = new MmuSpinLock();
        Assert.False(mmuLock.IsHeldByCurrentThread);
        using (mmuLock.Enter())
        {
            Assert.True(mmuLock.IsHeldByCurrentThread);
            bool heldElsewhere = true;
            var other = new Thread(() => heldElsewhere = mmuLock.IsHeldByCurrentThread);
            other.Start();
            other.Join();
            Assert.False(heldElsewhere);
        }

        Assert.False(mmuLock.IsHeldByCurrentThread);
    }

    [Fact]
    public void Taking_it_twice_on_one_thread_throws_instead_of_spinning_for_ever()
    {
        var mmuLock = new MmuSpinLock();
        using (mmuLock.Enter())
        {
            Assert.Throws<LockRecursionException>(() => { using (mmuLock.Enter()) { } });
            Assert.True(mmuLock.IsHeldByCurrentThread);
        }

        // Released by the outer scope: another thread takes it at once.
        var taken = new Thread(() => { using (mmuLock.Enter()) { } });
        taken.Start();
        Assert.True(taken.Join(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Waits_for_the_holder_and_then_takes_it()
    {
        var mmuLock = new MmuSpinLock();
        int stage = 0;
        Thread waiter;
        using (mmuLock.Enter())
        {
            waiter = new Thread(() =>
            {
                Volatile.Write(ref stage, 1);
                using (mmuLock.Enter())
                {
                    Volatile.Write(ref stage, 2);
                }
            });
            waiter.Start();
            SpinWait.SpinUntil(() => Volatile.Read(ref stage) == 1);
            Thread.Sleep(50);
            Assert.Equal(1, Volatile.Read(ref stage));
        }

        Assert.True(waiter.Join(TimeSpan.FromSeconds(30)));
        Assert.Equal(2, stage);
    }

    [Fact]
    public void Taking_and_releasing_allocates_nothing()
    {
        var mmuLock = new MmuSpinLock();
        for (int i = 0; i < 100; i++)
        {
            using (mmuLock.Enter())
            {
            }
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            using (mmuLock.Enter())
            {
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
