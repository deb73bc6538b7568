using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using ShadowMmu.Generators;
using Xunit;

namespace ShadowMmu.Tests.Generator;

/// <summary>
/// Every generator diagnostic id is one a user can look up: a descriptor with a message format that takes arguments,
/// a help link to its page in docs/generator, a row in the release-tracking file and in the language's table; an id
/// without a descriptor is an error, never another id's descriptor.
/// </summary>
public class DiagnosticCatalogTests
{
    /// <summary>The id constants of SpecDiagnosticIds (linked into the runtime too, so read from the generator's assembly).</summary>
    private static readonly string[] Ids = typeof(ShadowMmuGenerator).Assembly.GetType("ShadowMmu.Specs.SpecDiagnosticIds", throwOnError: true)!
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToArray();

    private static readonly DiagnosticDescriptor[] Descriptors = typeof(DiagnosticDescriptors)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .ToArray();

    public static TheoryData<string> AllIds => new(Ids);

    [Fact]
    public void Each_id_has_exactly_one_descriptor_and_the_ids_run_from_MMUG001_without_a_gap()
    {
        Assert.Equal(Ids.OrderBy(id => id), Descriptors.Select(d => d.Id).OrderBy(id => id));
        Assert.Equal(Enumerable.Range(1, Ids.Length).Select(n => $"MMUG{n:000}"), Ids.OrderBy(id => id));
    }

    [Theory]
    [MemberData(nameof(AllIds))]
    public void Each_id_has_a_message_with_arguments_a_page_and_a_release_row(string id)
    {
        DiagnosticDescriptor descriptor = DiagnosticDescriptors.ForId(id);
        Assert.Equal(id, descriptor.Id);
        Assert.Contains("{0}", descriptor.MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Equal("https://github.com/shadowmmu/shadowmmu/blob/main/docs/generator/" + id + ".md", descriptor.HelpLinkUri);
        Assert.Equal(id == "MMUG014" ? DiagnosticSeverity.Info : DiagnosticSeverity.Error, descriptor.DefaultSeverity);

        string page = File.ReadAllText(Path.Combine(Repository, "docs", "generator", id + ".md"));
        Assert.StartsWith("# " + id + ": ", page, StringComparison.Ordinal);
        Assert.Contains("| Severity | " + descriptor.DefaultSeverity.ToString().ToLowerInvariant() + " |", page, StringComparison.Ordinal);

        string releases = File.ReadAllText(Path.Combine(Repository, "generators", "ShadowMmu.Generators", "AnalyzerReleases.Unshipped.md"));
        Assert.Contains(id + " | ShadowMmu.Spec | " + descriptor.DefaultSeverity + " |", releases, StringComparison.Ordinal);
        Assert.Contains("[" + id + "](generator/" + id + ".md)", File.ReadAllText(Path.Combine(Repository, "docs", "spec-language.md")), StringComparison.Ordinal);
        Assert.Contains("[" + id + "](" + id + ".md)", File.ReadAllText(Path.Combine(Repository, "docs", "generator", "README.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void An_id_without_a_descriptor_is_an_error_not_another_ids_descriptor()
    {
        var error = Assert.Throws<ArgumentException>(() => DiagnosticDescriptors.ForId("MMUG999"));
        Assert.Contains("MMUG999", error.Message, StringComparison.Ordinal);
    }

    private static string Repository => Path.GetDirectoryName(GeneratorHarness.SpecsFolder)!;
}
