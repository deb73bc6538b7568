using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>Runs the analyzer on a compilation directly (no workspace), for the robustness and performance tests.</summary>
    internal static class AnalyzerHost
    {
        public static readonly ImmutableArray<MetadataReference> References = Basic.Reference.Assemblies.Net80.References.All
            .Cast<MetadataReference>()
            .Append(MetadataReference.CreateFromFile(typeof(ShadowMmu.Annotations.GuestPteReadAttribute).Assembly.Location))
            .ToImmutableArray();

        public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

        public static CSharpCompilation Compile(string name, IEnumerable<SyntaxTree> trees) => CSharpCompilation.Create(
            name,
            trees,
            References,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable, concurrentBuild: false));

        /// <summary>The analyzer's diagnostics, and every exception it let out (which a build would show as AD0001).</summary>
        public static (ImmutableArray<Diagnostic> Diagnostics, List<Exception> Exceptions) Run(Compilation compilation, bool rethrow = true, bool generated = true, bool concurrent = false, MmuLockAnalyzer? analyzer = null)
        {
            var exceptions = new ConcurrentQueue<Exception>();
            var options = new CompilationWithAnalyzersOptions(
                new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty, new ConfigOptions(rethrow, generated)),
                (exception, analyzer, diagnostic) => exceptions.Enqueue(exception),
                concurrentAnalysis: concurrent,
                logAnalyzerExecutionTime: false);
            CompilationWithAnalyzers withAnalyzers = compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(analyzer ?? new MmuLockAnalyzer()), options);
            ImmutableArray<Diagnostic> diagnostics = withAnalyzers.GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();
            foreach (Diagnostic diagnostic in diagnostics)
            {
                if (diagnostic.Id == "AD0001")
                {
                    exceptions.Enqueue(new InvalidOperationException(diagnostic.GetMessage()));
                }
            }

            return (diagnostics, exceptions.ToList());
        }

        /// <summary>Global analyzer options: rethrow (tests only) and generated code.</summary>
        internal sealed class ConfigOptions : AnalyzerConfigOptionsProvider
        {
            private readonly Options _options;

            public ConfigOptions(bool rethrow, bool generated)
            {
                var values = new Dictionary<string, string>();
                if (rethrow)
                {
                    values[MmuLockAnalyzer.RethrowOption] = "true";
                }

                if (generated)
                {
                    values[MmuLockAnalyzer.AnalyzeGeneratedCodeOption] = "true";
                }

                _options = new Options(values);
            }

            public override AnalyzerConfigOptions GlobalOptions => _options;

            public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => _options;

            public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => _options;

            private sealed class Options : AnalyzerConfigOptions
            {
                private readonly Dictionary<string, string> _values;

                public Options(Dictionary<string, string> values) => _values = values;

                public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => _values.TryGetValue(key, out value);
            }
        }
    }
}
