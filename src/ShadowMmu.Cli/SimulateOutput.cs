using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ShadowMmu.Cli;

/// <summary>What <c>shadowmmu simulate</c> prints: a table per mode and the audit, or the same as JSON; a scenario's steps and audit.</summary>
internal static class SimulateOutput
{
    /// <summary>Stale entries printed per mode in the text output (JSON lists them all).</summary>
    public const int MaxStalePrinted = 20;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    // ---- A run ----

    public static void WriteRunText(TextWriter output, SimulationReport report)
    {
        SimulationOptions options = report.Options;
        string length = options.Operations is long ops
            ? $"{N(ops)} operations per mode"
            : $"{F(options.Seconds!.Value / Math.Max(1, report.Modes.Count), "0.##")} s of operations per mode (each mode also builds its tables and audits)";
        output.WriteLine($"shadowmmu simulate: {options.Vcpus} vCPU threads + {options.Writers} writer threads per mode{(options.Vms > 1 ? $" dealt among {options.Vms} VMs" : "")}, {length}, seed {options.Seed}, re-check {SimulateCommand.Name(options.Recheck)}, at most {N(options.MaxShadowPages)} shadow pages, workload {WorkloadName(options)}, unsync {OnOff(options.Unsync)}, seq-check {OnOff(options.SequenceCheck)}{(options.HostInvalidations ? ", a host thread moving frames" : "")}");
        foreach (SimulationModeReport mode in report.Modes)
        {
            output.WriteLine();
            WriteModeText(output, mode);
        }

        output.WriteLine();
        if (report.Clean)
        {
            output.WriteLine($"audit: clean in every mode ({string.Join(", ", ModeNames(report))})");
        }
        else
        {
            var dirty = new List<string>();
            foreach (SimulationModeReport mode in report.Modes)
            {
                if (!mode.Clean)
                {
                    dirty.Add($"{mode.Mode} ({StaleSummary(mode)})");
                }
            }

            output.WriteLine($"audit: STALE shadow entries in {string.Join(", ", dirty)}");
        }
    }

    private static void WriteModeText(TextWriter output, SimulationModeReport mode)
    {
        ShadowStatsSnapshot s = mode.Stats;
        WorkloadCounts w = mode.Workload;
        output.WriteLine($"== {mode.Mode} ({Title(mode.Mode)}): {F(mode.Elapsed.TotalSeconds, "0.00")} s, {N(w.Operations)} operations ({N(w.VcpuOperations)} by vCPU threads, {N(w.WriterOperations)} by writers)");
        Row(output, "accesses", s.Accesses, $"{N(w.Reads)} reads, {N(w.Writes)} writes, {N(w.Fetches)} fetches");
        Row(output, "shadow hits", s.ShadowHits, $"{Percent(s.ShadowHits, s.Accesses)} of accesses");
        Row(output, "faults", s.Faults, $"{N((long)mode.FaultsPerSecond)} per second");
        Row(output, "  on shared side", s.SharedFaults, $"{Percent(s.SharedFaults, s.Faults)} of faults fetched under the mmu_lock's shared side; {N(s.ExclusiveRetries)} handed to the exclusive side");
        Row(output, "guest walks", s.Walks, null);
        Row(output, "guest faults", s.GuestFaults, "injected: the guest's tables deny the access");
        Row(output, "re-check failures", s.RecheckFailures, "fetch found a guest entry changed since the walk");
        Row(output, "retries", s.Retries, null);
        Row(output, "shadow pages now", mode.ShadowPages, $"created {N(s.ShadowPagesCreated)}, zapped {N(s.ShadowPagesZapped)}");
        Row(output, "prefetched entries", s.Prefetched, $"used later {N(s.PrefetchedUsed)} ({Percent(s.PrefetchedUsed, s.Prefetched)})");
        Row(output, "guest PTE writes", s.GuestPteWrites, "guest writes into shadowed tables, trapped or not");
        Row(output, "trapped writes", s.TrappedWrites, $"{F(mode.TrappedWritesPerGuestPteWrite, "0.000")} per guest PTE write; faults + trapped writes (exits) {N((long)mode.ExitsPerSecond)} per second");
        Row(output, "unsync pages", s.UnsyncPages, "times a table of 4 KiB pages went unsync instead of trapping");
        Row(output, "syncs", s.Syncs, "unsync pages or entries re-read at the guest's flushes");
        Row(output, "invalidations", s.Invalidations, "host invalidations (frames moved or reclaimed)");
        Row(output, "seq retries", s.SeqRetries, "faults retried: the host moved their frame since they resolved it");
        Row(output, "pending at audit", mode.PendingAtAudit, "unsync entries the guest's TLB may still hold (not stale)");
        Row(output, "emulated writes", s.EmulatedWrites, null);
        Row(output, "zapped entries", s.ZappedEntries, null);
        Row(output, "invlpgs", s.Invlpgs, null);
        Row(output, "root loads", s.RootLoads, null);
        var levels = new StringBuilder();
        for (int level = 1; level < w.TableWritesByLevel.Count; level++)
        {
            if (w.TableWritesByLevel[level] > 0 || level <= 2)
            {
                levels.Append(levels.Length == 0 ? "" : ", ").Append(LevelName(mode.Mode, level)).Append(' ').Append(N(w.TableWritesByLevel[level]));
            }
        }

        Row(output, "table writes", w.TableWrites, $"{levels}; {N(w.LargePageSwitches)} table<->large page, {N(w.MisalignedWrites)} narrower than an entry, {N(w.TableWritesViaDirectMap)} through the guest's mapping");
        Row(output, "CR3 switches", w.Cr3Switches, $"zap-alls {N(w.ZapAlls)}");
        string during = mode.MidRunAudits > 0 ? $"{N(mode.MidRunAudits)} audits while running and one at the end" : "audited at the end";
        if (mode.Clean)
        {
            output.WriteLine($"  audit: clean ({during}; {N(mode.Audit.PagesChecked)} shadow pages, {N(mode.Audit.EntriesChecked)} entries checked at the end)");
            return;
        }

        output.WriteLine($"  audit: STALE ({StaleSummary(mode)}; {during})");
        int printed = 0;
        foreach (StaleEntry stale in AllStale(mode))
        {
            if (printed++ == MaxStalePrinted)
            {
                output.WriteLine($"    ... and more (--json lists them all)");
                break;
            }

            WriteStale(output, stale);
        }
    }

