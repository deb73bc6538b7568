using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ShadowMmu.Generators;
using Xunit;

namespace ShadowMmu.Tests.Generator;

/// <summary>The pipeline carries only equatable data, so edits elsewhere leave every step cached.</summary>
public class IncrementalTests
{
    [Fact]
    public void Unrelated_source_edit_leaves_every_step_and_output_cached()
    {
        var specs = new[] { "legacy32", "long4" }
            .Select(m => (AdditionalText)new GeneratorHarness.InMemoryAdditionalText("/specs/" + m + ".paging", GeneratorHarness.BuiltInSpec(m)))
            .ToArray();
        GeneratorDriver driver = GeneratorHarness.NewDriver(specs);
        CSharpCompilation compilation = GeneratorHarness.NewCompilation("namespace Consumer { class A { } }");
        driver = driver.RunGenerators(compilation);

        CSharpCompilation edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Consumer { class B { int x; } }"));
        GeneratorRunResult second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        var parse = second.TrackedSteps[ShadowMmuGenerator.ParseStep];
        Assert.Equal(2, parse.Length);
        Assert.All(parse.SelectMany(step => step.Outputs), output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
        Assert.All(second.TrackedSteps[ShadowMmuGenerator.PlanStep].SelectMany(step => step.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
        Assert.All(second.TrackedSteps[ShadowMmuGenerator.CollectStep].SelectMany(step => step.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
        Assert.NotEmpty(second.TrackedOutputSteps);
        Assert.All(second.TrackedOutputSteps.SelectMany(step => step.Value).SelectMany(step => step.Outputs),
            output => Assert.Equal(IncrementalStepRunReason.Cached, output.Reason));
    }

    [Fact]
    public void Editing_one_spec_reparses_only_that_spec()
    {
        var legacy = new GeneratorHarness.InMemoryAdditionalText("/specs/legacy32.paging", GeneratorHarness.BuiltInSpec("legacy32"));
        var long4 = new GeneratorHarness.InMemoryAdditionalText("/specs/long4.paging", GeneratorHarness.BuiltInSpec("long4"));
        GeneratorDriver driver = GeneratorHarness.NewDriver(new AdditionalText[] { legacy, long4 });
        CSharpCompilation compilation = GeneratorHarness.NewCompilation("namespace Consumer { class A { } }");
        driver = driver.RunGenerators(compilation);

        var edited = new GeneratorHarness.InMemoryAdditionalText("/specs/long4.paging", GeneratorHarness.BuiltInSpec("long4").Replace("title 4-level paging", "title Four-level paging"));
        driver = driver.ReplaceAdditionalText(long4, edited);
        GeneratorRunResult second = driver.RunGenerators(compilation).GetRunResult().Results.Single();

        var reasons = second.TrackedSteps[ShadowMmuGenerator.ParseStep].SelectMany(step => step.Outputs).Select(o => o.Reason).ToList();
        Assert.Contains(IncrementalStepRunReason.Cached, reasons);
        Assert.Contains(IncrementalStepRunReason.Modified, reasons);

        // The other spec's plan is not made again; the edited spec's is.
        var plans = second.TrackedSteps[ShadowMmuGenerator.PlanStep].SelectMany(step => step.Outputs).Select(o => o.Reason).ToList();
        Assert.Equal(new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Modified }.OrderBy(r => r), plans.OrderBy(r => r));
    }
}
