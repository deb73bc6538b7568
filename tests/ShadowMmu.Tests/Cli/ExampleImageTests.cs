using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace ShadowMmu.Tests.Cli;

/// <summary><c>shadowmmu example-image</c> and <c>translate --demo</c>: what a newcomer tries first.</summary>
public sealed class ExampleImageTests : IDisposable
{
    private readonly TempDir _dir = new(" with space");

    public void Dispose() => _dir.Dispose();

    /// <summary>The <c>$ shadowmmu ...</c> commands in <paramref name="output"/>, each with the lines printed under it.</summary>
    private static List<(string Command, string[] Expected)> Commands(string output)
    {
        var commands = new List<(string, string[])>();
        string[] lines = output.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("$ shadowmmu ", StringComparison.Ordinal))
            {
                continue;
            }

            int end = Array.FindIndex(lines, i + 1, l => l.Length == 0);
            commands.Add((lines[i], lines[(i + 1)..end]));
            i = end;
        }

        return commands;
    }

    [Theory]
    [InlineData("legacy32")]
    [InlineData("pae")]
    [InlineData("long4")]
    [InlineData("long5")]
    public void PrintedCommandsTranslateAsPrinted(string mode)
    {
        string image = _dir.File($"example-{mode}.bin");

        CliResult written = CliHarness.Run("example-image", image, "--mode", mode);

        Assert.Equal(0, written.ExitCode);
        Assert.Equal(string.Empty, written.Stderr);
        Assert.Equal(4L << 20, new FileInfo(image).Length);
        string before = TestImage.Sha256(image);
        List<(string Command, string[] Expected)> commands = Commands(written.Stdout);
        Assert.Equal(3, commands.Count);
        bool sawTranslation = false, sawPageFault = false;
        foreach ((string command, string[] expected) in commands)
        {
            string[] words = CliHarness.ShellWords(command[2..]);
            Assert.Equal("shadowmmu", words[0]);
            Assert.Equal(new[] { "translate", "--image", image }, words[1..4]);
            Assert.Contains("--cr3", words);
            Assert.Contains("--cr0", words);
            Assert.Contains("--cr4", words);
            Assert.Contains("--efer", words);

            CliResult run = CliHarness.Run(words[1..]);

            Assert.Equal(0, run.ExitCode);
            Assert.Equal(expected, run.Lines);
            sawTranslation |= expected.Any(l => l.Contains($" page, {mode}, ", StringComparison.Ordinal));
            sawPageFault |= expected.Any(l => l.Contains(": #PF error code", StringComparison.Ordinal));
        }

        Assert.True(sawTranslation && sawPageFault);
        Assert.Contains(written.Lines, l => l.Contains("not present", StringComparison.Ordinal));
        Assert.Contains(written.Lines, l => l.Contains(mode == "legacy32" ? "(4 MiB)" : "(2 MiB)", StringComparison.Ordinal));
        Assert.Equal(before, TestImage.Sha256(image));
    }

    [Theory]
    [InlineData("ept4")]
    [InlineData("ept5")]
    public void EptExampleCommandsTranslateAsPrinted(string mode)
    {
        string image = _dir.File($"example-{mode}.bin");

        CliResult written = CliHarness.Run("example-image", image, "--mode", mode);

        Assert.Equal(0, written.ExitCode);
        string before = TestImage.Sha256(image);
        List<(string Command, string[] Expected)> commands = Commands(written.Stdout);

        // Three commands walk EPT alone (--gpa), then two walk the example's guest in two dimensions (--cr3 with --eptp).
        Assert.Equal(5, commands.Count);
        var seen = new HashSet<string>();
        for (int i = 0; i < commands.Count; i++)
        {
            (string command, string[] expected) = commands[i];
            string[] words = CliHarness.ShellWords(command[2..]);
            Assert.Contains("--eptp", words);
            Assert.Equal(i < 3, words.Contains("--gpa"));
            Assert.Equal(i >= 3, words.Contains("--cr3"));

            CliResult run = CliHarness.Run(words[1..]);

            Assert.Equal(0, run.ExitCode);
            Assert.Equal(expected, run.Lines);
            foreach (string what in new[]
            {
                $" page, {mode}, ", ": EPT violation, exit qualification", ": EPT misconfiguration at level 1", "sets A D in the PTE", "ignore PAT", "(1 GiB page",
                $" page, long4 through {mode}, user rwx; EPT rwx, WB)", "translating the final address", $": #PF error code 0x4 (U) at level 1 (long4 through {mode})",
            })
            {
                if (expected.Any(l => l.Contains(what, StringComparison.Ordinal)))
                {
                    seen.Add(what);
                }
            }
        }

        Assert.Equal(9, seen.Count);
        Assert.Equal(before, TestImage.Sha256(image));

        // The batch line it prints answers the same as its command line.
        string batchLine = written.Lines.Single(l => l.StartsWith("{\"image\"", StringComparison.Ordinal));
        File.WriteAllText(_dir.File("cases.jsonl"), batchLine + "\n");
        JsonElement answer = JsonDocument.Parse(CliHarness.Run("translate", "--batch", _dir.File("cases.jsonl")).Lines.Single()).RootElement;
        Assert.Equal(mode, answer.GetProperty("mode").GetString());
        Assert.False(answer.GetProperty("fault").GetBoolean());
    }

    [Fact]
    public void PrintedBatchCaseRunsNextToTheImage()
    {
        string image = _dir.File("mem.bin");
        CliResult written = CliHarness.Run("example-image", image);
        string jsonLine = written.Lines.Single(l => l.StartsWith("{", StringComparison.Ordinal));
        File.WriteAllText(_dir.File("cases.jsonl"), jsonLine + "\n");

        CliResult batch = CliHarness.Run("translate", "--batch", _dir.File("cases.jsonl"));

        Assert.Equal(0, batch.ExitCode);
        JsonElement answer = JsonDocument.Parse(batch.Lines.Single()).RootElement;
        Assert.False(answer.GetProperty("fault").GetBoolean());
        Assert.Equal("long4", answer.GetProperty("mode").GetString());
    }

    [Fact]
    public void ForceOverwrites()
    {
        string image = _dir.File("mem.bin");
        File.WriteAllText(image, "old");

        Assert.Equal(0, CliHarness.Run("example-image", image, "--force", "--mode", "pae").ExitCode);
        Assert.Equal(4L << 20, new FileInfo(image).Length);
    }

    [Fact]
    public void DemoShowsEveryModeWithoutAFile()
    {
        CliResult demo = CliHarness.Run("translate", "--demo");

        Assert.Equal(0, demo.ExitCode);
        Assert.Equal(string.Empty, demo.Stderr);
        foreach (string mode in new[] { "legacy32", "pae", "long4", "long5" })
        {
            Assert.Contains(demo.Lines, l => l.StartsWith($"== {mode}: ", StringComparison.Ordinal));
            Assert.Contains(demo.Lines, l => l.Contains($" page, {mode}, ", StringComparison.Ordinal));
        }

        Assert.Contains(demo.Lines, l => l.Contains("#GP(0) (non-canonical address, long5)", StringComparison.Ordinal));
        Assert.Contains(demo.Lines, l => l.Contains("(1 GiB page, long4, ", StringComparison.Ordinal));
    }

    [Fact]
    public void DemoAgreesWithExampleImage()
    {
        string image = _dir.File("long5.bin");
        CliResult written = CliHarness.Run("example-image", image, "--mode", "long5");
        CliResult demo = CliHarness.Run("translate", "--demo");

        string[] fromImage = Commands(written.Stdout).SelectMany(c => c.Expected).ToArray();
        string[] fromDemo = Commands(demo.Stdout).Where(c => c.Command.Contains("--cr4 0x1020", StringComparison.Ordinal)).SelectMany(c => c.Expected).ToArray();
        Assert.Equal(fromImage, fromDemo);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("translate", "--help")]
    [InlineData("example-image", "--help")]
    [InlineData("translate", "-h")]
    [InlineData("simulate", "--help")]
    [InlineData("maps", "--help")]
    [InlineData("read", "--help")]
    [InlineData("roots", "--help")]
    public void HelpOnEveryCommand(params string[] args)
    {
        CliResult help = CliHarness.Run(args);

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("Usage:", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("shadowmmu", help.Stdout, StringComparison.Ordinal);

        // An option whose description writes its own default beside the one the parser prints says it twice.
        Assert.DoesNotContain(help.Stdout.Split('\n'), line => line.Split("[default:").Length > 2);
    }

    [Fact]
    public void RootHelpNamesTheMainJobFirst()
    {
        string help = CliHarness.Run("--help").Stdout;

        Assert.Contains("'simulate' is the main job", help, StringComparison.Ordinal);
        int simulate = help.IndexOf("\n  simulate", StringComparison.Ordinal);
        int translate = help.IndexOf("\n  translate", StringComparison.Ordinal);
        Assert.True(simulate > 0 && translate > simulate, help);
    }

    [Fact]
    public void TranslateHelpShowsHexDefaults()
    {
        string help = CliHarness.Run("translate", "--help").Stdout;

        Assert.Contains("[default: 0x80010033]", help, StringComparison.Ordinal);
        foreach (string option in new[] { "--image", "--cr3", "--cr0", "--cr4", "--efer", "--pkru", "--ac", "--cpl", "--access", "--maxphyaddr", "--batch", "--demo" })
        {
            Assert.Contains(option, help, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Version()
    {
        CliResult version = CliHarness.Run("--version");

        Assert.Equal(0, version.ExitCode);
        Assert.StartsWith("0.1.0", version.Stdout, StringComparison.Ordinal);
    }
}
