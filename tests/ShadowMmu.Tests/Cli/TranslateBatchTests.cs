using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;
using static ShadowMmu.Tests.Cli.TestImage;

namespace ShadowMmu.Tests.Cli;

/// <summary><c>shadowmmu translate --batch FILE.jsonl</c>: JSON Lines in, JSON Lines out.</summary>
public sealed class TranslateBatchTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly TestImage _image;

    public TranslateBatchTests()
    {
        _image = BuildLong4(_dir.File("mem.bin"));
    }

    public void Dispose() => _dir.Dispose();

    private static string Case(string image, string va, string extra = "") =>
        $"{{\"image\": \"{image}\", \"cr0\": \"0x80010033\", \"cr3\": \"0x1000\", \"cr4\": \"0x20\", \"efer\": \"0xd00\", \"pkru\": \"0x0\", \"ac\": false, \"maxphyaddr\": 40, \"va\": \"{va}\"{extra}}}";

    private CliResult RunBatch(params string[] lines)
    {
        string batch = _dir.File("cases-" + Guid.NewGuid().ToString("N")[..8] + ".jsonl");
        File.WriteAllLines(batch, lines);
        return CliHarness.Run("translate", "--batch", batch);
    }

    private static JsonElement[] Answers(CliResult result)
    {
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Stderr);
        return result.Lines.Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToArray();
    }

    private static string[] Keys(JsonElement answer) => answer.EnumerateObject().Select(p => p.Name).ToArray();

    [Fact]
    public void TranslatedWriteAnswersEveryField()
    {
        JsonElement answer = Answers(RunBatch(Case("mem.bin", "0x7fff0123", ", \"cpl\": 3, \"access\": \"write\"")))[0];

        Assert.Equal(new[] { "fault", "exception", "error_code", "pa", "page_size", "mode", "pte_updates" }, Keys(answer).Take(7));
        Assert.False(answer.GetProperty("fault").GetBoolean());
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("exception").ValueKind);
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("error_code").ValueKind);
        Assert.Equal("0x123123", answer.GetProperty("pa").GetString());
        Assert.Equal(4096, answer.GetProperty("page_size").GetInt64());
        Assert.Equal("long4", answer.GetProperty("mode").GetString());

        var expected = new List<(string Pa, string Old, string New, int Size)>();
        for (int level = 4; level >= 1; level--)
        {
            ulong gpa = _image.EntryGpa(Long4.UserRw, level);
            ulong old = _image.Entry(gpa);
            ulong set = level == 1 ? 0x60UL : 0x20UL;
            expected.Add(($"0x{gpa:x}", $"0x{old:x}", $"0x{old | set:x}", 8));
        }

        var updates = answer.GetProperty("pte_updates").EnumerateArray()
            .Select(u => (u.GetProperty("pa").GetString()!, u.GetProperty("old").GetString()!, u.GetProperty("new").GetString()!, u.GetProperty("size").GetInt32()))
            .ToList();
        Assert.Equal(expected, updates);
        Assert.Equal(new[] { "pa", "old", "new", "size" }, Keys(answer.GetProperty("pte_updates")[0]));
    }

    [Fact]
    public void PageFaultAnswer()
    {
        JsonElement answer = Answers(RunBatch(Case("mem.bin", "0x7fff1000", ", \"cpl\": 3, \"access\": \"write\"")))[0];

        Assert.True(answer.GetProperty("fault").GetBoolean());
        Assert.Equal("PF", answer.GetProperty("exception").GetString());
        Assert.Equal("0x7", answer.GetProperty("error_code").GetString());
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("pa").ValueKind);
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("page_size").ValueKind);
        Assert.Equal("long4", answer.GetProperty("mode").GetString());
        Assert.Equal(0, answer.GetProperty("pte_updates").GetArrayLength());
    }

    [Fact]
    public void GeneralProtectionAnswer()
    {
        JsonElement answer = Answers(RunBatch(Case("mem.bin", "0xffff000000000000")))[0];

        Assert.True(answer.GetProperty("fault").GetBoolean());
        Assert.Equal("GP", answer.GetProperty("exception").GetString());
        Assert.Equal("0x0", answer.GetProperty("error_code").GetString());
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("pa").ValueKind);
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("page_size").ValueKind);
        Assert.Equal("long4", answer.GetProperty("mode").GetString());
        Assert.Equal(0, answer.GetProperty("pte_updates").GetArrayLength());
    }

    [Fact]
    public void LargePageAndIntegerRegistersAndDefaults()
    {
        // Integers instead of hex strings; cr0, pkru, ac, cpl, access and maxphyaddr left at their defaults.
        JsonElement answer = Answers(RunBatch($"{{\"image\": \"mem.bin\", \"cr3\": 4096, \"cr4\": 32, \"efer\": 3328, \"va\": {Long4.Large + 0x12345}}}"))[0];

        Assert.False(answer.GetProperty("fault").GetBoolean());
        Assert.Equal("0x212345", answer.GetProperty("pa").GetString());
        Assert.Equal(2 << 20, answer.GetProperty("page_size").GetInt64());
        JsonElement[] updates = answer.GetProperty("pte_updates").EnumerateArray().ToArray();
        Assert.Equal(3, updates.Length);
        Assert.Equal($"0x{_image.EntryGpa(Long4.Large, 2):x}", updates[2].GetProperty("pa").GetString());
        Assert.Equal("0x200087", updates[2].GetProperty("old").GetString());
        Assert.Equal("0x2000a7", updates[2].GetProperty("new").GetString());
    }

    [Fact]
    public void ModeFollowsTheRegistersAndEntrySizeFollowsTheMode()
    {
        TestImage legacy = Build(_dir.File("legacy32.bin"), "legacy32", (b, _) => b.Map(0x0804_8000, 0x10_0000, 0x1000, User | Writable), 0x0804_8000UL);
        TestImage pae = Build(_dir.File("pae.bin"), "pae", (b, _) => b.Map(0x0804_8000, 0x10_0000, 0x1000, User | Writable), 0x0804_8000UL);

        JsonElement[] answers = Answers(RunBatch(
            "{\"image\": \"legacy32.bin\", \"cr3\": \"0x1000\", \"va\": \"0x8048000\", \"access\": \"write\"}",
            "{\"image\": \"pae.bin\", \"cr3\": \"0x1000\", \"cr4\": \"0x20\", \"va\": \"0x8048000\"}"));

        Assert.Equal("legacy32", answers[0].GetProperty("mode").GetString());
        Assert.Equal("0x100000", answers[0].GetProperty("pa").GetString());
        Assert.All(answers[0].GetProperty("pte_updates").EnumerateArray(), u => Assert.Equal(4, u.GetProperty("size").GetInt32()));
        Assert.Equal(
            $"0x{legacy.EntryGpa(0x0804_8000, 1):x}",
            answers[0].GetProperty("pte_updates")[1].GetProperty("pa").GetString());
        Assert.Equal("0x100067", answers[0].GetProperty("pte_updates")[1].GetProperty("new").GetString());

        Assert.Equal("pae", answers[1].GetProperty("mode").GetString());
        Assert.Equal("0x100000", answers[1].GetProperty("pa").GetString());
        // PAE: the PDPTEs are registers without an accessed flag, so the PDE and PTE are updated.
        Assert.Equal(
            new[] { $"0x{pae.EntryGpa(0x0804_8000, 2):x}", $"0x{pae.EntryGpa(0x0804_8000, 1):x}" },
            answers[1].GetProperty("pte_updates").EnumerateArray().Select(u => u.GetProperty("pa").GetString()).ToArray());
        Assert.All(answers[1].GetProperty("pte_updates").EnumerateArray(), u => Assert.Equal(8, u.GetProperty("size").GetInt32()));
    }

    [Fact]
    public void PaeWithAFaultingPdpteLoadAnswersGpForEveryCase()
    {
        JsonElement[] answers = Answers(RunBatch(
            "{\"image\": \"mem.bin\", \"cr3\": \"0x1000\", \"cr4\": \"0x20\", \"va\": \"0x7fff0000\", \"strict_pae\": true}",
            "{\"image\": \"mem.bin\", \"cr3\": \"0x1000\", \"cr4\": \"0x20\", \"va\": \"0x0\", \"access\": \"fetch\", \"strict_pae\": true}"));

        Assert.All(answers, a =>
        {
            Assert.Equal("GP", a.GetProperty("exception").GetString());
            Assert.Equal("0x0", a.GetProperty("error_code").GetString());
            Assert.Equal("pae", a.GetProperty("mode").GetString());
        });
    }

    [Fact]
    public void ImagePathsAreRelativeToTheBatchFile()
    {
        string sub = Path.Combine(_dir.Path, "dumps", "vm1");
        Directory.CreateDirectory(sub);
        BuildLong4(Path.Combine(sub, "guest.mem"));
        string batchDir = Path.Combine(_dir.Path, "dumps");
        string batch = Path.Combine(batchDir, "cases.jsonl");
        File.WriteAllText(batch, Case("vm1/guest.mem", "0x7fff0000") + "\n" + Case(Path.Combine(sub, "guest.mem"), "0x7fff0010") + "\n");

        CliResult result = CliHarness.Run("translate", "--batch", batch);

        JsonElement[] answers = Answers(result);
        Assert.Equal("0x123000", answers[0].GetProperty("pa").GetString());
        Assert.Equal("0x123010", answers[1].GetProperty("pa").GetString());
    }

    [Fact]
    public void BadLinesAreAnsweredWithAnErrorAndTheOthersStillInOrder()
    {
        string[] lines =
        {
            Case("mem.bin", "0x7fff0000"),
            "{\"image\": \"mem.bin\", \"cr3\": ",
            Case("missing.bin", "0x7fff0000"),
            Case("mem.bin", "0x7fff1000", ", \"access\": \"write\", \"cpl\": 3"),
            "{\"image\": \"mem.bin\", \"va\": \"0x1000\"}",
            Case("mem.bin", "0xzz"),
            "[1, 2]",
            Case("mem.bin", "0x7fff0000", ", \"access\": \"execute\""),
            "{\"image\": \"mem.bin\", \"cr3\": \"0x1000\", \"cr0\": \"0x11\", \"va\": \"0x1000\"}",
            "{\"image\": \"mem.bin\", \"cr3\": \"0x1000\", \"efer\": \"0x100\", \"va\": \"0x1000\"}",
            "{\"image\": \"mem.bin\", \"cr3\": \"0x1000\", \"cr4\": \"0x20\", \"va\": \"0x100000000\"}",
            Case("mem.bin", "0x40000000"),
        };

        JsonElement[] answers = Answers(RunBatch(lines));

        Assert.Equal(lines.Length, answers.Length);
        Assert.Equal("0x123000", answers[0].GetProperty("pa").GetString());
        Assert.Equal("0x7", answers[3].GetProperty("error_code").GetString());
        Assert.Equal("0x200000", answers[11].GetProperty("pa").GetString());
        string[] errors = new[] { 1, 2, 4, 5, 6, 7, 8, 9, 10 }.Select(i =>
        {
            Assert.Equal(new[] { "error" }, Keys(answers[i]));
            string message = answers[i].GetProperty("error").GetString()!;
            Assert.DoesNotContain('\n', message);
            Assert.StartsWith($"line {i + 1}: ", message, StringComparison.Ordinal);
            return message;
        }).ToArray();
        Assert.Contains("missing.bin", errors[1], StringComparison.Ordinal);
        Assert.Contains("cr3 is missing", errors[2], StringComparison.Ordinal);
        Assert.Contains("0xzz", errors[3], StringComparison.Ordinal);
        Assert.Contains("access", errors[5], StringComparison.Ordinal);
        Assert.Contains("CR0.PG is clear", errors[6], StringComparison.Ordinal);
        Assert.Contains("without CR4.PAE", errors[7], StringComparison.Ordinal);
        Assert.Contains("does not fit", errors[8], StringComparison.Ordinal);
    }

    [Fact]
    public void ImageIsUnchangedAfterABatchThatSetsAccessedAndDirtyFlags()
    {
        string before = TestImage.Sha256(_image.Path);

        JsonElement[] answers = Answers(RunBatch(
            Case("mem.bin", "0x7fff0000", ", \"access\": \"write\""),
            Case("mem.bin", "0x40000000", ", \"access\": \"write\", \"cpl\": 3"),
            Case("mem.bin", "0xffffffff80000000", ", \"access\": \"write\"")));

        Assert.All(answers, a => Assert.NotEqual(0, a.GetProperty("pte_updates").GetArrayLength()));
        Assert.Equal(before, TestImage.Sha256(_image.Path));
    }

    [Fact]
    public void UpdatesOfOneCaseDoNotLeakIntoTheNext()
    {
        string write = Case("mem.bin", "0x7fff0000", ", \"access\": \"write\"");
        string read = Case("mem.bin", "0x7fff0000");

        CliResult result = RunBatch(write, write, read, write, read);

        string[] lines = result.Lines;
        Assert.Equal(5, lines.Length);
        Assert.Equal(lines[0], lines[1]);
        Assert.Equal(lines[0], lines[3]);
        Assert.Equal(lines[2], lines[4]);
        Assert.Equal(4, JsonDocument.Parse(lines[1]).RootElement.GetProperty("pte_updates").GetArrayLength());
        Assert.Equal(4, JsonDocument.Parse(lines[2]).RootElement.GetProperty("pte_updates").GetArrayLength());
    }

    [Fact]
    public void BlankLinesAreNotCases()
    {
        JsonElement[] answers = Answers(RunBatch(Case("mem.bin", "0x7fff0000"), string.Empty, "   ", Case("mem.bin", "0x7fff1000")));

        Assert.Equal(2, answers.Length);
        Assert.Equal("0x124000", answers[1].GetProperty("pa").GetString());
    }

    [Fact]
    public void BatchFromStandardInputTakesPathsFromTheCurrentFolder()
    {
        CliResult result = CliHarness.RunWithInput(Case(_image.Path, "0x7fff0000") + "\n", "translate", "--batch", "-");

        Assert.Equal("0x123000", Answers(result)[0].GetProperty("pa").GetString());
    }

    [Fact]
    public void UnreadableBatchFileIsAUsageError()
    {
        CliHarness.Run("translate", "--batch", _dir.File("no-such.jsonl")).AssertUsageError("no-such.jsonl");
    }
}
