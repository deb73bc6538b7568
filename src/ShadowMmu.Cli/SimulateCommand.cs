using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace ShadowMmu.Cli;

/// <summary>
/// <c>shadowmmu simulate</c>: runs the multi-threaded guest workload (<see cref="Simulation"/>) in every paging mode
/// and prints the shadow MMU's counters and the audit per mode; or, with <c>--scenario</c>, one of the deterministic
/// interleavings of the 2010 walk/fetch race (<see cref="RaceScenario"/>), step by step. Exit code 0 when the audit
/// is clean, 1 when it found a stale mapping, 2 for bad options.
/// </summary>
internal static class SimulateCommand
{
    /// <summary>Exit code when an audit found a stale shadow entry.</summary>
    public const int StaleExitCode = 1;

    /// <summary>Default pause between mid-run audits, in seconds.</summary>
    public const double DefaultAuditEvery = 0.25;

    private const string ScenarioMode = "long4";

    public static Command Create(CliContext context)
    {
        string modeNames = string.Join('|', ModeNames());
        var mode = new Option<string>("--mode")
        {
            Description = $"Paging mode(s), comma-separated, or 'all'. [default: all; {ScenarioMode} with --scenario]",
            HelpName = modeNames + "|all",
        };
        mode.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && ParseModes(result.Tokens[0].Value, out string? error) == null)
            {
                result.AddError(error!);
            }
        });
        Option<int> vcpus = IntOption("--vcpus", "vCPU threads per mode: each makes seeded random reads, writes and fetches at CPL 0 and 3.", SimulationOptions.DefaultVcpus, 1, Vm.MaxVcpus - 1);
        Option<int> writers = IntOption("--writers", "Guest writer threads per mode: each rewrites page-table entries at every level, issues INVLPG, switches CR3, now and then zaps every shadow page.", SimulationOptions.DefaultWriters, 0, Vm.MaxVcpus - 1);
        var seconds = new Option<double?>("--seconds")
        {
            Description = $"Total running time, split evenly among the modes. [default: {SimulationOptions.DefaultSeconds.ToString(CultureInfo.InvariantCulture)} unless --ops]",
            HelpName = "S",
            CustomParser = result => ParseSeconds(result, "--seconds", allowZero: false),
        };
        var ops = new Option<long?>("--ops")
        {
            Description = "Operations per mode, shared out among the threads (instead of --seconds).",
            HelpName = "N",
            CustomParser = result => ParseCount(result),
        };
        Option<int> seed = IntOption("--seed", "Seed of every thread's stream of operations (the interleaving of the threads is the scheduler's).", SimulationOptions.DefaultSeed, 0, int.MaxValue);
        var scenario = new Option<string>("--scenario")
        {
            Description = "Run a deterministic interleaving instead, printed step by step: the 2010 walk/fetch race (seed-*), a host invalidation racing a fault (host-invalidate), a guest write to an unsync page table and its flush (unsync-write).",
            HelpName = string.Join('|', AllScenarios),
        };
        scenario.AcceptOnlyFromAmong(AllScenarios);
        var order = new Option<string>("--order")
        {
            Description = "With --scenario, each scenario's own orders: "
                + $"seed-*: {string.Join('|', Orders)} (the guest's write before fetch, or after fetch has begun); "
                + $"{HostInvalidateScenario.Name}: {string.Join('|', HostInvalidateScenario.OrderNames)} (the invalidation between the frame's resolution and the install, or after the install); "
                + $"{UnsyncWriteScenario.Name}: {string.Join('|', UnsyncWriteScenario.OrderNames)} (the guest's write to its unsync page table before its flush of that address, or after it). [default: the first]",
            HelpName = "ORDER",
        };
        var seqCheck = new Option<string>("--seq-check")
        {
            Description = "Whether the fault path re-checks mmu_invalidate_seq under the lock before it installs (KVM's is_page_fault_stale): on, or off to show the race it closes. [default: on]",
            HelpName = "on|off",
        };
        seqCheck.AcceptOnlyFromAmong("on", "off");
        var recheck = new Option<string>("--recheck")
        {
            Description = "How fetch re-checks the guest entries the walk read: fixed (KVM since 2010), pre-fix (the 2010 code), no-leaf (never the leaf).",
            HelpName = string.Join('|', Rechecks),
            DefaultValueFactory = _ => Rechecks[0],
        };
        recheck.AcceptOnlyFromAmong(Rechecks);
        var unsync = new Option<string>("--unsync")
        {
            Description = "Whether tables of 4 KiB pages go unsync when the guest maps them writable (KVM's way): on, or off to keep every shadowed table write-protected. [default: on]",
            HelpName = "on|off",
        };
        unsync.AcceptOnlyFromAmong("on", "off");
        var workload = new Option<string>("--workload")
        {
            Description = "What the threads do: mix (writers rewrite entries at every level, INVLPG, CR3 switches, zaps), fork (writers rewrite whole tables of 4 KiB pages, then flush, as fork, exec and munmap do), disjoint (no writers, no host thread: each vCPU faults and re-faults, INVLPG then the access, on its own pages in its own address space; see --vms), or shared-tables (as disjoint, but the vCPUs of a VM share one address space: the same shadow pages down to the page table, each vCPU on pages of its own). [default: mix]",
            HelpName = "mix|fork|disjoint|shared-tables",
        };
        workload.AcceptOnlyFromAmong("mix", "fork", "disjoint", "shared-tables");
        Option<int> vms = IntOption("--vms", "With --workload disjoint or shared-tables: independent VMs side by side, the vCPU threads dealt among them (--vcpus 2 --vms 2 is the control: two VMs of one vCPU).", 1, 1, Vm.MaxVcpus - 1);
        var json = new Option<bool>("--json") { Description = "Print a JSON summary (stale entries listed) instead of tables." };
        var auditEvery = new Option<double?>("--audit-every")
        {
            Description = $"Pause every thread and audit every S seconds of a mode's run, besides the audit at the end; 0: only at the end. [default: {DefaultAuditEvery.ToString(CultureInfo.InvariantCulture)}]",
            HelpName = "S",
            CustomParser = result => ParseSeconds(result, "--audit-every", allowZero: true),
        };
        Option<int> shadowPages = IntOption("--shadow-pages", "Shadow pages a mode's VM may hold; past that the oldest are zapped.", SimulationOptions.DefaultMaxShadowPages, 40, 1 << 20);

        var command = new Command("simulate", "Run a multi-threaded guest on the shadow MMU: with no options, every paging mode for a few seconds, several vCPUs, guest page-table churn at every level; print the MMU's counters per mode and the audit of every shadow entry against the guest's tables. Exit code 0 when the audit is clean, 1 when it found a stale mapping (printed), 2 for bad options.")
        {
            mode, vcpus, writers, seconds, ops, seed, scenario, order, recheck, seqCheck, unsync, workload, vms, json, auditEvery, shadowPages,
        };

        command.Validators.Add(result =>
        {
            bool isScenario = result.GetResult(scenario) != null;
            if (result.GetResult(seconds) != null && result.GetResult(ops) != null)
            {
                result.AddError("use --seconds or --ops, not both");
            }
            else if (!isScenario && result.GetResult(order) != null)
            {
                result.AddError("--order applies to --scenario only");
            }
            else if (isScenario && result.GetResult(order) is { Tokens.Count: > 0 } orderResult
                && OrdersOf(result.GetValue(scenario)!) is string[] orders
                && RaceScenario.IndexOf(orders, orderResult.Tokens[0].Value) < 0)
            {
                result.AddError($"--order: '{orderResult.Tokens[0].Value}' is not an order of {result.GetValue(scenario)} ({string.Join(", ", orders)})");
            }
            else if (isScenario && result.GetResult(seqCheck) != null && result.GetValue(scenario) != HostInvalidateScenario.Name)
            {
                result.AddError($"--seq-check applies to --scenario {HostInvalidateScenario.Name} and to runs, not to {result.GetValue(scenario)}");
            }
            else if (isScenario && Given(result, vcpus, writers, seconds, ops, seed, auditEvery, shadowPages, unsync, workload, vms) is string extra)
            {
                result.AddError($"--scenario runs one fixed interleaving: {extra} does not apply (it takes --mode, --order, --recheck, --seq-check and --json)");
            }
            else if (!isScenario && !WorkloadOf(TokenOf(result, workload)).IsFaultLoop() && Given(result, vms) != null)
            {
                result.AddError("--vms applies to --workload disjoint and shared-tables only");
            }
            else if (!isScenario && WorkloadOf(TokenOf(result, workload)).IsFaultLoop() && Given(result, writers, auditEvery) is string notDisjoint)
            {
                result.AddError($"--workload {TokenOf(result, workload)} runs vCPU threads alone: {notDisjoint} does not apply");
            }
            else if (isScenario && result.GetResult(mode) is { Tokens.Count: > 0 } modeResult
                && ParseModes(modeResult.Tokens[0].Value, out _) is { Count: not 1 })
            {
                result.AddError("--scenario runs in one mode: give one name to --mode");
            }
        });

        command.SetAction(parsed =>
        {
            RecheckOrder recheckOrder = (RecheckOrder)Array.IndexOf(Rechecks, parsed.GetValue(recheck) ?? Rechecks[0]);
            IReadOnlyList<string>? modes = parsed.GetValue(mode) is string text ? ParseModes(text, out _) : null;
            bool sequenceCheck = parsed.GetValue(seqCheck) != "off";
            if (parsed.GetValue(scenario) is string protocolName && Array.IndexOf(ScenarioCases, protocolName) < 0)
            {
                string scenarioMode = modes is { Count: 1 } ? modes[0] : ScenarioMode;
                string[] protocolOrders = OrdersOf(protocolName)!;
                int orderIndex = Math.Max(0, RaceScenario.IndexOf(protocolOrders, parsed.GetValue(order)));
                ProtocolScenarioResult outcome = protocolName == HostInvalidateScenario.Name
                    ? HostInvalidateScenario.Run(scenarioMode, (HostInvalidateOrder)orderIndex, sequenceCheck, recheckOrder)
                    : UnsyncWriteScenario.Run(scenarioMode, (UnsyncWriteOrder)orderIndex, recheckOrder);
                if (parsed.GetValue(json))
                {
                    SimulateOutput.WriteProtocolScenarioJson(context.Out, outcome, SimulateCommand.Name(recheckOrder));
                }
                else
                {
                    SimulateOutput.WriteProtocolScenarioText(context.Out, outcome, SimulateCommand.Name(recheckOrder));
                }

                return outcome.Audit.Clean ? 0 : StaleExitCode;
            }

            if (parsed.GetValue(scenario) is string caseName)
            {
                var raceCase = (RaceCase)Array.IndexOf(ScenarioCases, caseName);
                var raceOrder = (RaceOrder)Math.Max(0, Array.IndexOf(Orders, parsed.GetValue(order) ?? Orders[0]));
                string scenarioMode = modes is { Count: 1 } ? modes[0] : ScenarioMode;
                RaceScenarioResult outcome = RaceScenario.Run(scenarioMode, raceCase, raceOrder, recheckOrder, null);
                if (parsed.GetValue(json))
                {
                    SimulateOutput.WriteScenarioJson(context.Out, outcome);
                }
                else
                {
                    SimulateOutput.WriteScenarioText(context.Out, outcome);
                }

                return outcome.Audit.Clean ? 0 : StaleExitCode;
            }

            double? every = parsed.GetValue(auditEvery);
            SimulationWorkload chosen = WorkloadOf(parsed.GetValue(workload));
            bool disjoint = chosen.IsFaultLoop();
            var options = new SimulationOptions
            {
                Modes = modes,
                Vcpus = parsed.GetValue(vcpus),
                Writers = disjoint ? 0 : parsed.GetValue(writers),
                Vms = parsed.GetValue(vms),
                Operations = parsed.GetValue(ops),
                Seconds = parsed.GetValue(seconds),
                Seed = parsed.GetValue(seed),
                Recheck = recheckOrder,
                SequenceCheck = sequenceCheck,
                Unsync = parsed.GetValue(unsync) != "off",
                Workload = chosen,
                MaxShadowPages = parsed.GetValue(shadowPages),
                AuditIntervalSeconds = every is null ? DefaultAuditEvery : every > 0 ? every : null,
            };
            if (options.Validate() is string invalid)
            {
                throw new CliUsageException(invalid);
            }

            SimulateProgress? progress = SimulateProgress.ForTerminal(context);
            SimulationReport report;
            try
            {
                report = Simulation.Run(options, progress);
            }
            finally
            {
                progress?.Clear();
            }

            if (parsed.GetValue(json))
            {
                SimulateOutput.WriteRunJson(context.Out, report);
            }
            else
            {
                SimulateOutput.WriteRunText(context.Out, report);
            }

            return report.Clean ? 0 : StaleExitCode;
        });

        return command;
    }

    /// <summary>The <c>--scenario</c> names, in <see cref="RaceCase"/> order.</summary>
    internal static readonly string[] ScenarioCases = { "seed-1a", "seed-1b", "seed-2" };

    /// <summary>Every <c>--scenario</c> name.</summary>
    internal static readonly string[] AllScenarios = { "seed-1a", "seed-1b", "seed-2", HostInvalidateScenario.Name, UnsyncWriteScenario.Name };

    /// <summary>The orders of scenario <paramref name="name"/>, or null for a name that is none.</summary>
    internal static string[]? OrdersOf(string name) => name switch
    {
        "seed-1a" or "seed-1b" or "seed-2" => Orders,
        HostInvalidateScenario.Name => (string[])HostInvalidateScenario.OrderNames,
        UnsyncWriteScenario.Name => (string[])UnsyncWriteScenario.OrderNames,
        _ => null,
    };

    /// <summary>The <c>--order</c> names, in <see cref="RaceOrder"/> order.</summary>
    internal static readonly string[] Orders = { "write-first", "fetch-first" };

    /// <summary>The <c>--recheck</c> names, in <see cref="RecheckOrder"/> order.</summary>
    internal static readonly string[] Rechecks = { "fixed", "pre-fix", "no-leaf" };

    /// <summary>The name of <paramref name="order"/> on the command line.</summary>
    internal static string Name(RecheckOrder order) => (uint)order < (uint)Rechecks.Length ? Rechecks[(int)order] : order.ToString();

    private static IEnumerable<string> ModeNames()
    {
        foreach (PagingModeInfo info in PagingModes.All)
        {
            yield return info.Name;
        }
    }

    /// <summary>The modes named by <paramref name="text"/> (comma-separated, or <c>all</c>); null with an error for a bad name.</summary>
    private static List<string>? ParseModes(string text, out string? error)
    {
        error = null;
        var known = new List<string>(ModeNames());
        var result = new List<string>();
        if (text.Trim() == "all")
        {
            return known;
        }

        foreach (string part in text.Split(','))
        {
            string name = part.Trim();
            if (!known.Contains(name))
            {
                error = $"--mode: '{name}' is not a paging mode ({string.Join(", ", known)}, or all)";
                return null;
            }

            if (!result.Contains(name))
            {
                result.Add(name);
            }
        }

        return result;
    }

    private static Option<int> IntOption(string name, string description, int defaultValue, int min, int max)
    {
        var option = new Option<int>(name)
        {
            Description = description,
            HelpName = "N",
            DefaultValueFactory = _ => defaultValue,
        };
        option.CustomParser = result =>
        {
            if (result.Tokens.Count == 0)
            {
                return defaultValue;
            }

            string text = result.Tokens[0].Value;
            if (!TryParseWhole(text, out long value) || value < min || value > max)
            {
                result.AddError($"{name}: '{text}' is not a whole number from {min} to {max}");
                return defaultValue;
            }

            return (int)value;
        };
        return option;
    }

    private static long? ParseCount(ArgumentResult result)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        string text = result.Tokens[0].Value;
        if (!TryParseWhole(text, out long value) || value < 1)
        {
            result.AddError($"--ops: '{text}' is not a whole number of operations (at least 1; 1_000_000 and 1000000 both work)");
            return null;
        }

        return value;
    }

    private static double? ParseSeconds(ArgumentResult result, string name, bool allowZero)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        string text = result.Tokens[0].Value;
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value)
            || double.IsNaN(value) || value > 86_400 || (allowZero ? value < 0 : value <= 0))
        {
            result.AddError($"{name}: '{text}' is not a number of seconds ({(allowZero ? "0" : "more than 0")} to 86400, like 2 or 0.5)");
            return null;
        }

        return value;
    }

    /// <summary>Decimal digits with optional <c>_</c> between them, into a non-negative long.</summary>
    private static bool TryParseWhole(string text, out long value)
    {
        value = 0;
        if (text.Length == 0 || text[0] == '_' || text[^1] == '_' || text.Contains("__", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (char c in text)
        {
            if (c is not ((>= '0' and <= '9') or '_'))
            {
                return false;
            }
        }

        return long.TryParse(text.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The workload --workload names (mix when not given).</summary>
    private static SimulationWorkload WorkloadOf(string? workload) => workload switch
    {
        "disjoint" => SimulationWorkload.Disjoint,
        "shared-tables" => SimulationWorkload.SharedTables,
        "fork" => SimulationWorkload.Fork,
        _ => SimulationWorkload.Mix,
    };

    /// <summary>The text given to <paramref name="option"/>, or null (a validator must not parse: a bad value throws there).</summary>
    private static string? TokenOf(CommandResult result, Option option) =>
        result.GetResult(option) is { Tokens.Count: > 0 } given ? given.Tokens[0].Value : null;

    /// <summary>The first of <paramref name="options"/> given on the command line, or null.</summary>
    private static string? Given(CommandResult result, params Option[] options)
    {
        foreach (Option option in options)
        {
            if (result.GetResult(option) is { Implicit: false })
            {
                return option.Name;
            }
        }

        return null;
    }
}