    private static string StaleSummary(SimulationModeReport mode)
    {
        string atEnd = $"{N(mode.Audit.Stale.Count)} stale at the end";
        return mode.MidRunStaleCount > 0 ? $"{atEnd}, {N(mode.MidRunStaleCount)} found while running" : atEnd;
    }

    /// <summary>The final audit's stale entries, then those only mid-run audits saw.</summary>
    private static IEnumerable<StaleEntry> AllStale(SimulationModeReport mode)
    {
        var seen = new HashSet<string>();
        foreach (StaleEntry stale in mode.Audit.Stale)
        {
            seen.Add(stale.ToString());
            yield return stale;
        }

        foreach (StaleEntry stale in mode.MidRunStale)
        {
            if (seen.Add(stale.ToString()))
            {
                yield return stale;
            }
        }
    }

    private static void WriteStale(TextWriter output, StaleEntry stale)
    {
        output.WriteLine($"    stale: {stale.Problem}");
        output.WriteLine($"      shadow: {stale.ShadowPath}");
        output.WriteLine($"      guest:  {stale.GuestPath}");
    }

    public static void WriteRunJson(TextWriter output, SimulationReport report)
    {
        WriteJson(output, json =>
        {
            SimulationOptions options = report.Options;
            json.WriteStartObject();
            json.WriteString("command", "simulate");
            json.WriteNumber("seed", options.Seed);
            json.WriteNumber("vcpus", options.Vcpus);
            json.WriteNumber("writers", options.Writers);
            json.WriteNumber("vms", options.Vms);
            json.WriteString("recheck", SimulateCommand.Name(options.Recheck));
            if (options.Operations is long ops)
            {
                json.WriteNumber("operationsPerMode", ops);
            }
            else
            {
                json.WriteNumber("secondsPerMode", options.Seconds!.Value / Math.Max(1, report.Modes.Count));
            }

            json.WriteNumber("maxShadowPages", options.MaxShadowPages);
            json.WriteString("workload", WorkloadName(options));
            json.WriteBoolean("unsync", options.Unsync);
            json.WriteBoolean("seqCheck", options.SequenceCheck);
            json.WriteBoolean("hostInvalidations", options.HostInvalidations);
            if (options.AuditIntervalSeconds is double every)
            {
                json.WriteNumber("auditEverySeconds", every);
            }
            else
            {
                json.WriteNull("auditEverySeconds");
            }

            json.WriteBoolean("clean", report.Clean);
            json.WriteStartArray("modes");
            foreach (SimulationModeReport mode in report.Modes)
            {
                WriteModeJson(json, mode);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    private static void WriteModeJson(Utf8JsonWriter json, SimulationModeReport mode)
    {
        WorkloadCounts w = mode.Workload;
        json.WriteStartObject();
        json.WriteString("mode", mode.Mode);
        json.WriteString("title", Title(mode.Mode));
        json.WriteNumber("seconds", Math.Round(mode.Elapsed.TotalSeconds, 3));
        json.WriteNumber("operations", w.Operations);
        json.WriteNumber("vcpuOperations", w.VcpuOperations);
        json.WriteNumber("writerOperations", w.WriterOperations);
        json.WriteNumber("faultsPerSecond", Math.Round(mode.FaultsPerSecond));
        json.WriteNumber("shadowPages", mode.ShadowPages);
        json.WriteNumber("prefetched", mode.Prefetched);
        json.WriteNumber("prefetchedUsed", mode.PrefetchedUsed);
        json.WriteStartObject("stats");
        foreach (KeyValuePair<string, long> counter in mode.Stats.Counters())
        {
            json.WriteNumber(JsonNamingPolicy.CamelCase.ConvertName(counter.Key), counter.Value);
        }

        json.WriteNumber("pendingAtAudit", mode.PendingAtAudit);
        json.WriteEndObject();
        json.WriteNumber("exitsPerSecond", Math.Round(mode.ExitsPerSecond));
        json.WriteStartObject("workload");
        json.WriteNumber("reads", w.Reads);
        json.WriteNumber("writes", w.Writes);
        json.WriteNumber("fetches", w.Fetches);
        json.WriteStartObject("tableWrites");
        for (int level = 1; level < w.TableWritesByLevel.Count; level++)
        {
            if (w.TableWritesByLevel[level] > 0 || level <= 2)
            {
                json.WriteNumber(LevelName(mode.Mode, level).ToLowerInvariant(), w.TableWritesByLevel[level]);
            }
        }

        json.WriteEndObject();
        json.WriteNumber("tableWritesViaGuestMapping", w.TableWritesViaDirectMap);
        json.WriteNumber("largePageSwitches", w.LargePageSwitches);
        json.WriteNumber("narrowWrites", w.MisalignedWrites);
        json.WriteNumber("cr3Switches", w.Cr3Switches);
        json.WriteNumber("zapAlls", w.ZapAlls);
        json.WriteEndObject();
        json.WriteStartObject("audit");
        json.WriteBoolean("clean", mode.Clean);
        json.WriteNumber("midRunAudits", mode.MidRunAudits);
        json.WriteNumber("midRunStaleCount", mode.MidRunStaleCount);
        json.WriteNumber("pagesChecked", mode.Audit.PagesChecked);
        json.WriteNumber("entriesChecked", mode.Audit.EntriesChecked);
        WriteStaleArray(json, "stale", mode.Audit.Stale);
        WriteStaleArray(json, "midRunStale", mode.MidRunStale);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static string WorkloadName(SimulationOptions options) => options.Workload switch
    {
        SimulationWorkload.Fork => "fork",
        SimulationWorkload.Disjoint => "disjoint",
        SimulationWorkload.SharedTables => "shared-tables",
        _ => "mix",
    };

    private static string OnOff(bool value) => value ? "on" : "off";

    // ---- A scenario ----

    public static void WriteScenarioText(TextWriter output, RaceScenarioResult result) =>
        WriteStepsAndAudit(output, $"== scenario {SimulateCommand.ScenarioCases[(int)result.Case]} in {result.Mode} ({Title(result.Mode)}): order {SimulateCommand.Orders[(int)result.Order]}, re-check {SimulateCommand.Name(result.Recheck)}",
            result.Steps, result.Audit, withPending: false);

    public static void WriteProtocolScenarioText(TextWriter output, ProtocolScenarioResult result, string recheck)
    {
        string settings = result.Settings.Length > 0 ? result.Settings + ", " : "";
        WriteStepsAndAudit(output, $"== scenario {result.Scenario} in {result.Mode} ({Title(result.Mode)}): order {result.Order}, {settings}re-check {recheck}",
            result.Steps, result.Audit, withPending: true);
    }

    /// <summary>A scenario's header, its numbered steps and its audit (the seed's scenarios predate the pending count).</summary>
    private static void WriteStepsAndAudit(TextWriter output, string header, IReadOnlyList<string> steps, AuditResult audit, bool withPending)
    {
        output.WriteLine(header);
        for (int i = 0; i < steps.Count; i++)
        {
            output.WriteLine($"{i + 1,3}. {steps[i]}");
        }

        string pending = withPending ? $", {N(audit.Pending)} pending" : "";
        if (audit.Clean)
        {
            output.WriteLine($"audit: clean ({N(audit.PagesChecked)} shadow pages, {N(audit.EntriesChecked)} entries checked{pending})");
            return;
        }

        output.WriteLine($"audit: STALE ({N(audit.Stale.Count)} stale of {N(audit.EntriesChecked)} entries checked{pending})");
        foreach (StaleEntry stale in audit.Stale)
        {
            WriteStale(output, stale);
        }
    }

    public static void WriteProtocolScenarioJson(TextWriter output, ProtocolScenarioResult result, string recheck) =>
        WriteScenarioJson(output, result.Scenario, result.Mode, result.Order, recheck,
            result.SequenceCheck, result.Steps, result.Audit, withPending: true);

    public static void WriteScenarioJson(TextWriter output, RaceScenarioResult result) =>
        WriteScenarioJson(output, SimulateCommand.ScenarioCases[(int)result.Case], result.Mode, SimulateCommand.Orders[(int)result.Order],
            SimulateCommand.Name(result.Recheck), seqCheck: null, result.Steps, result.Audit, withPending: false);

    private static void WriteScenarioJson(TextWriter output, string scenario, string mode, string order, string recheck, bool? seqCheck,
        IReadOnlyList<string> steps, AuditResult audit, bool withPending)
    {
        WriteJson(output, json =>
        {
            json.WriteStartObject();
            json.WriteString("command", "simulate");
            json.WriteString("scenario", scenario);
            json.WriteString("mode", mode);
            json.WriteString("order", order);
            json.WriteString("recheck", recheck);
            if (seqCheck is bool check)
            {
                json.WriteBoolean("seqCheck", check);
            }

            json.WriteStartArray("steps");
            foreach (string step in steps)
            {
                json.WriteStringValue(step);
            }

            json.WriteEndArray();
            json.WriteBoolean("clean", audit.Clean);
            json.WriteStartObject("audit");
            json.WriteBoolean("clean", audit.Clean);
            json.WriteNumber("pagesChecked", audit.PagesChecked);
            json.WriteNumber("entriesChecked", audit.EntriesChecked);
            if (withPending)
            {
                json.WriteNumber("pending", audit.Pending);
            }

            WriteStaleArray(json, "stale", audit.Stale);
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }

    // ---- Helpers ----

    private static void WriteStaleArray(Utf8JsonWriter json, string name, IReadOnlyList<StaleEntry> entries)
    {
        json.WriteStartArray(name);
        foreach (StaleEntry stale in entries)
        {
            json.WriteStartObject();
            json.WriteString("problem", stale.Problem);
            json.WriteString("shadow", stale.ShadowPath);
            json.WriteString("guest", stale.GuestPath);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteJson(TextWriter output, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(json);
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    private static void Row(TextWriter output, string name, long value, string? note)
    {
        string line = $"  {name,-20}{N(value),14}";
        output.WriteLine(note == null ? line : line + "   " + note);
    }

    private static string Title(string mode) => Info(mode)?.Title ?? mode;

    // The entry names are the spec's (every built-in spec names its levels PTE, PDE, PDPTE, PML4E, PML5E).
    private static string LevelName(string mode, int level) =>
        Info(mode) is { } info ? PagingModeFacts.Of(info).LevelName(level) : "level" + level.ToString(Invariant);

    private static PagingModeInfo? Info(string mode)
    {
        foreach (PagingModeInfo info in PagingModes.All)
        {
            if (info.Name == mode)
            {
                return info;
            }
        }

        return null;
    }

    private static IEnumerable<string> ModeNames(SimulationReport report)
    {
        foreach (SimulationModeReport mode in report.Modes)
        {
            yield return mode.Mode;
        }
    }

    private static string N(long value) => value.ToString("N0", Invariant);

    private static string F(double value, string format) => value.ToString(format, Invariant);

    private static string Percent(long part, long whole) => whole == 0 ? "-" : ((double)part / whole).ToString("0.0%", Invariant);
}
