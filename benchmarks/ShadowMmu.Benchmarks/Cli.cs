using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using ShadowMmu.Benchmarks.Native;
using ShadowMmu.Benchmarks.Reporting;
using ShadowMmu.Benchmarks.Walks;

namespace ShadowMmu.Benchmarks;

/// <summary>
/// <code>
/// -- --filter '*'                  every benchmark, full config (each in its own process); any BenchmarkDotNet option
/// -- --inprocess --filter ...      the same, in this process
/// -- --disasm --filter ...         the full config with BenchmarkDotNet's DisassemblyDiagnoser (the JIT's code, 3 calls deep)
/// -- --quick [--filter ...]        every benchmark (or the filter's), quick in-process config; then the report and chart
/// -- ... --cases long4-4K,pae-2M --patterns Hot    only those walk cases and patterns (any run)
/// -- --report [DIR] [OUT.md]       the ratio tables from DIR's JSON (default BenchmarkDotNet.Artifacts/results)
/// -- --chart [DIR|FILE.json] [OUT.svg]   the chart
/// -- --verify                      every implementation against the others on every case, kind, CPL and bad entry
/// -- --spin BODY MODE SECONDS      one fault-path body (walk, fetch, prefetch, fault, invlpg, write) in a loop, for a profiler
/// -- --real-guest-files DIR [CASES]  the real guests' images, registers, addresses and batch cases, for runs outside this process
/// -- --stages [SECONDS] [FILTER]  the real-guest benchmarks (batch stages, library calls, maps) in CPU time per operation
/// </code>
/// </summary>
internal static class Cli
{
    private const string ResultsDir = "BenchmarkDotNet.Artifacts/results";

    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "--verify")
        {
            NativeWalkers.CheckLayout();
            var clock = Stopwatch.StartNew();
            int compared = WalkVerifier.CheckAll(Console.WriteLine);
            Console.WriteLine($"All implementations agree: {compared} walks compared in {clock.Elapsed.TotalSeconds:0.0} s.");
            return 0;
        }

        if (args.Length == 4 && args[0] == "--spin")
        {
            return Spin(args[1], args[2], double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture));
        }

        if (args.Length is 2 or 3 && args[0] == "--real-guest-files")
        {
            return RealGuests.RealGuestFiles.Write(args[1], args.Length == 3 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000);
        }

        if (args.Length is >= 1 and <= 3 && args[0] == "--stages")
        {
            return RealGuests.StageTimes.Run(args.Length >= 2 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1, args.Length == 3 ? args[2] : null);
        }

        if (args.Length > 0 && args[0] == "--report")
        {
            string dir = args.Length > 1 ? args[1] : ResultsDir;
            string output = args.Length > 2 ? args[2] : Path.Combine(dir, "REPORT.md");
            File.WriteAllText(output, MarkdownReport.Write(ResultSet.Load(dir)));
            Console.WriteLine($"Wrote {output}.");
            return 0;
        }

        if (args.Length > 0 && args[0] == "--chart")
        {
            string input = args.Length > 1 ? args[1] : ResultsDir;
            string output = args.Length > 2 ? args[2] : Path.Combine(Directory.Exists(input) ? input : Path.GetDirectoryName(input) ?? ".", "walks.svg");
            File.WriteAllText(output, SvgChart.Write(ResultSet.Load(input)));
            Console.WriteLine($"Wrote {output}.");
            return 0;
        }

        bool quick = args.Contains("--quick");
        if (quick && Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") != "0")
        {
            // In process, a quick run is over before tiered compilation would promote the walkers to optimized code
            // (every newly jitted benchmark restarts its delay): run it with fully optimizing JIT from the start.
            return RunAgain(args, "DOTNET_TieredCompilation", "0");
        }

        bool inProcess = args.Contains("--inprocess");
        bool disassembly = args.Contains("--disasm");
        var restList = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick" or "--inprocess" or "--disasm":
                    break;
                case "--cases" when i + 1 < args.Length:
                    Environment.SetEnvironmentVariable(WalkBenchmarks.CasesVariable, args[++i]);
                    break;
                case "--patterns" when i + 1 < args.Length:
                    Environment.SetEnvironmentVariable(WalkBenchmarks.PatternsVariable, args[++i]);
                    break;
                default:
                    restList.Add(args[i]);
                    break;
            }
        }

        string[] rest = restList.ToArray();
        IConfig config = quick ? BenchmarkConfigs.Quick() : BenchmarkConfigs.Full(inProcess, disassembly);
        if (quick && !rest.Contains("--filter"))
        {
            rest = rest.Concat(new[] { "--filter", "*" }).ToArray();
        }

        var clock2 = Stopwatch.StartNew();
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Cli).Assembly).Run(rest, config).ToList();
        if (summaries.Count == 0)
        {
            return 1;
        }

        bool failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        string dir2 = summaries[0].ResultsDirectoryPath;
        if (quick)
        {
            // This run's JSON only: the results folder keeps other classes' files from earlier runs.
            var files = summaries.SelectMany(s => s.BenchmarksCases).Select(c => c.Descriptor.Type.FullName).Distinct()
                .Select(type => Path.Combine(dir2, type + "-report-full.json")).Where(File.Exists).ToList();
            ResultSet results = ResultSet.Load(files);
            File.WriteAllText(Path.Combine(dir2, "REPORT.md"), MarkdownReport.Write(results));
            File.WriteAllText(Path.Combine(dir2, "walks.svg"), SvgChart.Write(results));
            var byDesign = typeof(Cli).Assembly.GetTypes()
                .Where(t => t.IsDefined(typeof(AllocatesByDesignAttribute), inherit: false)).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            IReadOnlyList<BenchmarkResult> flagged = results.AllocatingResults(minBytesPerOp: 8, except: byDesign);
            string? allocating = ResultSet.Describe(ThreadAllocationCheck.Confirm(flagged, minBytesPerOp: 8));
            if (allocating != null)
            {
                Console.WriteLine($"Allocating: {allocating}");
                failed = true;
            }

            string recheck = flagged.Count == 0 ? string.Empty : $"; {flagged.Count} seen allocating in process re-run on one thread";
            Console.WriteLine($"Quick run: {results.Count} benchmarks in {clock2.Elapsed.TotalSeconds:0} s{recheck}; report and chart in {dir2}.");
        }

        return failed ? 1 : 0;
    }

    /// <summary>
    /// Runs one fault-path benchmark body in a loop for <paramref name="seconds"/>, for a sampling profiler to watch:
    /// <c>DOTNET_PerfMapEnabled=1 perf record -e cpu-clock -g dotnet ShadowMmu.Benchmarks.dll --spin fault long4 5</c>.
    /// </summary>
    private static int Spin(string body, string mode, double seconds)
    {
        var benchmarks = new Shadow.FaultBenchmarks { Mode = mode };
        benchmarks.Setup();
        Action run = body switch
        {
            "walk" => () => benchmarks.Walk(),
            "fetch" => () => benchmarks.Fetch(),
            "prefetch" => () => benchmarks.FetchAndPrefetch7(),
            "fault" => () => benchmarks.Fault(),
            "invlpg" => () => benchmarks.InvlpgAndAccess(),
            "write" => benchmarks.TrappedPteWrite,
            _ => throw new ArgumentException($"No fault-path body '{body}': walk, fetch, prefetch, fault, invlpg or write.", nameof(body)),
        };
        var clock = Stopwatch.StartNew();
        long rounds = 0;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            run();
            rounds++;
        }

        Console.WriteLine($"{body} ({mode}): {rounds * Shadow.FaultBenchmarks.Ops} operations, {clock.Elapsed.TotalNanoseconds / (rounds * Shadow.FaultBenchmarks.Ops):0.0} ns each.");
        return 0;
    }

    private static int RunAgain(string[] args, string variable, string value)
    {
        string host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(Cli).Assembly.Location);
        }

        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[variable] = value;
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {host}.");
        process.WaitForExit();
        return process.ExitCode;
    }
}
