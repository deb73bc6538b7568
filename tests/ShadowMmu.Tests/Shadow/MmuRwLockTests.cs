using System;
using System.Threading;
using Xunit;

namespace ShadowMmu.Tests.Shadow;

/// <summary>
/// The mmu_lock's shared and exclusive sides (issue 18): writers exclude everyone, readers only writers; a waiting
/// writer keeps new readers out; recursion throws instead of hanging; nothing is allocated.
/// </summary>
public class MmuRwLockTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void Writers_exclude_each_other()
    {
        // Read, spin, write back plus one: without exclusion two writers read the same value and an increment is lost.
        const int Threads = 6, Rounds = 20_000;
        var rw = new MmuRwLock();
        long count = 0;
        RunThreads(Threads, _ =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                using (rw.Enter())
                {
                    long seen = Volatile.Read(ref count);
                    Thread.SpinWait(i % 8);
                    Volatile.Write(ref count, seen + 1);
                }
            }
        });

        Assert.Equal((long)Threads * Rounds, count);
    }

    [Fact]
    public void Readers_hold_the_shared_side_together()
    {
        var rw = new MmuRwLock();
        int first = rw.AddReader(), second = rw.AddReader();
        using var firstInside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holder = new Thread(() =>
        {
            using (rw.EnterShared(first))
            {
                firstInside.Set();
                release.Wait();
            }
        });
        holder.Start();
        Assert.True(firstInside.Wait(Patience));

        // The first reader is inside and stays: a second one gets in beside it (with one lock word it would spin).
        bool secondGotIn = false;
        var joiner = new Thread(() =>
        {
            using (rw.EnterShared(second))
            {
                secondGotIn = true;
            }
        });
        joiner.Start();
        Assert.True(joiner.Join(Patience));
        Assert.True(secondGotIn);
        release.Set();
        Assert.True(holder.Join(Patience));
    }

    [Fact]
    public void A_writer_waits_for_readers_and_a_waiting_writer_keeps_new_readers_out()
    {
        var rw = new MmuRwLock();
        int early = rw.AddReader(), late = rw.AddReader();
        var order = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var earlyInside = new ManualResetEventSlim();
        using var releaseEarly = new ManualResetEventSlim();
        var earlyReader = new Thread(() =>
        {
            using (rw.EnterShared(early))
            {
                earlyInside.Set();
                releaseEarly.Wait();
                order.Enqueue("early reader leaves");
            }
        });
        earlyReader.Start();
        Assert.True(earlyInside.Wait(Patience));

        var writer = new Thread(() =>
        {
            using (rw.Enter())
            {
                order.Enqueue("writer in");
                Thread.Sleep(20);
                order.Enqueue("writer leaves");
            }
        });
        writer.Start();
        Assert.True(SpinWait.SpinUntil(() => rw.IsWriterPresent, Patience));

        // The writer waits for the early reader; a reader arriving now must wait for the writer, not join the early one.
        var lateReader = new Thread(() =>
        {
            using (rw.EnterShared(late))
            {
                order.Enqueue("late reader in");
            }
        });
        lateReader.Start();
        Thread.Sleep(50);
        Assert.Empty(order);
        releaseEarly.Set();
        Assert.True(earlyReader.Join(Patience));
        Assert.True(writer.Join(Patience));
        Assert.True(lateReader.Join(Patience));
        Assert.Equal(new[] { "early reader leaves", "writer in", "writer leaves", "late reader in" }, order.ToArray());
    }

    [Fact]
    public void Readers_that_keep_the_shared_side_busy_do_not_starve_a_writer()
    {
        // Two readers overlap their holds so that the shared side is never free; with reader preference the writer
        // would never find it empty. Each writer hold checks that no reader is inside.
        var rw = new MmuRwLock();
        int readersInside = 0, violations = 0;
        bool stop = false;
        var readers = new Thread[2];
        for (int r = 0; r < readers.Length; r++)
        {
            int slot = rw.AddReader();
            readers[r] = new Thread(() =>
            {
                while (!Volatile.Read(ref stop))
                {
                    using (rw.EnterShared(slot))
                    {
                        Interlocked.Increment(ref readersInside);
                        Thread.SpinWait(200);
                        Interlocked.Decrement(ref readersInside);
                    }
                }
            });
            readers[r].Start();
        }

        var writer = new Thread(() =>
        {
            for (int i = 0; i < 2_000; i++)
            {
                using (rw.Enter())
                {
                    if (Volatile.Read(ref readersInside) != 0)
                    {
                        Interlocked.Increment(ref violations);
                    }
                }
            }
        });
        writer.Start();
        bool writerDone = writer.Join(Patience);
        Volatile.Write(ref stop, true);
        foreach (Thread reader in readers)
        {
            Assert.True(reader.Join(Patience));
        }

        Assert.True(writerDone, "the writer did not get its 2,000 holds in 30 s while two readers kept the shared side busy");
        Assert.Equal(0, violations);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Seeded_mix_of_readers_and_writers_never_overlaps_a_writer(int seed)
    {
        // Each thread is a reader slot too; its seeded stream chooses shared or exclusive holds of random length. Under
        // the exclusive side nobody else may be inside; under the shared side no writer. Readers also check that a
        // value the writers keep in two halves is never seen torn.
        const int Threads = 5, Rounds = 20_000;
        var rw = new MmuRwLock();
        int writersInside = 0, readersInside = 0, violations = 0;
        long low = 0, high = 0;
        var slots = new int[Threads];
        for (int t = 0; t < Threads; t++)
        {
            slots[t] = rw.AddReader();
        }

        RunThreads(Threads, t =>
        {
            var random = new Random(Simulation.ThreadSeed(seed, "rwlock", t));
            for (int i = 0; i < Rounds; i++)
            {
                if (random.Next(8) == 0)
                {
                    using (rw.Enter())
                    {
                        if (Interlocked.Increment(ref writersInside) != 1 || Volatile.Read(ref readersInside) != 0)
                        {
                            Interlocked.Increment(ref violations);
                        }

                        long next = Volatile.Read(ref low) + 1;
                        Volatile.Write(ref low, next);
                        Thread.SpinWait(random.Next(16));
                        Volatile.Write(ref high, next);
                        Interlocked.Decrement(ref writersInside);
                    }
                }
                else
                {
                    using (rw.EnterShared(slots[t]))
                    {
                        Interlocked.Increment(ref readersInside);
                        long seenLow = Volatile.Read(ref low);
                        Thread.SpinWait(random.Next(16));
                        if (Volatile.Read(ref writersInside) != 0 || Volatile.Read(ref high) != seenLow)
                        {
                            Interlocked.Increment(ref violations);
                        }

                        Interlocked.Decrement(ref readersInside);
                    }
                }
            }
        });

        Assert.Equal(0, violations);
        Assert.Equal(low, high);
        Assert.True(low > 0);
    }

    [Fact]
    public void Recursion_throws_instead_of_waiting_for_itself()
    {
        var rw = new MmuRwLock();
        int reader = rw.AddReader();
        using (rw.Enter())
        {
            Assert.True(rw.IsHeldByCurrentThread);
            Assert.Throws<LockRecursionException>(() => { using (rw.Enter()) { } });
            Assert.Throws<LockRecursionException>(() => { using (rw.EnterShared(reader)) { } });
            Assert.True(rw.IsHeldByCurrentThread);
            Assert.False(rw.IsHeldSharedByCurrentThread(reader));
        }

        using (rw.EnterShared(reader))
        {
            Assert.True(rw.IsHeldSharedByCurrentThread(reader));
            Assert.Throws<LockRecursionException>(() => { using (rw.EnterShared(reader)) { } });

            // No upgrade in place: the exclusive side would wait for this very reader.
            Assert.Throws<LockRecursionException>(() => { using (rw.Enter()) { } });
            Assert.False(rw.IsWriterPresent);
            Assert.True(rw.IsHeldSharedByCurrentThread(reader));
        }

        // Both sides free again: another thread takes the exclusive side at once.
        var taken = new Thread(() => { using (rw.Enter()) { } });
        taken.Start();
        Assert.True(taken.Join(Patience));
    }

    [Fact]
    public void Readers_are_registered_up_to_the_limit()
    {
        var rw = new MmuRwLock(maxReaders: 2);
        Assert.Equal(0, rw.AddReader());
        Assert.Equal(1, rw.AddReader());
        Assert.Throws<InvalidOperationException>(() => rw.AddReader());
        Assert.Equal(2, rw.ReaderCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => { using (rw.EnterShared(2)) { } });
    }

    [Fact]
    public void Taking_and_releasing_either_side_allocates_nothing()
    {
        var rw = new MmuRwLock();
        int reader = rw.AddReader();
        for (int i = 0; i < 100; i++)
        {
            using (rw.EnterShared(reader))
            {
            }

            using (rw.Enter())
            {
            }
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            using (rw.EnterShared(reader))
            {
            }

            using (rw.Enter())
            {
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void RunThreads(int count, Action<int> body)
    {
        using var start = new Barrier(count);
        var threads = new Thread[count];
        Exception? failure = null;
        for (int t = 0; t < count; t++)
        {
            int index = t;
            threads[t] = new Thread(() =>
            {
                try
                {
                    start.SignalAndWait();
                    body(index);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
            });
            threads[t].Start();
        }

        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(TimeSpan.FromMinutes(2)));
        }

        Assert.Null(failure);
    }
}
