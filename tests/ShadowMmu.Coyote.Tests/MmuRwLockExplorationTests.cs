using System.Threading;
using System.Threading.Tasks;
using Microsoft.Coyote;
using Microsoft.Coyote.Specifications;
using Microsoft.Coyote.SystematicTesting;
using Xunit;
using Xunit.Abstractions;
using CoyotePoint = Microsoft.Coyote.Runtime.SchedulingPoint;

namespace ShadowMmu.Coyote.Tests;

/// <summary>
/// Coyote explores the mmu_lock's two sides (<see cref="MmuRwLock"/>) over its hook points: between a reader's
/// publication of its indicator and its look at the writer word (<see cref="SchedulingPoint.SharedLockPublished"/>),
/// between a writer's announcement and its look at the indicators (<see cref="SchedulingPoint.ExclusiveLockAnnounced"/>),
/// inside every hold and in every wait. In no schedule may a writer hold the lock with anyone else inside.
/// </summary>
public class MmuRwLockExplorationTests
{
    private readonly ITestOutputHelper _output;

    public MmuRwLockExplorationTests(ITestOutputHelper output) => _output = output;

    /// <summary>Two readers and <paramref name="writers"/> writers, each taking its side twice.</summary>
    private static System.Func<Task> Run(int writers) => async () =>
    {
        var rw = new MmuRwLock { Scheduling = new CoyoteScheduling() };
        int readersInside = 0, writersInside = 0;
        int first = rw.AddReader(), second = rw.AddReader();

        Task Reader(int slot) => Task.Run(() =>
        {
            for (int round = 0; round < 2; round++)
            {
                using (rw.EnterShared(slot))
                {
                    Interlocked.Increment(ref readersInside);
                    CoyotePoint.Interleave();
                    Specification.Assert(Volatile.Read(ref writersInside) == 0, "a reader is inside with a writer");
                    Interlocked.Decrement(ref readersInside);
                }
            }
        });

        Task Writer() => Task.Run(() =>
        {
            for (int round = 0; round < 2; round++)
            {
                using (rw.Enter())
                {
                    Specification.Assert(Interlocked.Increment(ref writersInside) == 1, "two writers are inside");
                    CoyotePoint.Interleave();
                    Specification.Assert(Volatile.Read(ref readersInside) == 0, "a writer is inside with a reader");
                    Interlocked.Decrement(ref writersInside);
                }
            }
        });

        var tasks = new Task[2 + writers];
        tasks[0] = Reader(first);
        tasks[1] = Reader(second);
        for (int w = 0; w < writers; w++)
        {
            tasks[2 + w] = Writer();
        }

        await Task.WhenAll(tasks);
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void No_schedule_lets_a_writer_in_with_anyone_else(int writers)
    {
        Configuration config = Configuration.Create()
            .WithTestingIterations(500)
            .WithRandomGeneratorSeed(23)
            .WithMaxSchedulingSteps(5_000)
            .WithPartiallyControlledConcurrencyAllowed(false);
        using var engine = TestingEngine.Create(config, Run(writers));
        engine.Run();
        TestReport report = engine.TestReport;
        _output.WriteLine($"{report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths} schedules explored, {report.NumOfFoundBugs} bug(s)");
        foreach (string bug in report.BugReports)
        {
            _output.WriteLine("  " + bug);
        }

        Assert.Equal(0, report.NumOfFoundBugs);
        Assert.True(report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths > 0);
    }
}
