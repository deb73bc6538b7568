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

        /// <summary>Tracking name of the step that plans a walker from a spec, for caching tests.</summary>
        public const string PlanStep = "Plan";

        /// <summary>Tracking name of the step that gathers every plan for the walkers and the mode table.</summary>
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
                    output.ReportDiagnostic(ToDiagnostic(diagnostic, result.Path));
                }
            });

            // Each spec is planned on its own: every decision the emitter prints, as an equatable record.
            IncrementalValuesProvider<WalkerPlan> plans = specs
                .Where(static result => result.Spec != null)
                .Select(static (result, _) => Planner.Plan(result.Spec!))
                .WithTrackingName(PlanStep);

            IncrementalValueProvider<ImmutableEquatableArray<WalkerPlan>> all = plans
                .Collect()
                .Select(static (list, _) => new ImmutableEquatableArray<WalkerPlan>(list.OrderBy(p => p.FilePath, System.StringComparer.Ordinal)))
                .WithTrackingName(CollectStep);

            context.RegisterSourceOutput(all.Combine(rootNamespace), static (output, input) =>
            {
                // Walkers are emitted from the whole set, so that two specs of one mode give an error, not two types.
                List<WalkerPlan> unique = ReportDuplicateModes(output, input.Left);
                foreach (WalkerPlan plan in unique)
                {
                    ReportOmissions(output, plan);
                    output.AddSource(plan.WalkerName + ".g.cs", new Emitter(plan, input.Right).Emit());
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

        private static List<WalkerPlan> ReportDuplicateModes(SourceProductionContext output, ImmutableEquatableArray<WalkerPlan> plans)
        {
            // Keyed by the walker's type name: "long-4" and "long4" would both be Long4Walker.
            var byName = new Dictionary<string, WalkerPlan>();
            var unique = new List<WalkerPlan>();
            foreach (WalkerPlan plan in plans)
            {
                if (byName.TryGetValue(plan.WalkerName, out WalkerPlan? first))
                {
                    var diagnostic = SpecDiagnostic.AtLine(plan.SourceText, plan.ModeLine, SpecDiagnosticIds.DuplicateMode, plan.Mode, first.FileName);
                    output.ReportDiagnostic(ToDiagnostic(diagnostic, plan.FilePath));
                    continue;
                }

                byName.Add(plan.WalkerName, plan);
                unique.Add(plan);
            }

            return unique;
        }

        /// <summary>The methods the plan left out, each an Info diagnostic at the spec line that explains why.</summary>
        private static void ReportOmissions(SourceProductionContext output, WalkerPlan plan)
        {
            foreach (Omission omission in plan.Omitted)
            {
                var diagnostic = SpecDiagnostic.AtLine(plan.SourceText, omission.Line, SpecDiagnosticIds.MethodsNotGenerated,
                    plan.WalkerName, omission.Methods, omission.Reason);
                output.ReportDiagnostic(ToDiagnostic(diagnostic, plan.FilePath));
            }
        }

        private static Diagnostic ToDiagnostic(SpecDiagnostic diagnostic, string path)
        {
            var span = new TextSpan(diagnostic.Start, diagnostic.Length);
            var lines = new LinePositionSpan(new LinePosition(diagnostic.Line, diagnostic.StartColumn), new LinePosition(diagnostic.Line, diagnostic.EndColumn));
            return Diagnostic.Create(DiagnosticDescriptors.ForId(diagnostic.Id), Location.Create(path, span, lines), diagnostic.Arguments.ToArray<object>());
        }
    }
}
