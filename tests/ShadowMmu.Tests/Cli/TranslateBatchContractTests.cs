using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace ShadowMmu.Tests.Cli;

/// <summary>
/// The batch contract as a new user meets it (issue 15): a misspelt key, a number too big for 64 bits and a line that
/// is not JSON are each told in the tool's own words, and <c>--fail-on-error</c> lets a script see from the exit code
/// that some cases failed. The answers and the default exit code stay as documented.
/// </summary>
public sealed class TranslateBatchContractTests : IDisposable
{
    private readonly TempDir _dir = new();

    public TranslateBatchContractTests()
    {
        TestImage.BuildLong4(_dir.File("mem.bin"));
    }

    public void Dispose() => _dir.Dispose();

    private CliResult RunBatch(string[] options, params string[] lines)
    {
        File.WriteAllText(_dir.File("cases.jsonl"), string.Join('\n', lines) + "\n");
        return CliHarness.Run(new[] { "translate", "--batch", _dir.File("cases.jsonl") }.Concat(options).ToArray());
    }

    private static string Case(string extra) => "{\"image\": \"mem.bin\", \"cr3\": \"0x1000\", \"cr4\": \"0x20\", \"efer\": \"0xd00\", \"va\": \"0x7fff0000\"" + extra + "}";

    private string ErrorOf(string line) =>
        JsonDocument.Parse(RunBatch(Array.Empty<string>(), line).Lines.Single()).RootElement.GetProperty("error").GetString()!;

    [Theory]
    [InlineData(", \"acess\": \"write\"", "line 1: unknown key 'acess' (did you mean 'access'?)")]
    [InlineData(", \"CR3x\": 1", "line 1: unknown key 'CR3x' (did you mean 'cr3'?)")]
    [InlineData(", \"frobnicate\": 1", "line 1: unknown key 'frobnicate' (a case has: image, cpu, cr0, cr3,")]
    public void A_misspelt_key_is_an_error_not_a_silent_default(string extra, string message) =>
        Assert.StartsWith(message, ErrorOf(Case(extra)), StringComparison.Ordinal);

    [Theory]
    [InlineData(", \"cr4\": 18446744073709551616", "line 1: cr4: 18446744073709551616 is too big for 64 bits")]
    [InlineData(", \"cr4\": \"0x1_0000_0000_0000_0000\"", "line 1: cr4: '0x1_0000_0000_0000_0000' is too big for 64 bits")]
    [InlineData(", \"cr4\": \"99999999999999999999\"", "line 1: cr4: '99999999999999999999' is too big for 64 bits")]
    [InlineData(", \"cr4\": -1", "line 1: cr4: -1 is negative")]
    [InlineData(", \"cr4\": 1.5", "line 1: cr4: 1.5 is not a whole number")]
    [InlineData(", \"cr4\": \"0xzz\"", "line 1: cr4: '0xzz' is not a number (hex with 0x, or decimal)")]
    public void Numbers_say_what_is_wrong_with_them(string extra, string message) =>
        Assert.Equal(message, ErrorOf(Case(extra)));

    [Theory]
    [InlineData("{\"image\": \"mem.bin\", \"cr3\": ", "line 1: the case is not valid JSON: it ends before its object does (a case is one JSON object on one line)")]
    [InlineData("{\"image\": \"mem.bin\", \"cr3\": 0x1000}", "line 1: the case is not valid JSON at column 30 (a case is one JSON object on one line)")]
    [InlineData("image=mem.bin cr3=0x1000", "line 1: the line is not a JSON object (a case is one JSON object on one line, like")]
    public void A_line_that_is_not_JSON_is_told_in_the_tools_words(string line, string message)
    {
        string error = ErrorOf(line);

        Assert.StartsWith(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", error, StringComparison.Ordinal);
        Assert.DoesNotContain("BytePosition", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Fail_on_error_gives_exit_code_2_and_a_summary_when_a_case_failed()
    {
        string[] lines = { Case(""), Case(", \"acess\": \"write\""), Case(", \"cpl\": 5") };

        CliResult lenient = RunBatch(Array.Empty<string>(), lines);
        CliResult strict = RunBatch(new[] { "--fail-on-error" }, lines);
        CliResult clean = RunBatch(new[] { "--fail-on-error" }, Case(""));

        Assert.Equal(0, lenient.ExitCode);
        Assert.Equal(string.Empty, lenient.Stderr);
        Assert.Equal(2, strict.ExitCode);
        Assert.Equal(lenient.Stdout, strict.Stdout);
        Assert.Equal("shadowmmu: error: 2 of 3 cases could not be run (the first: line 2: unknown key 'acess' (did you mean 'access'?))\n", strict.Stderr);
        Assert.Equal(0, clean.ExitCode);
        Assert.False(CliHarness.Run("translate", "--fail-on-error", "--demo").ExitCode == 0);
    }

    [Fact]
    public void The_help_names_every_privilege_level()
    {
        string help = CliHarness.Run("translate", "--help").Stdout;

        Assert.Contains("--cpl <0-3>", help, StringComparison.Ordinal);
        Assert.Equal("0x7fff0000", JsonDocument.Parse(RunBatch(Array.Empty<string>(), Case(", \"cpl\": 2")).Lines.Single()).RootElement.GetProperty("va").GetString());
    }
}
