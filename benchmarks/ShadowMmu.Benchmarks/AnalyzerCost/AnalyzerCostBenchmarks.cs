using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace ShadowMmu.Benchmarks.AnalyzerCost;

/// <summary>A benchmark case: the generated code's shape and size in lines.</summary>
public readonly record struct CostCase(CostShape Shape, int Lines)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Shape} {Lines}");
}

/// <summary>
/// What the mmu_lock analyzer adds to a compile: a generated method of each <see cref="CostShape"/> and size (and a
/// project of such methods), compiled
/// (bind, check, emit) without and with the analyzer through Roslyn's analyzer driver, as a build runs it. Each case runs
/// in its own process, so that its peak working set (a column of its own) is that case's; the analyzer's own execution
/// time (the driver's telemetry) is a column too. Run with
/// <c>dotnet run -c Release --project benchmarks/ShadowMmu.Benchmarks -- --filter '*AnalyzerCost*'</c> after building
/// analyzers/ShadowMmu.Analyzers in Release (the analyzer is loaded from its build output). Not part of the quick run:
/// a compile allocates by nature, and the quick run's in-process, allocation-checked configuration is for the walks.
/// </summary>
[Config(typeof(Config))]
public class AnalyzerCostBenchmarks
{
    private const string MeasurementsVariable = "SHADOWMMU_ANALYZER_COST_DIR";

    private readonly List<double> _analyzerSeconds = new();
    private ImmutableArray<SyntaxTree> _trees;
    private ImmutableArray<MetadataReference> _references;
    private DiagnosticAnalyzer? _analyzer;
    private AnalyzerOptions? _options;

    /// <summary>Each single-method shape at 7,500, 15,000 and 30,000 lines; a project of 50,000 lines of such methods.</summary>
    [ParamsSource(nameof(Cases))]
    public CostCase Case { get; set; }

    public static IEnumerable<CostCase> Cases => QuickRun
        ? Array.Empty<CostCase>()
        : Enum.GetValues<CostShape>()
            .Where(shape => shape != CostShape.Project)
            .SelectMany(shape => new[] { 7_500, 15_000, 30_000 }.Select(lines => new CostCase(shape, lines)))
            .Append(new CostCase(CostShape.Project, 50_000));

    private CostShape Shape => Case.Shape;

    private int Lines => Case.Lines;

    /// <summary>The quick run (<c>--quick</c>) runs the walks only.</summary>
    private static bool QuickRun => Environment.GetCommandLineArgs().Contains("--quick");

