using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace ShadowMmu.Tests.Generator;

/// <summary>
/// The generated code, pinned: every file the generator writes for long4, pae and ept4 (one walker each, and the mode
/// table of the three) is held against a checked-in baseline in <c>Generator/Baselines</c>, so that a reader sees the
/// output in the repository and a reviewer sees every change to it (as dotnet/runtime's RegexGeneratorOutputTests do).
/// </summary>
/// <remarks>
/// After a deliberate change to the emitted code, refresh the baselines and review the diff:
/// <code>
/// SHADOWMMU_UPDATE_BASELINES=1 dotnet test tests/ShadowMmu.Tests --filter "FullyQualifiedName~GeneratedOutputTests"
/// git diff tests/ShadowMmu.Tests/Generator/Baselines
/// </code>
/// With the variable set, each test writes the current output over its baseline instead of comparing (docs/generator/README.md).
/// </remarks>
public class GeneratedOutputTests
{
    /// <summary>Environment variable: set to 1 to rewrite the baselines from the current output.</summary>
    public const string UpdateVariable = "SHADOWMMU_UPDATE_BASELINES";

    private static readonly string[] Modes = { "long4", "pae", "ept4" };

    private static readonly Lazy<IReadOnlyDictionary<string, string>> Output = new(Generate);

    public static TheoryData<string> Files => new("Long4Walker.g.cs", "PaeWalker.g.cs", "Ept4Walker.g.cs", "GeneratedPagingModes.g.cs");

    [Theory]
    [MemberData(nameof(Files))]
    public void Generated_file_equals_its_baseline(string file)
    {
        string actual = Output.Value[file];
        string path = Path.Combine(BaselineFolder, file);
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Directory.CreateDirectory(BaselineFolder);
            File.WriteAllText(path, actual);
            return;
        }

        Assert.True(File.Exists(path), $"No baseline {path}: run with {UpdateVariable}=1 to write it.");
        string expected = File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal);
        if (expected == actual)
        {
            return;
        }

        string[] expectedLines = expected.Split('\n'), actualLines = actual.Split('\n');
        int line = 0;
        while (line < expectedLines.Length && line < actualLines.Length && expectedLines[line] == actualLines[line])
        {
            line++;
        }

        Assert.Fail($"{file} differs from its baseline from line {line + 1}:\n"
            + $"  baseline:  {(line < expectedLines.Length ? expectedLines[line] : "(end of file)")}\n"
            + $"  generated: {(line < actualLines.Length ? actualLines[line] : "(end of file)")}\n"
            + $"If the change is meant, run the tests with {UpdateVariable}=1 and review the baselines' diff.");
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Generated_lines_fit_in_120_columns_and_name_the_runtime_through_one_alias(string file)
    {
        string text = Output.Value[file];

        // The spec's own text (SpecSource, a verbatim string) is quoted as it is written.
        int specStart = text.IndexOf("SpecSource = @\"", StringComparison.Ordinal);
        int specEnd = specStart < 0 ? -1 : text.IndexOf("\";\n", specStart, StringComparison.Ordinal);
        string code = specStart < 0 ? text : text[..specStart] + text[specEnd..];
        Assert.All(code.Split('\n').Select((line, i) => (line, i)), l => Assert.True(l.line.Length <= 120, $"line {l.i + 1} is {l.line.Length} columns: {l.line}"));

        Assert.Single(code.Split('\n'), line => line.Contains("global::ShadowMmu", StringComparison.Ordinal));
        Assert.Contains("    using ShadowMmu = global::ShadowMmu;\n", code, StringComparison.Ordinal);
    }

    [Fact]
    public void The_pinned_files_are_all_the_generator_writes_for_the_three_modes_and_they_compile()
    {
        Assert.Equal(new[] { "Ept4Walker.g.cs", "GeneratedPagingModes.g.cs", "Long4Walker.g.cs", "PaeWalker.g.cs" }, Output.Value.Keys.OrderBy(f => f, StringComparer.Ordinal));
    }

    private static string BaselineFolder => Path.Combine(Path.GetDirectoryName(GeneratorHarness.SpecsFolder)!, "tests", "ShadowMmu.Tests", "Generator", "Baselines");

    /// <summary>Runs the generator as the runtime's build does (namespace ShadowMmu, the race orders suppressed) over the three specs.</summary>
    private static IReadOnlyDictionary<string, string> Generate()
    {
        var specs = Modes.Select(m => (AdditionalText)new GeneratorHarness.InMemoryAdditionalText("/specs/" + m + ".paging", GeneratorHarness.BuiltInSpec(m)));
        GeneratorDriverRunResult run = GeneratorHarness.NewDriver(specs, rootNamespace: "ShadowMmu")
            .RunGeneratorsAndUpdateCompilation(GeneratorHarness.NewCompilation("namespace Consumer { class A { } }"), out Compilation output, out _)
            .GetRunResult();
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        return run.Results.Single().GeneratedSources.ToDictionary(s => s.HintName, s => s.SourceText.ToString().Replace("\r\n", "\n", StringComparison.Ordinal));
    }
}
