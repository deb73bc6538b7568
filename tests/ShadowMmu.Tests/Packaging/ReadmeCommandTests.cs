using System;
using System.IO;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Packaging;

/// <summary>
/// The README's sections for each kind of user carry commands; these tests run them exactly as written (each block
/// after a <c>&lt;!-- readme-test: NAME --&gt;</c> marker, with bash from the repository root), so the README cannot rot.
/// </summary>
[Collection(nameof(PackagingCollection))]
public class ReadmeCommandTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("consume", "0x400123 -> 0x90123 (4 KiB page, access 7)")]
    [InlineData("lint", "Mmu.cs(16,26): error MMU0001")]
    [InlineData("benchmark", "Quick run: 12 benchmarks")]
    public void Readme_commands_run_as_written(string section, string expected)
    {
        string script = Block(section);
        string file = Path.Combine(Path.GetTempPath(), $"shadowmmu-readme-{section}-{Guid.NewGuid():N}.sh");
        File.WriteAllText(file, "set -euo pipefail\n" + script);
        var (code, text) = PackagingHarness.Run(PackagingHarness.RepositoryRoot, "bash", file);
        output.WriteLine(text);
        Assert.True(code == 0, $"the README's '{section}' commands failed (exit {code}):\n{text}");
        Assert.Contains(expected, text);
    }

    internal static string Block(string section)
    {
        string readme = File.ReadAllText(Path.Combine(PackagingHarness.RepositoryRoot, "README.md"));
        Match match = Regex.Match(readme, "<!-- readme-test: " + Regex.Escape(section) + " -->\\s*```sh\\n(?<body>.*?)\\n```", RegexOptions.Singleline);
        Assert.True(match.Success, $"README.md has no '{section}' block");
        return match.Groups["body"].Value;
    }
}