    [GlobalSetup]
    public void Setup()
    {
        _trees = ImmutableArray.Create(CSharpSyntaxTree.ParseText(CostShapes.Generate(Shape, Lines), new CSharpParseOptions(LanguageVersion.Latest), "Cost.cs"));
        _references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(path => Path.GetFileName(path) is { } name && (name.StartsWith("System.", StringComparison.Ordinal) || name is "mscorlib.dll" or "netstandard.dll"))
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
        _analyzer = LoadAnalyzer();
        _options = new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty);
    }

    [Benchmark(Baseline = true, Description = "compile")]
    public int Compile()
    {
        CSharpCompilation compilation = NewCompilation();
        int errors = compilation.GetDiagnostics().Count(d => d.Severity == DiagnosticSeverity.Error);
        return errors + Emit(compilation);
    }

    [Benchmark(Description = "compile + analyzer")]
    public int CompileWithAnalyzer()
    {
        // The driver binds the method bodies for the analyzer's events as a build's compile does, then the analyzer runs.
        CSharpCompilation compilation = NewCompilation();
        var withAnalyzer = compilation.WithAnalyzers(ImmutableArray.Create(_analyzer!), new CompilationWithAnalyzersOptions(_options!, null, concurrentAnalysis: true, logAnalyzerExecutionTime: true));
        ImmutableArray<Diagnostic> diagnostics = withAnalyzer.GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();
        int findings = diagnostics.Count(d => d.Id == "MMU0001");
        if (findings != CostShapes.Planted(Shape, Lines) || diagnostics.Any(d => d.Id is "AD0001" or "MMU0006"))
        {
            throw new InvalidOperationException($"{Shape} {Lines}: {findings} MMU0001 for {CostShapes.Planted(Shape, Lines)} planted; {string.Join("; ", diagnostics.Where(d => d.Id is "AD0001" or "MMU0006").Take(3))}");
        }

        _analyzerSeconds.Add(withAnalyzer.GetAnalyzerTelemetryInfoAsync(_analyzer!, CancellationToken.None).GetAwaiter().GetResult().ExecutionTime.TotalSeconds);
        return findings + Emit(compilation);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // This case's own process: its peak working set is the case's (BenchmarkDotNet's own share included, the same for both methods).
        string? directory = Environment.GetEnvironmentVariable(MeasurementsVariable);
        if (directory == null)
        {
            return;
        }

        Directory.CreateDirectory(directory);
        double analyzer = _analyzerSeconds.Count == 0 ? double.NaN : _analyzerSeconds.OrderBy(s => s).ElementAt(_analyzerSeconds.Count / 2);
        string method = _analyzerSeconds.Count == 0 ? nameof(Compile) : nameof(CompileWithAnalyzer);
        File.WriteAllText(
            Path.Combine(directory, Key(method, Shape, Lines)),
            string.Create(CultureInfo.InvariantCulture, $"{Process.GetCurrentProcess().PeakWorkingSet64} {analyzer}"));
    }

    private CSharpCompilation NewCompilation() =>
        CSharpCompilation.Create("Cost", _trees, _references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true));

    private static int Emit(CSharpCompilation compilation)
    {
        using var stream = new MemoryStream();
        return compilation.Emit(stream).Success ? 0 : 1;
    }

    private static string Key(string method, CostShape shape, int lines) => $"{method}-{shape}-{lines}.txt";

    /// <summary>The analyzer from its Release build output, as a compiler loads an analyzer: by path.</summary>
    private static DiagnosticAnalyzer LoadAnalyzer()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "analyzers", "ShadowMmu.Analyzers", "bin", "Release", "netstandard2.0", "ShadowMmu.Analyzers.dll");
            if (File.Exists(path))
            {
                Type type = Assembly.LoadFrom(path).GetType("ShadowMmu.Analyzers.MmuLockAnalyzer", throwOnError: true)!;
                return (DiagnosticAnalyzer)Activator.CreateInstance(type)!;
            }
        }

        throw new InvalidOperationException("ShadowMmu.Analyzers.dll not found: run 'dotnet build analyzers/ShadowMmu.Analyzers -c Release' first.");
    }

    /// <summary>
    /// Each case in its own process (the peak working set is per process), one warm-up and five measured compiles of one
    /// invocation each (a compile takes seconds: BenchmarkDotNet's monitoring strategy), and the two columns. It replaces
    /// the command line's configuration (whose jobs size iterations for nanosecond walks).
    /// </summary>
    private sealed class Config : ManualConfig
    {
        public Config()
        {
            UnionRule = ConfigUnionRule.AlwaysUseLocal;
            string directory = Path.GetFullPath(Path.Combine("BenchmarkDotNet.Artifacts", "analyzer-cost"));
            AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default);
            AddColumnProvider(DefaultColumnProviders.Instance);
            AddExporter(BenchmarkDotNet.Exporters.MarkdownExporter.GitHub, BenchmarkDotNet.Exporters.Json.JsonExporter.Full);
            AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default);
            AddJob(Job.Default
                .WithStrategy(RunStrategy.Monitoring)
                .WithLaunchCount(1)
                .WithWarmupCount(1)
                .WithIterationCount(5)
                .WithInvocationCount(1)
                .WithUnrollFactor(1)
                .WithEnvironmentVariable(MeasurementsVariable, directory)
                .WithId("AnalyzerCost"));
            AddColumn(new MeasuredColumn("Peak working set", directory, value => $"{value.Peak / (1024.0 * 1024.0):N0} MB"));
            AddColumn(new MeasuredColumn("Analyzer time", directory, value => double.IsNaN(value.Analyzer) ? "-" : $"{value.Analyzer:N2} s"));
        }
    }

    /// <summary>A column read from what each case's process wrote when it finished.</summary>
    private sealed class MeasuredColumn : IColumn
    {
        private readonly string _directory;
        private readonly Func<(long Peak, double Analyzer), string> _format;

        public MeasuredColumn(string name, string directory, Func<(long Peak, double Analyzer), string> format)
        {
            ColumnName = name;
            Id = "ShadowMmu." + name;
            _directory = directory;
            _format = format;
        }

        public string Id { get; }

        public string ColumnName { get; }

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => ColumnName == "Analyzer time"
            ? "The analyzer's own execution time in one compile, as the analyzer driver measures it (median)"
            : "The peak working set of the case's process (parse, warm-up and measured compiles)";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var costCase = (CostCase)benchmarkCase.Parameters[nameof(Case)];
            string file = Path.Combine(_directory, Key(benchmarkCase.Descriptor.WorkloadMethod.Name, costCase.Shape, costCase.Lines));
            if (!File.Exists(file))
            {
                return "?";
            }

            string[] parts = File.ReadAllText(file).Split(' ');
            return _format((long.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture)));
        }

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    }
}
