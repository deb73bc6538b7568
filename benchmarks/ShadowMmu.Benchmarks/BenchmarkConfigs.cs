using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;

namespace ShadowMmu.Benchmarks;

/// <summary>The two ways the benchmarks run: the full run that RESULTS.md reports, and the quick run CI keeps alive.</summary>
internal static class BenchmarkConfigs
{
    /// <summary>
    /// Reported numbers: each benchmark in its own process (BenchmarkDotNet's default toolchain), 6 warmup and 10
    /// measured iterations of about 100 ms. Every benchmark runs thousands of operations per invocation, so the
    /// empty-method overhead BenchmarkDotNet would subtract is below 0.01 ns an operation: it is not evaluated.
    /// </summary>
    public static IConfig Full(bool inProcess, bool disassembly = false)
    {
        Job job = Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(6)
            .WithIterationCount(10)
            .WithIterationTime(TimeInterval.FromMilliseconds(100))
            .WithEvaluateOverhead(false)
            .WithId("Full");
        if (inProcess)
        {
            job = job.WithToolchain(InProcessEmitToolchain.Instance);
        }
        else
        {
            // Tiered compilation waits until no method has been jitted at tier 0 for 100 ms before it counts calls; in
            // a benchmark process BenchmarkDotNet's own methods keep restarting that delay, so a walker could still be
            // at tier 0 when the pilot stage sizes the iterations, and reach tier 1 in the middle of the measured ones.
            // Without the delay every method tiers up (through the instrumented tier: dynamic PGO as shipped) during
            // the jitting and pilot stages.
            job = job.WithEnvironmentVariable("DOTNET_TC_CallCountingDelayMs", "0");
        }

        IConfig config = Common(job);
        if (disassembly)
        {
            // The JIT's code for each benchmark and what it calls, two levels deep, exported next to the tables.
            config = ManualConfig.Union(config, ManualConfig.CreateEmpty().AddDiagnoser(
                new DisassemblyDiagnoser(new DisassemblyDiagnoserConfig(maxDepth: 3, exportGithubMarkdown: true, exportCombinedDisassemblyReport: true))));
        }

        return config;
    }

    /// <summary>
    /// CI's run: in process, one warmup and three iterations of 4 invocations each (16,384 walks, 4,096 faults), so
    /// that all of them finish in about a minute on 2 cores; the same tables and JSON as the full run.
    /// </summary>
    public static IConfig Quick() =>
        Common(Job.Default
            .WithToolchain(InProcessNoEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(1)
            .WithIterationCount(3)
            .WithInvocationCount(4)
            .WithUnrollFactor(1)
            .WithEvaluateOverhead(false)
            .WithGcForce(false)
            .WithId("Quick"));

    private static IConfig Common(Job job) =>
        ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddColumn(StatisticColumn.Median)
            .AddExporter(MarkdownExporter.GitHub, JsonExporter.Full)
            .AddLogger(ConsoleLogger.Default)
            .WithOption(ConfigOptions.DisableLogFile, false);
}
