using System.Linq;
using Xunit;

namespace ShadowMmu.Tests.Shadow.Race;

/// <summary>A guest write to an unsync page table before and after its flush, in every mode: never stale; pending exactly where the architecture allows the old translation.</summary>
public class UnsyncWriteScenarioTests
{
    public static TheoryData<string, UnsyncWriteOrder> Combinations
    {
        get
        {
            var data = new TheoryData<string, UnsyncWriteOrder>();
            foreach (string mode in new[] { "legacy32", "pae", "long4", "long5", "ept4", "ept5" })
            {
                data.Add(mode, UnsyncWriteOrder.BeforeFlush);
                data.Add(mode, UnsyncWriteOrder.AfterFlush);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Never_stale_and_pending_only_between_a_write_and_its_flush(string mode, UnsyncWriteOrder order)
    {
        ProtocolScenarioResult result = UnsyncWriteScenario.Run(mode, order);
        string steps = string.Join("\n", result.Steps);

        Assert.True(result.Audit.Clean, steps);
        Assert.Equal(0, result.Audit.Pending);
        Assert.Contains(result.Steps, s => s.Contains("which goes unsync"));
        Assert.Contains($"-> 0x{ScenarioGuest.NewFrame:x} (Translated)", LastRead(result));
        if (order == UnsyncWriteOrder.AfterFlush)
        {
            // The write after the flush lands without a trap (x86: INVLPG re-read one entry and left the table unsync;
            // EPT: INVEPT synced and write-protected it, and the kernel's store made it unsync again), and the vCPU keeps
            // the old frame until the CR3 load: pending, not stale.
            string rewrite = result.Steps.Single(s => s.StartsWith("kernel rewrites", System.StringComparison.Ordinal));
            Assert.Contains("(no trap: the table is unsync)", rewrite);
            Assert.Contains(result.Steps, s => s.StartsWith("audit before the next flush: clean, 1 pending", System.StringComparison.Ordinal));
            Assert.Contains(result.Steps, s => s.StartsWith("vCPU 0 reads", System.StringComparison.Ordinal) && s.Contains($"-> 0x{ScenarioGuest.OldFrame:x} "));
        }
    }

    [Fact]
    public void The_scenario_repeats_step_for_step()
    {
        var first = UnsyncWriteScenario.Run("long4", UnsyncWriteOrder.AfterFlush).Steps;
        Assert.Equal(first, UnsyncWriteScenario.Run("long4", UnsyncWriteOrder.AfterFlush).Steps);
    }

    private static string LastRead(ProtocolScenarioResult result) => result.Steps.Last(s => s.StartsWith("vCPU 0 reads", System.StringComparison.Ordinal));
}
