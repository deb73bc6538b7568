using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using ShadowMmu.Generators;
using Xunit;

namespace ShadowMmu.Tests.Generator;

/// <summary>
/// The planning step decides once what the emitter prints: the methods each walker gets (and why not), how each level
/// reads its entry, which pages are gated. Plans are equatable, so the pipeline caches them.
/// </summary>
public class PlannerTests
{
    [Theory]
    [InlineData("legacy32")]
    [InlineData("pae")]
    [InlineData("long4")]
    [InlineData("long5")]
    [InlineData("ept4")]
    [InlineData("ept5")]
    public void Planning_a_spec_twice_gives_equal_plans_and_an_edit_gives_another(string mode)
    {
        string text = GeneratorHarness.BuiltInSpec(mode);
        WalkerPlan first = PlanOf(mode, text);
        WalkerPlan second = PlanOf(mode, text);
        WalkerPlan edited = PlanOf(mode, text.Replace("\ntitle ", "\ntitle Edited ", StringComparison.Ordinal));

        Assert.NotSame(first, second);
        Assert.Equal(first, second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
        Assert.NotEqual(first, edited);
    }

    [Theory]
    // mode, two-dimensional walk, shadow roots (null: no shadow paging), shadowed in quadrants
    [InlineData("legacy32", true, "Quadrants", true)]
    [InlineData("pae", false, "Registers", false)]
    [InlineData("long4", true, "One", false)]
    [InlineData("long5", true, "One", false)]
    [InlineData("ept4", false, "One", false)]
    [InlineData("ept5", false, "One", false)]
    public void The_plan_says_which_methods_each_built_in_walker_gets(string mode, bool nested, string? roots, bool quadrants)
    {
        WalkerPlan plan = PlanOf(mode, GeneratorHarness.BuiltInSpec(mode));

        Assert.Equal(nested, plan.NestedWalk);
        Assert.Equal(roots, plan.Shadow?.Roots.ToString());
        Assert.Equal(quadrants, plan.Shadow?.Quadrants ?? false);
        // Only PAE lacks a method its format could have (an EPT format is itself the second dimension).
        Assert.Equal(mode == "pae" ? 1 : 0, plan.Omitted.Count);
    }

    [Fact]
    public void Each_level_reads_its_entry_as_its_table_address_allows()
    {
        // Table addresses that keep bits 3:2 (from CR3 and from the PML4Es) may leave the PML4Es and the PDPTEs
        // unaligned; the PDEs and PTEs come from table fields that start at bit 12.
        string spec = GeneratorHarness.BuiltInSpec("long4").Replace("mode long4", "mode odd")
            .Replace("root CR3 51:12", "root CR3 51:2", StringComparison.Ordinal);
        int pdpte = spec.IndexOf("level 3 PDPTE", StringComparison.Ordinal);
        int pml4eTable = spec.IndexOf("table 51:12", StringComparison.Ordinal);
        spec = spec.Remove(pml4eTable, "table 51:12".Length).Insert(pml4eTable, "table 51:2");
        Assert.True(pml4eTable < pdpte);

        WalkerPlan plan = PlanOf("odd", spec);

        Assert.Equal(new[] { "Checked", "Checked", "Aligned", "Aligned" }, plan.Levels.Select(l => l.Read.ToString()));
        Assert.False(plan.NestedWalk);
        Omission omission = Assert.Single(plan.Omitted);
        Assert.Equal(LineOf(spec, "level 4 PML4E"), omission.Line);
        Assert.Contains("level 4", omission.Reason, StringComparison.Ordinal);
        Assert.NotNull(plan.Shadow);
    }

    [Fact]
    public void A_page_size_bit_ignored_without_its_condition_gets_a_gate_and_a_reserved_one_does_not()
    {
        WalkerPlan legacy32 = PlanOf("legacy32", GeneratorHarness.BuiltInSpec("legacy32"));
        WalkerPlan long4 = PlanOf("long4", GeneratorHarness.BuiltInSpec("long4"));

        Assert.Equal("_pdeMapsPages", legacy32.Level(2).Page!.Gate);   // page 4M ... when CR4.PSE else ignored
        Assert.Null(long4.Level(3).Page!.Gate);                        // page 1G ... when CPUID.PAGE1GB else reserved
        Assert.Null(long4.Level(2).Page!.Gate);
    }

    [Theory]
    [InlineData("bit dirty 6\n", "no dirty flag")]
    [InlineData("bit accessed 5\nbit dirty 6\n", "no accessed and dirty flags")]
    public void A_spec_without_accessed_or_dirty_flags_gets_no_fetch_and_says_so_at_its_mode_line(string removed, string reason)
    {
        string spec = GeneratorHarness.BuiltInSpec("long4").Replace("mode long4", "mode plain4").Replace(removed, "", StringComparison.Ordinal);
        var (result, output, _) = GeneratorHarness.Run(("/consumer/plain4.paging", spec));

        Diagnostic note = Assert.Single(result.Diagnostics);
        Assert.Equal(("MMUG014", DiagnosticSeverity.Info), (note.Id, note.Severity));
        Assert.Contains("Plain4Walker gets no Fetch and Prefetch", note.GetMessage(), StringComparison.Ordinal);
        Assert.Contains(reason, note.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(LineOf(spec, "mode plain4"), note.Location.GetLineSpan().StartLinePosition.Line);

        // The walker walks (and walks nested), without the shadow-paging interface.
        Type walker = GeneratorHarness.Load(output).GetType("Consumer.Plain4Walker", throwOnError: true)!;
        Assert.True(typeof(INestedPageWalker).IsAssignableFrom(walker));
        Assert.False(typeof(IShadowFetcher).IsAssignableFrom(walker));
    }

    [Fact]
    public void The_built_in_PAE_spec_says_it_gets_no_two_dimensional_walk_at_its_register_level()
    {
        string spec = GeneratorHarness.BuiltInSpec("pae");
        var (result, _, _) = GeneratorHarness.Run(("/specs/pae.paging", spec));

        Diagnostic note = Assert.Single(result.Diagnostics);
        Assert.Equal(("MMUG014", DiagnosticSeverity.Info), (note.Id, note.Severity));
        Assert.Equal("PaeWalker gets no WalkNested (the walk of a guest under EPT): its PDPTEs are registers loaded when the walker is "
            + "built, not entries a walk reads through EPT", note.GetMessage());
        Assert.Equal(LineOf(spec, "level 3 PDPTE"), note.Location.GetLineSpan().StartLinePosition.Line);
    }

    /// <summary>The plan the generator's Plan step made of <paramref name="text"/>.</summary>
    internal static WalkerPlan PlanOf(string mode, string text)
    {
        GeneratorDriver driver = GeneratorHarness.NewDriver(new[] { new GeneratorHarness.InMemoryAdditionalText("/specs/" + mode + ".paging", text) });
        GeneratorRunResult run = driver.RunGenerators(GeneratorHarness.NewCompilation("namespace Consumer { class A { } }")).GetRunResult().Results.Single();
        IEnumerable<object> plans = run.TrackedSteps[ShadowMmuGenerator.PlanStep].SelectMany(step => step.Outputs).Select(output => output.Value);
        return Assert.IsType<WalkerPlan>(Assert.Single(plans));
    }

    private static int LineOf(string text, string anchor) => text[..text.IndexOf(anchor, StringComparison.Ordinal)].Count(c => c == '\n');
}
