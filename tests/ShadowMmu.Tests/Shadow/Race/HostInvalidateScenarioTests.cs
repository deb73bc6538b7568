using System.Linq;
using Xunit;

namespace ShadowMmu.Tests.Shadow.Race;

/// <summary>
/// The mmu-notifier race, deterministic: a host invalidation between the fault's frame resolution and its install
/// (write-first) or after the install (fetch-first), with the sequence re-check on and off, in every mode.
/// </summary>
public class HostInvalidateScenarioTests
{
    private static readonly string[] ModeNames = { "legacy32", "pae", "long4", "long5", "ept4", "ept5" };

    public static TheoryData<string, HostInvalidateOrder, bool> Combinations
    {
        get
        {
            var data = new TheoryData<string, HostInvalidateOrder, bool>();
            foreach (string mode in ModeNames)
            {
                foreach (HostInvalidateOrder order in new[] { HostInvalidateOrder.WriteFirst, HostInvalidateOrder.FetchFirst })
                {
                    data.Add(mode, order, true);
                    data.Add(mode, order, false);
                }
            }

            return data;
        }
    }

    /// <summary>
    /// Stale exactly when the invalidation ran whole between the resolution and the install and nothing re-checked the
    /// sequence: its start found nothing to zap, and the install maps the host frame the host has freed. Fetch-first,
    /// the start zaps what the install made, whatever the check.
    /// </summary>
    [Theory]
    [MemberData(nameof(Combinations))]
    public void Stale_exactly_when_the_move_falls_between_resolution_and_install_without_the_check(string mode, HostInvalidateOrder order, bool sequenceCheck)
    {
        ProtocolScenarioResult result = HostInvalidateScenario.Run(mode, order, sequenceCheck);
        string steps = string.Join("\n", result.Steps);

        bool expectStale = order == HostInvalidateOrder.WriteFirst && !sequenceCheck;
        Assert.Equal(expectStale, !result.Audit.Clean);
        if (expectStale)
        {
            StaleEntry stale = Assert.Single(result.Audit.Stale);
            Assert.Contains($"is backed by host frame", stale.Problem);
            Assert.Equal(0, result.Stats.SeqRetries);

            // The vCPU's access went to the old host frame, which the host freed: it backs no guest frame.
            Assert.Contains(result.Steps, s => s.StartsWith("access:", System.StringComparison.Ordinal) && s.Contains("-> a host frame that backs no guest frame any more"));
        }

        // Only write-first with the check retries on the sequence; fetch-first needs no retry (the start zaps).
        Assert.True((order == HostInvalidateOrder.WriteFirst && sequenceCheck) == (result.Stats.SeqRetries == 1), steps);
        Assert.Equal(1, result.Stats.Invalidations);
    }

    [Fact]
    public void Write_first_with_the_check_narrates_the_retry_and_installs_the_new_host_frame()
    {
        ProtocolScenarioResult result = HostInvalidateScenario.Run("long4", HostInvalidateOrder.WriteFirst, sequenceCheck: true);

        int resolve = Index(result, s => s.StartsWith("fault 1: snapshots mmu_invalidate_seq = 0", System.StringComparison.Ordinal));
        int host = Index(result, s => s.StartsWith("host: invalidate_range_start", System.StringComparison.Ordinal) && s.Contains("mmu_invalidate_seq = 1"));
        int retry = Index(result, s => s.Contains("not the snapshot's: the host frame may be stale, retry the fault"));
        int second = Index(result, s => s.StartsWith("fault 2: snapshots mmu_invalidate_seq = 1", System.StringComparison.Ordinal));
        Assert.True(resolve < host && host < retry && retry < second, string.Join("\n", result.Steps));
        Assert.True(result.Audit.Clean);
    }

    [Fact]
    public void The_scenario_repeats_step_for_step()
    {
        foreach (HostInvalidateOrder order in new[] { HostInvalidateOrder.WriteFirst, HostInvalidateOrder.FetchFirst })
        {
            var first = HostInvalidateScenario.Run("long4", order, sequenceCheck: true).Steps;
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(first, HostInvalidateScenario.Run("long4", order, sequenceCheck: true).Steps);
            }
        }
    }

    private static int Index(ProtocolScenarioResult result, System.Func<string, bool> match)
    {
        int index = result.Steps.ToList().FindIndex(s => match(s));
        Assert.True(index >= 0, string.Join("\n", result.Steps));
        return index;
    }
}
