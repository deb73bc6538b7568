using System.IO;
using System.Linq;
using Xunit;

namespace ShadowMmu.Tests.Shadow.Race;

/// <summary>
/// The 2010 walk/fetch race (x86-paging.md section 8) as deterministic scenarios: every case, order and re-check order
/// in every mode. Which combinations leave a stale mapping is read from the audit only.
/// </summary>
public class RaceScenarioTests
{
    // The EPT modes shadow L1's EPT tables for a nested guest (shadow EPT): the same race, the same table as 4 and 5 levels.
    private static readonly string[] ModeNames = { "legacy32", "pae", "long4", "long5", "ept4", "ept5" };

    public static TheoryData<string, RaceCase, RaceOrder, RecheckOrder> Combinations
    {
        get
        {
            var data = new TheoryData<string, RaceCase, RaceOrder, RecheckOrder>();
            foreach (string mode in ModeNames)
            {
                foreach (RaceCase raceCase in new[] { RaceCase.Seed1a, RaceCase.Seed1b, RaceCase.Seed2 })
                {
                    foreach (RaceOrder order in new[] { RaceOrder.WriteFirst, RaceOrder.FetchFirst })
                    {
                        foreach (RecheckOrder recheck in new[] { RecheckOrder.Fixed, RecheckOrder.PreFix, RecheckOrder.NoLeaf })
                        {
                            data.Add(mode, raceCase, order, recheck);
                        }
                    }
                }
            }

            return data;
        }
    }

    /// <summary>32-bit and PAE guests: the page directory is the root's table, the page table the only table below it.</summary>
    private static bool TwoLevel(string mode) => mode is "legacy32" or "pae";

    /// <summary>
    /// The issue's table: stale exactly for 1a write-first pre-fix, and 2 write-first pre-fix and no-leaf.
    /// One deviation, in 32-bit and PAE guests only: there the table first shadowed inside the fault (case 1b) can only
    /// be the page table, so the rewritten entry is the PTE, and no-leaf never re-checks it. Write-first, the write
    /// lands before the page table is shadowed (no trap), fetch creates its shadow page and installs the leaf from the
    /// walk's PTE without a re-check, and nothing will ever trap to repair it: stale. (With 4 and 5 levels 1b
    /// rewrites a PDE, which no-leaf does re-check.)
    /// </summary>
    private static bool ExpectedStale(string mode, RaceCase raceCase, RaceOrder order, RecheckOrder recheck) =>
        (raceCase, order, recheck) switch
        {
            (RaceCase.Seed1a, RaceOrder.WriteFirst, RecheckOrder.PreFix) => true,
            (RaceCase.Seed2, RaceOrder.WriteFirst, RecheckOrder.PreFix) => true,
            (RaceCase.Seed2, RaceOrder.WriteFirst, RecheckOrder.NoLeaf) => true,
            (RaceCase.Seed1b, RaceOrder.WriteFirst, RecheckOrder.NoLeaf) => TwoLevel(mode),
            _ => false,
        };

    /// <summary>Level of the entry each case rewrites.</summary>
    private static int RewrittenLevel(string mode, RaceCase raceCase) => raceCase switch
    {
        RaceCase.Seed1a => 2,
        RaceCase.Seed1b => TwoLevel(mode) ? 1 : 2,
        _ => 1,
    };

    /// <summary>
    /// Whether fetch re-reads the rewritten entry after the write landed (so the re-check fails and fetch retries).
    /// In both orders the write is in memory before the point where fetch would re-check the entry (write-first: before
    /// fetch; fetch-first: once its table is write-protected, before its re-check). So it comes down to whether the
    /// order re-checks that entry at all in this fault: fixed always (root entry first, every level, the leaf group);
    /// no-leaf every entry but the PTE; pre-fix only an entry inside a table whose shadow page this fault looks up
    /// because the shadow entry above it is not present: in 1b (the table is first shadowed here), not in 1a or 2 (the
    /// path is shadowed, and in 1a write-first the link the handler zapped is below the table).
    /// </summary>
    private static bool ExpectedRecheckFailure(string mode, RaceCase raceCase, RecheckOrder recheck) => recheck switch
    {
        RecheckOrder.Fixed => true,
        RecheckOrder.NoLeaf => RewrittenLevel(mode, raceCase) != 1,
        _ => raceCase == RaceCase.Seed1b,
    };

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Audit_finds_a_stale_mapping_exactly_where_the_protocol_loses_the_race(string mode, RaceCase raceCase, RaceOrder order, RecheckOrder recheck)
    {
        RaceScenarioResult result = RaceScenario.Run(mode, raceCase, order, recheck);
        string steps = string.Join("\n", result.Steps);

        Assert.Equal(mode, result.Mode);
        Assert.Equal(RewrittenLevel(mode, raceCase), result.Write.Level);
        Assert.NotEqual(result.Write.OldValue, result.Write.NewValue);

        // Write-first, the write traps only where the table was shadowed before the fault; fetch-first it lands after
        // fetch write-protected the table, so it always traps.
        Assert.Equal(order == RaceOrder.FetchFirst || raceCase != RaceCase.Seed1b, result.Write.Trapped);

        if (ExpectedStale(mode, raceCase, order, recheck))
        {
            StaleEntry stale = Assert.Single(result.Audit.Stale);
            // The stale shadow entry is derived from the entry the case rewrote, which holds the new value now.
            Assert.StartsWith(
                $"level-{result.Write.Level} entry at 0x{result.Write.Gpa:x} = 0x{result.Write.NewValue:x}",
                stale.GuestPath);
            Assert.Equal(0, result.RecheckFailures);
            Assert.Contains(result.Steps, s => s.StartsWith("audit: stale: ", System.StringComparison.Ordinal));
        }
        else
        {
            Assert.True(result.Audit.Clean, $"{string.Join("\n", result.Audit.Stale)}\n\n{steps}");
            Assert.True(
                ExpectedRecheckFailure(mode, raceCase, recheck) == result.RecheckFailures > 0,
                $"re-check failures: {result.RecheckFailures}\n\n{steps}");
        }
    }

