using System;
using System.Linq;
using System.Text.Json;
using ShadowMmu.Tests.Shadow.Stress;
using Xunit;

namespace ShadowMmu.Tests.Cli;

/// <summary><c>shadowmmu simulate</c>: a table per mode and the audit; JSON; the race scenarios; bad options.</summary>
[Collection(StressCollection.Name)]
public sealed class SimulateTests
{
    private static readonly string[] AllModes = { "legacy32", "long4", "long5", "pae", "ept4", "ept5" };

    [Fact]
    public void A_run_prints_a_table_per_mode_and_a_clean_audit()
    {
        CliResult result = CliHarness.Run("simulate", "--ops", "40000");

        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Equal(string.Empty, result.Stderr);   // no progress display when stderr is not a terminal
        string[] lines = result.Lines;
        Assert.StartsWith("shadowmmu simulate: 4 vCPU threads + 2 writer threads per mode, 40,000 operations per mode, seed 1, re-check fixed", lines[0], StringComparison.Ordinal);
        foreach (string mode in AllModes)
        {
            int header = Array.FindIndex(lines, l => l.StartsWith($"== {mode} (", StringComparison.Ordinal));
            Assert.True(header > 0, $"no table for {mode}:\n{result.Stdout}");
            Assert.Contains("40,000 operations", lines[header], StringComparison.Ordinal);
            string[] rows = lines.Skip(header + 1).TakeWhile(l => l.Length > 0).ToArray();
            foreach (string row in new[] { "accesses", "shadow hits", "faults", "guest walks", "re-check failures", "retries", "shadow pages now", "prefetched entries", "trapped writes", "zapped entries", "table writes", "CR3 switches",
                "guest PTE writes", "unsync pages", "syncs", "invalidations", "seq retries", "pending at audit" })
            {
                Assert.Contains(rows, r => r.StartsWith("  " + row + " ", StringComparison.Ordinal));
            }

            Assert.Contains(rows, r => r.Contains("per second", StringComparison.Ordinal));
            Assert.Contains(rows, r => r.Contains("used later", StringComparison.Ordinal));
            Assert.StartsWith("  audit: clean", rows[^1], StringComparison.Ordinal);
        }

        Assert.Equal("audit: clean in every mode (legacy32, long4, long5, pae, ept4, ept5)", lines[^1]);
        Assert.EndsWith("workload mix, unsync on, seq-check on, a host thread moving frames", lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Json_has_the_unsync_and_host_counters_and_fork_traps_far_less_with_unsync()
    {
        long Trapped(string unsync, out long guestPteWrites)
        {
            CliResult result = CliHarness.Run("simulate", "--json", "--ops", "60000", "--mode", "long4", "--workload", "fork", "--unsync", unsync);
            Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
            using JsonDocument document = JsonDocument.Parse(result.Stdout);
            JsonElement root = document.RootElement;
            Assert.Equal("fork", root.GetProperty("workload").GetString());
            Assert.Equal(unsync == "on", root.GetProperty("unsync").GetBoolean());
            JsonElement stats = root.GetProperty("modes")[0].GetProperty("stats");
            foreach (string field in new[] { "guestPteWrites", "unsyncPages", "syncs", "invalidations", "seqRetries", "pendingAtAudit", "trappedWrites" })
            {
                Assert.True(stats.TryGetProperty(field, out _), field);
            }

            Assert.True(stats.GetProperty("invalidations").GetInt64() > 0);
            Assert.Equal(unsync == "on", stats.GetProperty("unsyncPages").GetInt64() > 0);
            guestPteWrites = stats.GetProperty("guestPteWrites").GetInt64();
            return stats.GetProperty("trappedWrites").GetInt64();
        }

        long trappedOn = Trapped("on", out long writesOn);
        long trappedOff = Trapped("off", out long writesOff);

        Assert.Equal(writesOff, trappedOff);
        Assert.True(writesOn > 1000 && writesOff > 1000);
        // The issue's goal: at least 10x fewer trapped writes per guest PTE write with unsync.
        Assert.True((double)trappedOn / writesOn * 10 <= (double)trappedOff / writesOff, $"{trappedOn}/{writesOn} against {trappedOff}/{writesOff}");
    }

    [Fact]
    public void Json_has_the_counters_and_the_audit_of_each_mode()
    {
        CliResult result = CliHarness.Run("simulate", "--json", "--ops", "30000", "--mode", "long5,legacy32", "--vcpus", "3", "--writers", "1", "--seed", "9");

        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Equal(string.Empty, result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement root = document.RootElement;
        Assert.Equal("simulate", root.GetProperty("command").GetString());
        Assert.Equal(9, root.GetProperty("seed").GetInt32());
        Assert.Equal(3, root.GetProperty("vcpus").GetInt32());
        Assert.Equal(1, root.GetProperty("writers").GetInt32());
        Assert.Equal("fixed", root.GetProperty("recheck").GetString());
        Assert.Equal(30000, root.GetProperty("operationsPerMode").GetInt64());
        Assert.True(root.GetProperty("clean").GetBoolean());
        JsonElement[] modes = root.GetProperty("modes").EnumerateArray().ToArray();
        Assert.Equal(new[] { "long5", "legacy32" }, modes.Select(m => m.GetProperty("mode").GetString()));
        foreach (JsonElement mode in modes)
        {
            Assert.Equal(30000, mode.GetProperty("operations").GetInt64());
            Assert.True(mode.GetProperty("faultsPerSecond").GetDouble() > 0);
            Assert.True(mode.GetProperty("shadowPages").GetInt32() > 0);
            JsonElement stats = mode.GetProperty("stats");
            foreach (string counter in new[] { "accesses", "shadowHits", "faults", "walks", "guestFaults", "retries", "recheckFailures", "shadowPagesCreated", "shadowPagesZapped", "prefetched", "prefetchedUsed", "trappedWrites", "emulatedWrites", "zappedEntries", "invlpgs", "rootLoads" })
            {
                Assert.True(stats.TryGetProperty(counter, out JsonElement value) && value.GetInt64() >= 0, $"stats.{counter}");
            }

            Assert.True(stats.GetProperty("faults").GetInt64() > 0);
            Assert.Equal(stats.GetProperty("prefetched").GetInt64(), mode.GetProperty("prefetched").GetInt64());
            Assert.Equal(stats.GetProperty("prefetchedUsed").GetInt64(), mode.GetProperty("prefetchedUsed").GetInt64());
            Assert.True(mode.GetProperty("workload").GetProperty("tableWrites").GetProperty("pte").GetInt64() > 0);
            JsonElement audit = mode.GetProperty("audit");
            Assert.True(audit.GetProperty("clean").GetBoolean());
            Assert.Equal(0, audit.GetProperty("stale").GetArrayLength());
            Assert.True(audit.GetProperty("entriesChecked").GetInt64() > 0);
        }
    }

    [Fact]
    public void A_short_timed_run_in_one_mode()
    {
        CliResult result = CliHarness.Run("simulate", "--mode", "pae", "--seconds", "0.3", "--vcpus", "2", "--writers", "1", "--recheck", "no-leaf", "--audit-every", "0");
        Assert.True(result.ExitCode is 0 or 1, result.Stdout + result.Stderr);
        Assert.Contains("0.3 s of operations per mode (each mode also builds its tables and audits)", result.Lines[0], StringComparison.Ordinal);
        Assert.Contains("re-check no-leaf", result.Lines[0], StringComparison.Ordinal);
        Assert.Single(result.Lines, l => l.StartsWith("== ", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.Contains("audited at the end", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("disjoint", "2", "1", 1)]
    [InlineData("disjoint", "2", "2", 2)]
    [InlineData("disjoint", "3", "2", 2)]
    [InlineData("shared-tables", "2", "1", 1)]
    [InlineData("shared-tables", "3", "2", 2)]
    public void Fault_loops_run_one_fault_per_operation_over_every_vm_and_report_faults_per_second(string workload, string vcpus, string vms, int expectedVms)
    {
        // Every operation of the disjoint and shared-tables workloads is an INVLPG and a read that faults: the faults of
        // all VMs together are the operations (plus the warm-up of each vCPU's shadow pages on its first round), almost
        // all of them on the mmu_lock's shared side, and the audit of every VM is clean.
        CliResult result = CliHarness.Run("simulate", "--json", "--workload", workload, "--vcpus", vcpus, "--vms", vms, "--ops", "20000", "--mode", "pae,ept4");
        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement root = document.RootElement;
        Assert.Equal(workload, root.GetProperty("workload").GetString());
        Assert.Equal(expectedVms, root.GetProperty("vms").GetInt32());
        Assert.Equal(int.Parse(vcpus, System.Globalization.CultureInfo.InvariantCulture), root.GetProperty("vcpus").GetInt32());
        Assert.Equal(0, root.GetProperty("writers").GetInt32());
        Assert.False(root.GetProperty("hostInvalidations").GetBoolean());
        JsonElement modes = root.GetProperty("modes");
        Assert.Equal(2, modes.GetArrayLength());
        foreach (JsonElement mode in modes.EnumerateArray())
        {
            JsonElement stats = mode.GetProperty("stats");
            long faults = stats.GetProperty("faults").GetInt64();
            Assert.InRange(faults, 20_000, 20_000 + (3 * 64));
            Assert.True(mode.GetProperty("faultsPerSecond").GetDouble() > 0);
            Assert.Equal(0, stats.GetProperty("guestFaults").GetInt64());
            Assert.Equal(20_000, stats.GetProperty("invlpgs").GetInt64());
            Assert.InRange(stats.GetProperty("sharedFaults").GetInt64(), 20_000 - (3 * 64), 20_000);
            Assert.True(mode.GetProperty("audit").GetProperty("clean").GetBoolean());
        }
    }

    [Fact]
    public void Disjoint_text_names_the_vms_and_the_workload()
    {
        CliResult result = CliHarness.Run("simulate", "--workload", "disjoint", "--vcpus", "2", "--vms", "2", "--ops", "5000", "--mode", "long4");
        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.StartsWith("shadowmmu simulate: 2 vCPU threads + 0 writer threads per mode dealt among 2 VMs, 5,000 operations per mode", result.Lines[0], StringComparison.Ordinal);
        Assert.EndsWith("workload disjoint, unsync on, seq-check on", result.Lines[0], StringComparison.Ordinal);
        Assert.Equal("audit: clean in every mode (long4)", result.Lines[^1]);
    }

    [Fact]
    public void Scenario_seed_1a_pre_fix_is_stale()
    {
        CliResult result = CliHarness.Run("simulate", "--scenario", "seed-1a", "--order", "write-first", "--recheck", "pre-fix");

        Assert.True(result.ExitCode == 1, result.Stdout + result.Stderr);
        Assert.Equal(string.Empty, result.Stderr);
        Assert.StartsWith("== scenario seed-1a in long4", result.Lines[0], StringComparison.Ordinal);
        Assert.Contains("order write-first, re-check pre-fix", result.Lines[0], StringComparison.Ordinal);
        Assert.Contains(result.Lines, l => l.StartsWith("  1. ", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("audit: STALE", StringComparison.Ordinal));
        string stale = Assert.Single(result.Lines, l => l.StartsWith("    stale: ", StringComparison.Ordinal));
        Assert.Contains("links sp#", stale, StringComparison.Ordinal);
        Assert.Contains(result.Lines, l => l.StartsWith("      shadow: sp#", StringComparison.Ordinal));
        Assert.Contains(result.Lines, l => l.StartsWith("      guest:  level-2 entry at 0x", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("write-first", "off", 1)]
    [InlineData("write-first", "on", 0)]
    [InlineData("fetch-first", "off", 0)]
    [InlineData("fetch-first", "on", 0)]
    public void Scenario_host_invalidate_exits_1_exactly_where_the_audit_finds_a_stale_entry(string order, string seqCheck, int exitCode)
    {
        CliResult result = CliHarness.Run("simulate", "--scenario", "host-invalidate", "--order", order, "--seq-check", seqCheck);

        Assert.True(result.ExitCode == exitCode, result.Stdout + result.Stderr);
        Assert.StartsWith($"== scenario host-invalidate in long4", result.Lines[0], StringComparison.Ordinal);
        Assert.Contains($"order {order}, seq-check {seqCheck}, re-check fixed", result.Lines[0], StringComparison.Ordinal);
        Assert.Contains(result.Lines, l => l.Contains("snapshots mmu_invalidate_seq", StringComparison.Ordinal));
        Assert.StartsWith(exitCode == 1 ? "    stale: maps host frame" : "audit: clean", exitCode == 1 ? result.Lines.Single(l => l.StartsWith("    stale: ", StringComparison.Ordinal)) : result.Lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Scenario_host_invalidate_json_has_the_seq_check_and_the_stale_entry()
    {
        CliResult result = CliHarness.Run("simulate", "--scenario", "host-invalidate", "--order", "write-first", "--seq-check", "off", "--mode", "ept4", "--json");

        Assert.True(result.ExitCode == 1, result.Stdout + result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement root = document.RootElement;
        Assert.Equal("host-invalidate", root.GetProperty("scenario").GetString());
        Assert.Equal("ept4", root.GetProperty("mode").GetString());
        Assert.False(root.GetProperty("seqCheck").GetBoolean());
        Assert.False(root.GetProperty("clean").GetBoolean());
        JsonElement stale = Assert.Single(root.GetProperty("audit").GetProperty("stale").EnumerateArray().ToList());
        Assert.Contains("is backed by host frame", stale.GetProperty("problem").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("before-flush")]
    [InlineData("after-flush")]
    public void Scenario_unsync_write_is_clean_in_both_orders(string order)
    {
        CliResult result = CliHarness.Run("simulate", "--scenario", "unsync-write", "--order", order, "--mode", "pae", "--json");

        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement root = document.RootElement;
        Assert.Equal("unsync-write", root.GetProperty("scenario").GetString());
        Assert.Equal(order, root.GetProperty("order").GetString());
        Assert.True(root.GetProperty("clean").GetBoolean());
        Assert.Equal(0, root.GetProperty("audit").GetProperty("pending").GetInt64());
        Assert.Contains(root.GetProperty("steps").EnumerateArray(), s => s.GetString()!.Contains("which goes unsync", StringComparison.Ordinal));
    }

    [Fact]
    public void Scenario_seed_1a_fixed_is_clean()
    {
        CliResult result = CliHarness.Run("simulate", "--scenario", "seed-1a");

        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Contains("order write-first, re-check fixed", result.Lines[0], StringComparison.Ordinal);
        Assert.StartsWith("audit: clean", result.Lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Scenario_json_lists_steps_and_the_stale_entry()
    {
        CliResult result = CliHarness.Run("simulate", "--scenario", "seed-2", "--mode", "pae", "--recheck", "pre-fix", "--json");

        Assert.True(result.ExitCode is 0 or 1, result.Stdout + result.Stderr);
        using JsonDocument document = JsonDocument.Parse(result.Stdout);
        JsonElement root = document.RootElement;
        Assert.Equal("seed-2", root.GetProperty("scenario").GetString());
        Assert.Equal("pae", root.GetProperty("mode").GetString());
        Assert.Equal("write-first", root.GetProperty("order").GetString());
        Assert.Equal("pre-fix", root.GetProperty("recheck").GetString());
        Assert.True(root.GetProperty("steps").GetArrayLength() > 3);
        bool clean = root.GetProperty("clean").GetBoolean();
        Assert.Equal(clean ? 0 : 1, result.ExitCode);
        Assert.Equal(clean, root.GetProperty("audit").GetProperty("stale").GetArrayLength() == 0);
    }

    [Theory]
    [InlineData("'bogus'", "--mode", "bogus")]
    [InlineData("'long6'", "--mode", "long4,long6")]
    [InlineData("--ops", "--ops", "0")]
    [InlineData("--ops", "--ops", "many")]
    [InlineData("--ops", "--ops", "-5")]
    [InlineData("--seconds", "--seconds", "0")]
    [InlineData("--seconds", "--seconds", "soon")]
    [InlineData("not both", "--ops", "100", "--seconds", "1")]
    [InlineData("--vcpus", "--vcpus", "0")]
    [InlineData("--vcpus", "--vcpus", "64")]
    [InlineData("--writers", "--writers", "x")]
    [InlineData("--seed", "--seed", "1.5")]
    [InlineData("seed-9", "--scenario", "seed-9")]
    [InlineData("--order applies to --scenario only", "--order", "fetch-first")]
    [InlineData("fetch-last", "--scenario", "seed-1a", "--order", "fetch-last")]
    [InlineData("nope", "--recheck", "nope")]
    [InlineData("not an order of host-invalidate", "--scenario", "host-invalidate", "--order", "before-flush")]
    [InlineData("not an order of unsync-write", "--scenario", "unsync-write", "--order", "write-first")]
    [InlineData("--seq-check applies to --scenario host-invalidate", "--scenario", "unsync-write", "--seq-check", "off")]
    [InlineData("maybe", "--seq-check", "maybe")]
    [InlineData("'spawn'", "--workload", "spawn")]
    [InlineData("'yes'", "--unsync", "yes")]
    [InlineData("--unsync does not apply", "--scenario", "seed-1a", "--unsync", "off")]
    [InlineData("--ops does not apply", "--scenario", "seed-1a", "--ops", "100")]
    [InlineData("one name", "--scenario", "seed-1a", "--mode", "pae,long4")]
    [InlineData("'--bogus'", "--bogus")]
    [InlineData("--audit-every", "--audit-every", "-1")]
    [InlineData("--shadow-pages", "--shadow-pages", "10")]
    [InlineData("--vms applies to --workload disjoint and shared-tables only", "--vms", "2")]
    [InlineData("--vms applies to --workload disjoint and shared-tables only", "--workload", "fork", "--vms", "1")]
    [InlineData("--writers does not apply", "--workload", "disjoint", "--writers", "1")]
    [InlineData("--audit-every does not apply", "--workload", "disjoint", "--audit-every", "1")]
    [InlineData("3 VMs need at least as many vCPU threads (got 2)", "--workload", "disjoint", "--vcpus", "2", "--vms", "3")]
    [InlineData("--vms: '0'", "--workload", "disjoint", "--vms", "0")]
    [InlineData("--vms does not apply", "--scenario", "seed-1a", "--vms", "1")]
    public void Bad_options_exit_2_with_one_line(string expected, params string[] args) =>
        CliHarness.Run(new[] { "simulate" }.Concat(args).ToArray()).AssertUsageError(expected);

    [Fact]
    public void Help_lists_every_option()
    {
        CliResult result = CliHarness.Run("simulate", "--help");
        Assert.Equal(0, result.ExitCode);
        foreach (string option in new[] { "--mode", "--vcpus", "--seconds", "--ops", "--seed", "--scenario", "--order", "--recheck", "--seq-check", "--unsync", "--workload", "--vms", "--json" })
        {
            Assert.Contains(option, result.Stdout, StringComparison.Ordinal);
        }

        Assert.Contains("seed-1a|seed-1b|seed-2|host-invalidate|unsync-write", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("seed-*: write-first|fetch-first", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("host-invalidate: write-first|fetch-first", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("unsync-write: before-flush|after-flush", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("--seq-check", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("fixed|pre-fix|no-leaf", result.Stdout, StringComparison.Ordinal);
    }
}
