using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>
    /// Runs the analyzer (and code fixes) with Microsoft.CodeAnalysis.Testing on offline .NET 8 reference assemblies plus
    /// the annotations assembly. The analyzer rethrows its own exceptions here, so that a bug shows as AD0001.
    /// </summary>
    internal static class Verify
    {
        /// <summary>No package to download: the references come from Basic.Reference.Assemblies.</summary>
        private static readonly ReferenceAssemblies Offline = new("net8.0");

        internal const string Rethrow = "is_global = true\nshadowmmu_internal_rethrow = true\n";

        public static DiagnosticResult Diagnostic(string id) => new DiagnosticResult(id, id is DiagnosticIds.UncheckedGuestPte or DiagnosticIds.MonitorOnScopedLock or DiagnosticIds.UncheckedHostFrame
            or DiagnosticIds.ExclusiveUnderShared or DiagnosticIds.GuardedWriteUnderShared ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning);

        public static Task Analyzer(string source, params DiagnosticResult[] expected) => Analyzer(source, null, expected);

        public static Task Analyzer(string source, string? globalConfig, params DiagnosticResult[] expected) => Analyzer(source, globalConfig, null, expected);

        public static async Task Analyzer(string source, string? globalConfig, string? editorConfig, params DiagnosticResult[] expected)
        {
            var test = new CSharpAnalyzerTest<MmuLockAnalyzer, DefaultVerifier>
            {
                TestCode = source,
                ReferenceAssemblies = Offline,
            };
            Configure(test.TestState, globalConfig);
            test.SolutionTransforms.Add(AllowUnsafe);
            if (editorConfig != null)
            {
                test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", "root = true\n\n[*.cs]\n" + editorConfig));
            }

            test.ExpectedDiagnostics.AddRange(expected);
            await test.RunAsync(CancellationToken.None);
        }

        public static Task Fix<TFix>(string source, string fixedSource, params DiagnosticResult[] expected)
            where TFix : CodeFixProvider, new() => Fix<TFix>(source, fixedSource, null, expected);

        public static async Task Fix<TFix>(string source, string fixedSource, int? fixAllIterations, params DiagnosticResult[] expected)
            where TFix : CodeFixProvider, new()
        {
            var test = new CSharpCodeFixTest<MmuLockAnalyzer, TFix, DefaultVerifier>
            {
                TestCode = source,
                FixedCode = fixedSource,
                ReferenceAssemblies = Offline,
            };
            if (fixAllIterations != null)
            {
                test.NumberOfFixAllIterations = fixAllIterations;
                test.NumberOfFixAllInDocumentIterations = fixAllIterations;
                test.NumberOfFixAllInProjectIterations = fixAllIterations;
            }

            Configure(test.TestState, null);
            Configure(test.FixedState, null);
            test.SolutionTransforms.Add(AllowUnsafe);
            test.ExpectedDiagnostics.AddRange(expected);
            await test.RunAsync(CancellationToken.None);
        }

        /// <summary>Unsafe code allowed, as in the runtime (pointers into guest memory).</summary>
        private static Solution AllowUnsafe(Solution solution, ProjectId project) =>
            solution.WithProjectCompilationOptions(project, ((Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions)solution.GetProject(project)!.CompilationOptions!).WithAllowUnsafe(true));

        private static void Configure(SolutionState state, string? globalConfig)
        {
            state.AdditionalReferences.AddRange(Basic.Reference.Assemblies.Net80.References.All);
            state.AdditionalReferences.Add(MetadataReference.CreateFromFile(typeof(ShadowMmu.Annotations.GuestPteReadAttribute).Assembly.Location));
            state.AnalyzerConfigFiles.Add(("/.globalconfig", Rethrow + (globalConfig ?? string.Empty)));
        }
    }
}
