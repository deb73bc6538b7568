using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using ShadowMmu.Specs;

namespace ShadowMmu.Generators
{
    /// <summary>
    /// Turns every <c>*.paging</c> AdditionalFile into a guest page walker, and all of them together into a table
    /// that picks the walker for a processor state. Specs travel down the pipeline as equatable records only, so an
    /// edit anywhere else in the compilation leaves every step cached.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed partial class ShadowMmuGenerator : IIncrementalGenerator
    {
        /// <summary>Tracking name of the step that parses a spec file, for caching tests.</summary>
        public const string ParseStep = "Parse";

        /// <summary>Tracking name of the step that reads the target namespace.</summary>
        public const string NamespaceStep = "Namespace";

        /// <summary>Tracking name of the step that gathers every spec for the mode table.</summary>
        public const string CollectStep = "Collect";

        internal const string GeneratorVersion = "0.1.0";

        /// <inheritdoc/>
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            // Each spec file is parsed on its own: its text in, a model or diagnostics out. Equal text, equal result.
            IncrementalValuesProvider<SpecParseResult> specs = context.AdditionalTextsProvider
                .Where(static file => file.Path.EndsWith(".paging", System.StringComparison.OrdinalIgnoreCase))
                .Select(static (file, token) => SpecParser.Parse(file.Path, file.GetText(token)?.ToString() ?? ""))
                .WithTrackingName(ParseStep);

            // Only two build properties are taken from the options, so that other option changes do not re-run anything.
            IncrementalValueProvider<EmitOptions> rootNamespace = context.AnalyzerConfigOptionsProvider
                .Select(static (options, _) => new EmitOptions(
                    options.GlobalOptions.TryGetValue("build_property.RootNamespace", out string? ns) && !string.IsNullOrWhiteSpace(ns)
                        ? ns!
                        : "ShadowMmu.Generated",
                    options.GlobalOptions.TryGetValue("build_property.ShadowMmuCheckRaceOrders", out string? check)
                        && string.Equals(check, "true", System.StringComparison.OrdinalIgnoreCase)))
                .WithTrackingName(NamespaceStep);

            // Diagnostics of each file are reported on their own, so a broken spec never hides the others' errors.
            context.RegisterSourceOutput(specs, static (output, result) =>
            {
                foreach (SpecDiagnostic diagnostic in result.Diagnostics)
                {
                    output.ReportDiagnostic(ToDiagnostic(diagnostic, DiagnosticDescriptors.ForId(diagnostic.Id), result.Path));
                }
            });

            IncrementalValueProvider<ImmutableEquatableArray<PagingSpec>> all = specs
                .Where(static result => result.Spec != null)
                .Select(static (result, _) => result.Spec!)
                .Collect()
                .Select(static (list, _) => new ImmutableEquatableArray<PagingSpec>(list.OrderBy(s => s.FilePath, System.StringComparer.Ordinal)))
                .WithTrackingName(CollectStep);

            context.RegisterSourceOutput(all.Combine(rootNamespace), static (output, input) =>
            {
                // Walkers are emitted from the whole set, so that two specs of one mode give an error, not two types.
                List<PagingSpec> unique = ReportDuplicateModes(output, input.Left);
                foreach (PagingSpec spec in unique)
                {
                    output.AddSource(spec.WalkerName + ".g.cs", new Emitter(spec, input.Right).Emit());
                }

                if (unique.Count > 0)
                {
                    output.AddSource("GeneratedPagingModes.g.cs", RegistryEmitter.Emit(unique, input.Right.Namespace));
                }
            });
        }

        /// <summary>
        /// What the build says about emitting: the namespace, and whether the deliberately unsafe re-check orders are
        /// left open to the mmu_lock analyzer (<c>ShadowMmuCheckRaceOrders</c>) instead of carrying a suppression.
        /// </summary>
        internal sealed record EmitOptions(string Namespace, bool CheckRaceOrders);

        private static List<PagingSpec> ReportDuplicateModes(SourceProductionContext output, ImmutableEquatableArray<PagingSpec> specs)
        {
            // Keyed by the walker's type name: "long-4" and "long4" would both be Long4Walker.
            var byName = new Dictionary<string, PagingSpec>();
            var unique = new List<PagingSpec>();
            foreach (PagingSpec spec in specs)
            {
                if (byName.TryGetValue(spec.WalkerName, out PagingSpec? first))
                {
                    string line = LineText(spec.SourceText, spec.ModeLine);
                    int column = line.Length - line.TrimStart().Length;
                    var diagnostic = new SpecDiagnostic(SpecDiagnosticIds.DuplicateMode, spec.ModeLine, column, line.TrimEnd().Length,
                        LineOffset(spec.SourceText, spec.ModeLine) + column, line.Trim().Length,
                        new ImmutableEquatableArray<string>(new[] { spec.Mode, first.FileName }));
                    output.ReportDiagnostic(ToDiagnostic(diagnostic, DiagnosticDescriptors.DuplicateMode, spec.FilePath));
                    continue;
                }

                byName.Add(spec.WalkerName, spec);
                unique.Add(spec);
            }

            return unique;
        }

        private static Diagnostic ToDiagnostic(SpecDiagnostic diagnostic, DiagnosticDescriptor descriptor, string path)
        {
            var span = new TextSpan(diagnostic.Start, diagnostic.Length);
            var lines = new LinePositionSpan(new LinePosition(diagnostic.Line, diagnostic.StartColumn), new LinePosition(diagnostic.Line, diagnostic.EndColumn));
            return Diagnostic.Create(descriptor, Location.Create(path, span, lines), diagnostic.Arguments.ToArray<object>());
        }

        private static int LineOffset(string text, int line)
        {
            int offset = 0;
            for (int i = 0; i < line && offset >= 0; i++)
            {
                offset = text.IndexOf('\n', offset) + 1;
            }

            return offset;
        }

        private static string LineText(string text, int line)
        {
            int start = LineOffset(text, line);
            int end = text.IndexOf('\n', start);
            return text.Substring(start, (end < 0 ? text.Length : end) - start).TrimEnd('\r');
        }
    }
}
