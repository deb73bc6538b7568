using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using ShadowMmu.Benchmarks.Walks;

namespace ShadowMmu.Benchmarks.Reporting;

/// <summary>The tables of RESULTS.md, computed from BenchmarkDotNet's JSON: medians, the ratios against the targets, the fault path.</summary>
internal static class MarkdownReport
{
    private const string Walks = nameof(WalkBenchmarks);
    private const string Faults = nameof(Shadow.FaultBenchmarks);
    private const string Throughput = nameof(Shadow.FaultThroughputBenchmarks);
    private const string Dispatch = nameof(InterfaceDispatchBenchmarks);

    /// <summary>The implementations, in table order, with their column titles.</summary>
    public static readonly (string Method, string Title)[] Implementations =
    {
        ("Generated", "generated"), ("Reference", "reference"), ("NativeLoop", "C loop"), ("NativeUnrolled", "C unrolled"),
        ("FloorC", "floor C"), ("FloorCs", "floor C#"),
    };

    public static string Write(ResultSet results)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Processor (BenchmarkDotNet): {results.Processor}; runtime {results.Runtime}; BenchmarkDotNet {results.BenchmarkDotNet}; results written {results.Written:yyyy-MM-dd HH:mm} UTC.");
        md.AppendLine();
        WriteModeSummary(md, results);
        WriteTargets(md, results);
        WriteFaults(md, results);
        WriteWalks(md, results);
        WriteDispatch(md, results);
        WriteAllocations(md, results);
        return md.ToString();
    }

    private static double? Walk(ResultSet r, string method, string walkCase, string pattern, string dependency) =>
        r.Median(Walks, method, ("Case", walkCase), ("Pattern", pattern), ("Dependency", dependency));

    /// <summary>One row per mode: the worst ratio over its page sizes (and both dependencies) against each target.</summary>
    private static void WriteModeSummary(StringBuilder md, ResultSet r)
    {
        IReadOnlyList<string> modes = WalkCase.Modes;
        md.AppendLine("### Targets per mode (hot working set; the worst case over the mode's page sizes, serialized and independent)");
        md.AppendLine();
        md.AppendLine("| mode | ref / gen ≥ 3 | gen / C unrolled ≤ 1.2 | gen / C loop < 1 | gen / floor C ≤ 1.65 (serialized) | whole fault < 150 ns |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (string mode in modes)
        {
            double? minRef = null, maxUnrolled = null, maxLoop = null, maxFloor = null;
            foreach (WalkCase c in WalkCase.All.Where(c => c.Mode == mode))
            {
                foreach (string dependency in Enum.GetNames<WalkDependency>())
                {
                    double? gen = Walk(r, "Generated", c.Name, nameof(WalkPattern.Hot), dependency);
                    if (gen == null)
                    {
                        continue;
                    }

                    minRef = Min(minRef, Walk(r, "Reference", c.Name, nameof(WalkPattern.Hot), dependency) / gen);
                    maxUnrolled = Max(maxUnrolled, gen / Walk(r, "NativeUnrolled", c.Name, nameof(WalkPattern.Hot), dependency));
                    maxLoop = Max(maxLoop, gen / Walk(r, "NativeLoop", c.Name, nameof(WalkPattern.Hot), dependency));
                    if (dependency == nameof(WalkDependency.Serialized))
                    {
                        maxFloor = Max(maxFloor, gen / Walk(r, "FloorC", c.Name, nameof(WalkPattern.Hot), dependency));
                    }
                }
            }

            double? fault = r.Median(Faults, "Fault", ("Mode", mode));
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {mode} | {Mark(minRef, x => x >= 3)} | {Mark(maxUnrolled, x => x <= 1.2)} | {Mark(maxLoop, x => x < 1)} | {Mark(maxFloor, x => x <= 1.65)} | {(fault == null ? "–" : ResultSet.Ns(fault) + " ns " + (fault < 150 ? "met" : "**missed**"))} |");
        }

        md.AppendLine();

        static double? Min(double? a, double? b) => a == null ? b : b == null ? a : Math.Min(a.Value, b.Value);
        static double? Max(double? a, double? b) => a == null ? b : b == null ? a : Math.Max(a.Value, b.Value);
        static string Mark(double? v, Func<double, bool> ok) =>
            v == null ? "–" : v.Value.ToString("0.00", CultureInfo.InvariantCulture) + (ok(v.Value) ? " met" : " **missed**");
    }

    private static void WriteTargets(StringBuilder md, ResultSet r)
    {
        md.AppendLine("### Targets on the hot working set (medians of one run, ns per walk)");
        md.AppendLine();
        md.AppendLine("Targets: reference / generated ≥ 3; generated / C unrolled ≤ 1.2 and generated / C loop < 1 (serialized and independent); generated / C floor ≤ 1.65 (serialized).");
        md.AppendLine();
        md.AppendLine("| case | dependency | generated | reference | C loop | C unrolled | floor C | floor C# | ref / gen ≥ 3 | gen / C unrolled ≤ 1.2 | gen / C loop < 1 | gen / floor C ≤ 1.65 |");
        md.AppendLine("|---|---|--:|--:|--:|--:|--:|--:|---|---|---|---|");
        int met = 0, missed = 0;
        foreach (WalkCase c in WalkCase.All)
        {
            foreach (string dependency in new[] { nameof(WalkDependency.Serialized), nameof(WalkDependency.Independent) })
            {
                double?[] v = Implementations.Select(i => Walk(r, i.Method, c.Name, nameof(WalkPattern.Hot), dependency)).ToArray();
                if (v[0] == null)
                {
                    continue;
                }

                double gen = v[0]!.Value;
                string refRatio = Verdict(v[1] / gen, x => x >= 3, ref met, ref missed);
                string unrolled = Verdict(gen / v[3], x => x <= 1.2, ref met, ref missed);
                string loop = Verdict(gen / v[2], x => x < 1, ref met, ref missed);
                string floor = dependency == nameof(WalkDependency.Serialized) ? Verdict(gen / v[4], x => x <= 1.65, ref met, ref missed) : "";
                md.AppendLine(CultureInfo.InvariantCulture, $"| {c.Name} | {dependency} | {string.Join(" | ", v.Select(ResultSet.Ns))} | {refRatio} | {unrolled} | {loop} | {floor} |");
            }
        }

        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Walk targets: {met} met, {missed} missed.");
        md.AppendLine();
    }

    private static string Verdict(double? ratio, Func<double, bool> target, ref int met, ref int missed)
    {
        if (ratio == null)
        {
            return "–";
        }

        bool ok = target(ratio.Value);
        if (ok)
        {
            met++;
        }
        else
        {
            missed++;
        }

        return ratio.Value.ToString("0.00", CultureInfo.InvariantCulture) + (ok ? " met" : " **missed**");
    }

    private static void WriteFaults(StringBuilder md, ResultSet r)
    {
        IReadOnlyList<string> modes = WalkCase.Modes;
        if (!modes.Any(m => r.Median(Faults, "Fault", ("Mode", m)) != null))
        {
            return;
        }

        md.AppendLine("### The shadow MMU's fault path (medians, ns per operation)");
        md.AppendLine();
        md.AppendLine("Fault = walk + fetch + prefetch with the mmu_lock: the vCPU's fault handler (Vcpu.HandleFault) itself, the shadow pages already present (target < 150 ns). Prefetch = FetchAndPrefetch7 − Fetch (seven neighbours dropped and mapped again).");
        md.AppendLine();
        md.AppendLine("| mode | walk | Fetch | Fetch + prefetch 7 | prefetch 7 | **fault** (< 150) | INVLPG + access | trapped PTE write | trapped write + refault | mmu_lock |");
        md.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (string mode in modes)
        {
            double? F(string method) => r.Median(Faults, method, ("Mode", mode));
            double? fetch = F("Fetch"), withPrefetch = F("FetchAndPrefetch7"), fault = F("Fault");
            string verdict = fault == null ? "–" : ResultSet.Ns(fault) + (fault < 150 ? " met" : " **missed**");
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {mode} | {ResultSet.Ns(F("Walk"))} | {ResultSet.Ns(fetch)} | {ResultSet.Ns(withPrefetch)} | {ResultSet.Ns(withPrefetch - fetch)} | {verdict} | {ResultSet.Ns(F("InvlpgAndAccess"))} | {ResultSet.Ns(F("TrappedPteWrite"))} | {ResultSet.Ns(F("TrappedPteWriteAndRefault"))} | {ResultSet.Ns(F("MmuLock"))} |");
        }

        md.AppendLine();
        if (modes.Any(m => r.Median(Throughput, "Faults", ("Mode", m), ("Vcpus", "1")) != null))
        {
            md.AppendLine("Faults per second (INVLPG and refault in a loop, each vCPU on its own pages of one VM; 2 vCPUs = 2 threads on the 2 cores):");
            md.AppendLine();
            md.AppendLine("| mode | 1 vCPU: ns / fault | 1 vCPU: faults/s | 2 vCPUs: ns / round | 2 vCPUs: faults/s | scaling |");
            md.AppendLine("|---|--:|--:|--:|--:|--:|");
            foreach (string mode in modes)
            {
                double? one = r.Median(Throughput, "Faults", ("Mode", mode), ("Vcpus", "1"));
                double? two = r.Median(Throughput, "Faults", ("Mode", mode), ("Vcpus", "2"));
                double? rate1 = 1e9 / one, rate2 = 2e9 / two;
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {mode} | {ResultSet.Ns(one)} | {Rate(rate1)} | {ResultSet.Ns(two)} | {Rate(rate2)} | {(rate1 != null && rate2 != null ? (rate2.Value / rate1.Value).ToString("0.00", CultureInfo.InvariantCulture) + "x" : "–")} |");
            }

            md.AppendLine();
        }

        WriteParallelFaults(md, r, modes);
    }

    /// <summary>
    /// Issue 18's table: two vCPUs of one VM on disjoint pages (own address spaces) and on shared tables (one address
    /// space), each against the control (two VMs of one vCPU side by side) and against one vCPU alone.
    /// </summary>
    private static void WriteParallelFaults(StringBuilder md, ResultSet r, IReadOnlyList<string> modes)
    {
        const string Disjoint = nameof(Shadow.DisjointFaultThroughputBenchmarks), Control = nameof(Shadow.ControlFaultThroughputBenchmarks);
        if (!modes.Any(m => r.Median(Control, "Faults", ("Mode", m)) != null))
        {
            return;
        }

        md.AppendLine("Faults in parallel (issue 18; faults per second of both vCPUs together; control: two VMs of one vCPU side by side):");
        md.AppendLine();
        md.AppendLine("| mode | 1 vCPU | 2 vCPUs, disjoint | 2 vCPUs, shared tables | control | disjoint / control | shared / control | disjoint / 1 vCPU | shared / 1 vCPU |");
        md.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (string mode in modes)
        {
            double? one = 1e9 / r.Median(Throughput, "Faults", ("Mode", mode), ("Vcpus", "1"));
            double? shared = 2e9 / r.Median(Throughput, "Faults", ("Mode", mode), ("Vcpus", "2"));
            double? disjoint = 2e9 / r.Median(Disjoint, "Faults", ("Mode", mode));
            double? control = 2e9 / r.Median(Control, "Faults", ("Mode", mode));
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {mode} | {Rate(one)} | {Rate(disjoint)} | {Rate(shared)} | {Rate(control)} | {Ratio(disjoint, control)} | {Ratio(shared, control)} | {Ratio(disjoint, one)} | {Ratio(shared, one)} |");
        }

        md.AppendLine();
    }

    private static string Ratio(double? a, double? b) =>
        a == null || b == null ? "–" : (a.Value / b.Value).ToString("0.00", CultureInfo.InvariantCulture) + "x";

    private static string Rate(double? perSecond) => perSecond == null ? "–" : (perSecond.Value / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + " M";

    private static void WriteWalks(StringBuilder md, ResultSet r)
    {
        md.AppendLine("### Every walk (medians, ns per walk)");
        md.AppendLine();
        md.AppendLine("Hot: 64 pages that fit in L1. Sequential and random: every page of the large region (32-bit and PAE: the whole 4 GiB; 4- and 5-level: 32 GiB of 4 KiB pages, 4 TiB of 2 MiB pages, 64 TiB of 1 GiB pages).");
        md.AppendLine();
        md.AppendLine("| case | pattern | dependency | " + string.Join(" | ", Implementations.Select(i => i.Title)) + " | gen / C unrolled | ref / gen |");
        md.AppendLine("|---|---|---|" + string.Concat(Enumerable.Repeat("--:|", Implementations.Length)) + "--:|--:|");
        foreach (WalkCase c in WalkCase.All)
        {
            foreach (string pattern in Enum.GetNames<WalkPattern>())
            {
                foreach (string dependency in Enum.GetNames<WalkDependency>())
                {
                    double?[] v = Implementations.Select(i => Walk(r, i.Method, c.Name, pattern, dependency)).ToArray();
                    if (v.All(x => x == null))
                    {
                        continue;
                    }

                    md.AppendLine(CultureInfo.InvariantCulture,
                        $"| {c.Name} | {pattern} | {dependency} | {string.Join(" | ", v.Select(ResultSet.Ns))} | {Ratio(v[0] / v[3])} | {Ratio(v[1] / v[0])} |");
                }
            }
        }

        md.AppendLine();
    }

    private static string Ratio(double? value) => value == null ? "–" : value.Value.ToString("0.00", CultureInfo.InvariantCulture);

    private static void WriteDispatch(StringBuilder md, ResultSet r)
    {
        var rows = new List<string>();
        foreach (string dependency in Enum.GetNames<WalkDependency>())
        {
            double? sealedType = r.Median(Dispatch, "SealedType", ("Dependency", dependency));
            double? viaInterface = r.Median(Dispatch, "Interface", ("Dependency", dependency));
            if (sealedType != null || viaInterface != null)
            {
                rows.Add($"| {dependency} | {ResultSet.Ns(sealedType)} | {ResultSet.Ns(viaInterface)} | {Ratio(viaInterface / sealedType)} |");
            }
        }

        if (rows.Count == 0)
        {
            return;
        }

        md.AppendLine("### Interface dispatch (long4, 4 KiB, hot set; ns per walk)");
        md.AppendLine();
        md.AppendLine("| dependency | sealed Long4Walker | through IGuestPageWalker | ratio |");
        md.AppendLine("|---|--:|--:|--:|");
        rows.ForEach(row => md.AppendLine(row));
        md.AppendLine();
    }

    private static void WriteAllocations(StringBuilder md, ResultSet r)
    {
        string? allocating = r.Allocating();
        md.AppendLine("### Allocations");
        md.AppendLine();
        md.AppendLine(allocating == null
            ? $"0 bytes allocated per operation by all {r.MeasuredAllocations} benchmarks (MemoryDiagnoser)."
            : $"Allocating: {allocating}");
        md.AppendLine();
    }
}
