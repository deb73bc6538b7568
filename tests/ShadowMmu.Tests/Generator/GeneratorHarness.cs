using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using ShadowMmu.Generators;

namespace ShadowMmu.Tests.Generator;

/// <summary>Runs the generator in-process over spec texts, as the compiler does for AdditionalFiles.</summary>
internal static class GeneratorHarness
{
    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var references = paths.Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal)
                || Path.GetFileName(p) is "netstandard.dll" or "mscorlib.dll")
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToList();
        references.Add(MetadataReference.CreateFromFile(typeof(GuestMemory).Assembly.Location));
        references.Add(MetadataReference.CreateFromFile(typeof(ShadowMmu.Annotations.RequiresMmuLockAttribute).Assembly.Location));
        return references.ToArray();
    });

    public static string SpecsFolder
    {
        get
        {
            string? dir = AppContext.BaseDirectory;
            while (dir != null && !Directory.Exists(Path.Combine(dir, "specs")))
            {
                dir = Path.GetDirectoryName(dir);
            }

            return Path.Combine(dir ?? throw new InvalidOperationException("specs/ not found above the test folder"), "specs");
        }
    }

    public static string BuiltInSpec(string mode) => File.ReadAllText(Path.Combine(SpecsFolder, mode + ".paging"));

    public static CSharpCompilation NewCompilation(params string[] sources) => NewCompilation(LanguageVersion.Latest, sources);

    public static CSharpCompilation NewCompilation(LanguageVersion version, params string[] sources) =>
        CSharpCompilation.Create(
            "Consumer",
            sources.Select(s => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(version))),
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver NewDriver(IEnumerable<AdditionalText> specs, string rootNamespace = "Consumer", LanguageVersion version = LanguageVersion.Latest, IReadOnlyDictionary<string, string>? buildProperties = null) =>
        CSharpGeneratorDriver.Create(
            new[] { new ShadowMmuGenerator().AsSourceGenerator() },
            specs,
            parseOptions: new CSharpParseOptions(version),
            optionsProvider: new GlobalOptionsProvider(WithNamespace(buildProperties, rootNamespace)),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Generates from <paramref name="specs"/>; returns the run result and the compilation with the output.</summary>
    public static (GeneratorDriverRunResult Result, Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics) Run(params (string Path, string Text)[] specs)
    {
        GeneratorDriver driver = NewDriver(specs.Select(s => (AdditionalText)new InMemoryAdditionalText(s.Path, s.Text)));
        driver = driver.RunGeneratorsAndUpdateCompilation(NewCompilation("namespace Consumer { internal static class Anchor { } }"),
            out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        return (driver.GetRunResult(), output, diagnostics);
    }

    /// <summary>Compiles <paramref name="compilation"/> and loads it, failing with the compiler's errors.</summary>
    public static Assembly Load(Compilation compilation)
    {
        using var stream = new MemoryStream();
        var emit = compilation.Emit(stream);
        if (!emit.Success)
        {
            throw new InvalidOperationException("Generated code does not compile:\n" + string.Join("\n", emit.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        }

        return Assembly.Load(stream.ToArray());
    }

    internal sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
    {
        private readonly SourceText _text = SourceText.From(text);

        public override string Path { get; } = path;

        public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
    }

    private static Dictionary<string, string> WithNamespace(IReadOnlyDictionary<string, string>? properties, string rootNamespace)
    {
        var all = new Dictionary<string, string> { ["build_property.RootNamespace"] = rootNamespace };
        foreach (var pair in properties ?? new Dictionary<string, string>())
        {
            all[pair.Key] = pair.Value;
        }

        return all;
    }

    /// <summary>Global analyzer-config options (build properties, .globalconfig keys) for the generator or an analyzer.</summary>
    internal sealed class GlobalOptionsProvider(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(values);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => GlobalOptions;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => GlobalOptions;

        private sealed class Options(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, out string value)
            {
                bool found = values.TryGetValue(key, out string? found1);
                value = found1 ?? "";
                return found;
            }
        }
    }
}
