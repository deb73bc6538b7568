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
        // The shared-side Fetch calls only what either side may (MMU0008) and writes shadow state only atomically (MMU0009).
        Assert.DoesNotContain(diagnostics, d => d.Id is "MMU0008" or "MMU0009" && !d.IsSuppressed);
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

    /// <summary>
    /// The shared-side Fetch with an exclusive-side call put into it (a leaf dropped by the exclusive side's
    /// <c>DropLeaf</c> just before the install): the lint reports MMU0008 there, in every mode.
    /// </summary>
    [Fact]
    public async Task An_exclusive_side_call_in_the_shared_fetch_is_reported()
    {
        var specs = new[] { "legacy32", "pae", "long4", "long5", "ept4", "ept5" }
            .Select(m => (AdditionalText)new GeneratorHarness.InMemoryAdditionalText("/specs/" + m + ".paging", GeneratorHarness.BuiltInSpec(m)))
            .ToArray();
        GeneratorHarness.NewDriver(specs)
            .RunGeneratorsAndUpdateCompilation(GeneratorHarness.NewCompilation("namespace Consumer { class A { } }"), out Compilation output, out _);
        const string Install = "installed = vm.InstallLeafShared(vcpu, sp, index,";
        Compilation mutated = output;
        int mutations = 0;
        foreach (SyntaxTree tree in output.SyntaxTrees)
        {
            string text = tree.ToString();
            if (text.Contains(Install))
            {
                mutated = mutated.ReplaceSyntaxTree(tree, tree.WithChangedText(Microsoft.CodeAnalysis.Text.SourceText.From(
                    text.Replace(Install, "vm.DropLeaf(sp, index);\n            " + Install))));
                mutations++;
            }
        }

        Assert.Equal(6, mutations);
        Assert.Empty(mutated.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        var options = new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty,
            new GeneratorHarness.GlobalOptionsProvider(new Dictionary<string, string> { ["shadowmmu_analyze_generated_code"] = "true" }));
        ImmutableArray<Diagnostic> diagnostics = await mutated
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new MmuLockAnalyzer()), options)
            .GetAnalyzerDiagnosticsAsync();

        var reported = diagnostics.Where(d => d.Id == "MMU0008" && MethodOf(d) == "FetchOnSharedSide" && d.GetMessage().Contains("'DropLeaf'"))
            .Select(TypeOf).ToHashSet();
        Assert.Equal(new[] { "Ept4Walker", "Ept5Walker", "Legacy32Walker", "Long4Walker", "Long5Walker", "PaeWalker" }, reported.OrderBy(t => t));
    }

    private static string MethodOf(Diagnostic diagnostic) =>
        diagnostic.Location.SourceTree!.GetRoot().FindNode(diagnostic.Location.SourceSpan)
            .AncestorsAndSelf().OfType<MethodDeclarationSyntax>().First().Identifier.Text;

    private static string TypeOf(Diagnostic diagnostic) =>
        diagnostic.Location.SourceTree!.GetRoot().FindNode(diagnostic.Location.SourceSpan)
            .AncestorsAndSelf().OfType<ClassDeclarationSyntax>().First().Identifier.Text;
}