    [Theory]
    [InlineData("long4")]
    [InlineData("legacy32")]
    public void The_same_inputs_give_the_same_steps(string mode)
    {
        foreach (RaceCase raceCase in new[] { RaceCase.Seed1a, RaceCase.Seed1b, RaceCase.Seed2 })
        {
            foreach (RecheckOrder recheck in new[] { RecheckOrder.Fixed, RecheckOrder.PreFix, RecheckOrder.NoLeaf })
            {
                RaceScenarioResult first = RaceScenario.Run(mode, raceCase, RaceOrder.FetchFirst, recheck);
                for (int i = 0; i < 5; i++)
                {
                    Assert.Equal(first.Steps, RaceScenario.Run(mode, raceCase, RaceOrder.FetchFirst, recheck).Steps);
                }
            }
        }
    }

    [Fact]
    public void The_log_receives_every_step_as_it_happens()
    {
        using var log = new StringWriter();
        RaceScenarioResult result = RaceScenario.Run("long4", RaceCase.Seed1a, RaceOrder.WriteFirst, RecheckOrder.PreFix, log);

        Assert.Equal(result.Steps, log.ToString().Split('\n', System.StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
    }

    [Fact]
    public void Seed1a_write_first_pre_fix_narrates_the_lost_race()
    {
        RaceScenarioResult result = RaceScenario.Run("long4", RaceCase.Seed1a, RaceOrder.WriteFirst, RecheckOrder.PreFix);
        string pde = $"PDE at 0x{result.Write.Gpa:x}";

        int walk = Index(result, s => s.StartsWith($"walk: read {pde}", System.StringComparison.Ordinal));
        int write = Index(result, s => s.StartsWith($"guest writes the {pde}", System.StringComparison.Ordinal) && s.Contains("(trapped"));
        int handler = Index(result, s => s.StartsWith("trap handler", System.StringComparison.Ordinal) && s.Contains("zaps shadow entry"));
        int passed = Index(result, s => s.StartsWith("fetch: level-3 shadow entry", System.StringComparison.Ordinal) && s.Contains("passed without a lookup"));
        int leaf = Index(result, s => s.StartsWith("fetch: installs the leaf", System.StringComparison.Ordinal));
        Assert.True(walk < write && write < handler && handler < passed && passed < leaf, string.Join("\n", result.Steps));
        Assert.DoesNotContain(result.Steps, s => s.Contains($"re-check of the {pde}"));
    }

    [Fact]
    public void Seed1a_write_first_fixed_retries_at_the_pde_recheck()
    {
        RaceScenarioResult result = RaceScenario.Run("long4", RaceCase.Seed1a, RaceOrder.WriteFirst, RecheckOrder.Fixed);

        Assert.Contains(result.Steps, s => s.StartsWith($"fetch: re-check of the PDE at 0x{result.Write.Gpa:x}", System.StringComparison.Ordinal) && s.EndsWith("retry the fault", System.StringComparison.Ordinal));
    }

    [Fact]
    public void Fetch_first_writes_from_another_thread_whose_trap_handler_runs_after_the_lock_is_released()
    {
        RaceScenarioResult result = RaceScenario.Run("long4", RaceCase.Seed2, RaceOrder.FetchFirst, RecheckOrder.NoLeaf);

        int write = Index(result, s => s.StartsWith("guest writes the PTE", System.StringComparison.Ordinal) && s.Contains("from another thread"));
        int leaf = Index(result, s => s.StartsWith("fetch: installs the leaf", System.StringComparison.Ordinal));
        int released = Index(result, s => s.EndsWith("mmu_lock released", System.StringComparison.Ordinal));
        int handler = Index(result, s => s.StartsWith("trap handler (the writer's thread", System.StringComparison.Ordinal) && s.Contains("zaps shadow entry"));
        Assert.True(write < leaf && leaf < released && released < handler, string.Join("\n", result.Steps));
        Assert.True(result.Audit.Clean);
    }

    [Fact]
    public void Names_parse_back()
    {
        foreach (RaceCase value in new[] { RaceCase.Seed1a, RaceCase.Seed1b, RaceCase.Seed2 })
        {
            Assert.True(RaceScenario.TryParseCase(RaceScenario.Name(value), out RaceCase parsed));
            Assert.Equal(value, parsed);
        }

        Assert.True(RaceScenario.TryParseOrder("fetch-first", out RaceOrder order));
        Assert.Equal(RaceOrder.FetchFirst, order);
        Assert.True(RaceScenario.TryParseRecheck("no-leaf", out RecheckOrder recheck));
        Assert.Equal(RecheckOrder.NoLeaf, recheck);
        Assert.False(RaceScenario.TryParseCase("seed-3", out _));
        Assert.Throws<System.ArgumentException>(() => RaceScenario.Run("ept", RaceCase.Seed1a, RaceOrder.WriteFirst, RecheckOrder.Fixed));
    }

    private static int Index(RaceScenarioResult result, System.Func<string, bool> match)
    {
        int index = result.Steps.ToList().FindIndex(s => match(s));
        Assert.True(index >= 0, string.Join("\n", result.Steps));
        return index;
    }
}
