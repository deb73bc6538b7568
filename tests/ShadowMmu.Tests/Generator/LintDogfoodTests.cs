using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using ShadowMmu.Analyzers;
using Xunit;

namespace ShadowMmu.Tests.Generator;

/// <summary>
/// The generated Fetch under the mmu_lock lint: the fixed order is clean; built with the deliberately unsafe orders
/// left open (ShadowMmuCheckRaceOrders), the lint reports their unchecked entries, in every mode.
/// </summary>
public class LintDogfoodTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Only_the_unsafe_reCheck_orders_use_an_unchecked_guest_entry(bool checkRaceOrders)
    {
        var specs = new[] { "legacy32", "pae", "long4", "long5" }
            .Select(m => (AdditionalText)new GeneratorHarness.InMemoryAdditionalText("/specs/" + m + ".paging", GeneratorHarness.BuiltInSpec(m)))
            .ToArray();
        var properties = new Dictionary<string, string> { ["build_property.ShadowMmuCheckRaceOrders"] = checkRaceOrders ? "true" : "false" };
        GeneratorHarness.NewDriver(specs, buildProperties: properties)
            .RunGeneratorsAndUpdateCompilation(GeneratorHarness.NewCompilation("namespace Consumer { class A { } }"), out Compilation output, out _);
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        var options = new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty,
            new GeneratorHarness.GlobalOptionsProvider(new Dictionary<string, string> { ["shadowmmu_analyze_generated_code"] = "true" }));
        ImmutableArray<Diagnostic> diagnostics = await output
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new MmuLockAnalyzer()), options)
            .GetAnalyzerDiagnosticsAsync();

        Assert.DoesNotContain(diagnostics, d => d.Id == "AD0001");
        var byMethod = diagnostics.Where(d => d.Id == "MMU0001" && !d.IsSuppressed)
            .GroupBy(d => (Walker: TypeOf(d), Method: MethodOf(d)))
            .ToDictionary(g => g.Key, g => g.Count());
        if (!checkRaceOrders)
        {
            Assert.Empty(byMethod);
            return;
        }

        foreach (string walker in new[] { "Legacy32Walker", "PaeWalker", "Long4Walker", "Long5Walker" })
        {
            Assert.True(byMethod.ContainsKey((walker, "FetchPreFix")), $"{walker}.FetchPreFix: the 2010 order must be reported");
            Assert.True(byMethod.ContainsKey((walker, "FetchNoLeaf")), $"{walker}.FetchNoLeaf: the unchecked leaf must be reported");
        }

        Assert.All(byMethod.Keys, key => Assert.Contains(key.Method, new[] { "FetchPreFix", "FetchNoLeaf" }));
        Assert.Contains(diagnostics, d => d.Id == "MMU0001" && MethodOf(d) == "FetchPreFix" && TypeOf(d) == "Long4Walker"
            && d.GetMessage().Contains("'walk.Ptes[3]'") && d.GetMessage().Contains("'walk.Ptes[2]'"));
    }

    private static string MethodOf(Diagnostic diagnostic) =>
        diagnostic.Location.SourceTree!.GetRoot().FindNode(diagnostic.Location.SourceSpan)
            .AncestorsAndSelf().OfType<MethodDeclarationSyntax>().First().Identifier.Text;

    private static string TypeOf(Diagnostic diagnostic) =>
        diagnostic.Location.SourceTree!.GetRoot().FindNode(diagnostic.Location.SourceSpan)
            .AncestorsAndSelf().OfType<ClassDeclarationSyntax>().First().Identifier.Text;
}
