using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Cli;

/// <summary>100,000 batch cases over one image, in-process.</summary>
public sealed class TranslateBatchScaleTests : IDisposable
{
    private const int Cases = 100_000;

    private readonly ITestOutputHelper _output;
    private readonly TempDir _dir = new();

    public TranslateBatchScaleTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void HundredThousandCasesAreAllAnsweredWellFormedAndInOrder()
    {
        TestImage image = TestImage.BuildLong4(_dir.File("mem.bin"));
        string before = TestImage.Sha256(image.Path);
        string[] templates =
        {
            "{\"image\":\"mem.bin\",\"cr3\":\"0x1000\",\"cr4\":\"0x20\",\"efer\":\"0xd00\",\"cpl\":3,\"access\":\"write\",\"va\":\"0x7fff0123\"}",
            "{\"image\":\"mem.bin\",\"cr3\":\"0x1000\",\"cr4\":\"0x20\",\"efer\":\"0xd00\",\"cpl\":3,\"access\":\"read\",\"va\":\"0x7fff1008\"}",
            "{\"image\":\"mem.bin\",\"cr3\":\"0x1000\",\"cr4\":\"0x20\",\"efer\":\"0xd00\",\"cpl\":3,\"access\":\"write\",\"va\":\"0x7fff1008\"}",
            "{\"image\":\"mem.bin\",\"cr3\":4096,\"cr4\":32,\"efer\":3328,\"cpl\":3,\"access\":\"fetch\",\"va\":\"0x7fff2000\"}",
            "{\"image\":\"mem.bin\",\"cr3\":\"0x1000\",\"cr4\":\"0x20\",\"efer\":\"0xd00\",\"va\":\"0x7fff3000\"}",
            "{\"image\":\"mem.bin\",\"cr3\":\"0x1000\",\"cr4\":\"0x20\",\"efer\":\"0xd00\",\"access\":\"write\",\"va\":\"0xffffffff80000abc\"}",
            "{\"image\":\"mem.bin\",\"cr3\":\"0x1000\",\"cr4\":\"0x20\",\"efer\":\"0xd00\",\"cpl\":3,\"va\":\"0xffffffff80000abc\"}",
            "{\"image\":\"mem.bin\",\"cr3\":\"0x1000\",\"cr4\":\"0x20\",\"efer\":\"0xd00\",\"access\":\"write\",\"va\":\"0x40123456\"}",
            "{\"image\":\"mem.bin\",\"cr3\":\"0x1000\",\"cr4\":\"0x20\",\"efer\":\"0xd00\",\"va\":\"0x800000000000\"}",
            "{\"image\":\"mem.bin\",\"cr3\":\"0x1000\",\"cr4\":\"0x200020\",\"efer\":\"0xd00\",\"ac\":true,\"va\":\"0x7fff0000\"}",
            "{\"image\":\"mem.bin\",\"cr3\":\"0x1000\",\"cr4\":\"0x20\",\"va\":\"0x7fff0000\",\"strict_pae\":true}",
        };
        var batch = new StringBuilder();
        for (int i = 0; i < Cases; i++)
        {
            batch.Append(templates[i % templates.Length]).Append('\n');
        }

        string batchFile = _dir.File("cases.jsonl");
        File.WriteAllText(batchFile, batch.ToString());

        var stopwatch = Stopwatch.StartNew();
        CliResult result = CliHarness.Run("translate", "--batch", batchFile);
        stopwatch.Stop();
        _output.WriteLine($"{Cases:#,0} batch cases over one image: {stopwatch.Elapsed.TotalSeconds:0.000} s in-process ({stopwatch.Elapsed.TotalMilliseconds * 1000 / Cases:0.0} µs per case), {result.Stdout.Length:#,0} characters of output");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Stderr);
        string[] lines = result.Lines;
        Assert.Equal(Cases, lines.Length);

        // Every case starts from the image on disk, so every answer equals the first answer to the same case.
        for (int i = 0; i < Cases; i++)
        {
            Assert.Equal(lines[i % templates.Length], lines[i]);
        }

        string[] keys = { "fault", "exception", "error_code", "pa", "page_size", "mode", "pte_updates" };
        for (int t = 0; t < templates.Length; t++)
        {
            using JsonDocument document = JsonDocument.Parse(lines[t]);
            JsonElement answer = document.RootElement;
            Assert.Equal(keys, answer.EnumerateObject().Select(p => p.Name).Take(keys.Length));
            bool fault = answer.GetProperty("fault").GetBoolean();
            Assert.Equal(fault, answer.GetProperty("exception").ValueKind == JsonValueKind.String);
            Assert.Equal(fault, answer.GetProperty("error_code").ValueKind == JsonValueKind.String);
            Assert.Equal(fault, answer.GetProperty("pa").ValueKind == JsonValueKind.Null);
            Assert.Equal(fault, answer.GetProperty("page_size").ValueKind == JsonValueKind.Null);
            Assert.Equal(t == 10 ? "pae" : "long4", answer.GetProperty("mode").GetString());
            foreach (JsonElement update in answer.GetProperty("pte_updates").EnumerateArray())
            {
                Assert.StartsWith("0x", update.GetProperty("pa").GetString(), StringComparison.Ordinal);
                Assert.Equal(8, update.GetProperty("size").GetInt32());
            }
        }

        string Summary(int t) => JsonDocument.Parse(lines[t]).RootElement is var a && a.GetProperty("fault").GetBoolean()
            ? a.GetProperty("exception").GetString() + " " + a.GetProperty("error_code").GetString()
            : a.GetProperty("pa").GetString()!;
        Assert.Equal(
            new[] { "0x123123", "0x124008", "PF 0x7", "PF 0x15", "PF 0x0", "0x126abc", "PF 0x5", "0x323456", "GP 0x0", "0x123000", "GP 0x0" },
            Enumerable.Range(0, templates.Length).Select(Summary).ToArray());
        Assert.Equal(before, TestImage.Sha256(image.Path));
    }
}
