using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Xunit;

namespace ShadowMmu.Tests.Generator;

/// <summary>A malformed spec is a compiler error at the spec's own line and column, never a generator exception.</summary>
public class SpecDiagnosticsTests
{
    public static IEnumerable<object[]> Malformed()
    {
        string long4 = GeneratorHarness.BuiltInSpec("long4");

        // Each case: a change to long4.paging, the id it must raise, the 1-based line and column of the word it points at.
        yield return Case("unknown statement", long4.Replace("entry-bytes 8", "entry-size 8"), "MMUG010", "entry-size 8", 1);
        yield return Case("unknown flag", long4.Replace("bit accessed 5", "bit visited 5"), "MMUG010", "bit visited 5", 5);
        yield return Case("bad range", long4.Replace("  index 20:12", "  index 12:20"), "MMUG001", "  index 12:20", 9);
        yield return Case("overlapping index bits", long4.Replace("  index 29:21", "  index 29:20"), "MMUG003", "  index 29:20", 3);
        yield return Case("index bits leave a gap", long4.Replace("  index 29:21", "  index 29:22"), "MMUG003", "  index 29:22", 3);
        yield return Case("page too big for its level", long4.Replace("page 2M frame 51:21", "page 4M frame 51:21"), "MMUG004", "  page 4M frame 51:21", 3);
        yield return Case("frame at the wrong bit", long4.Replace("page 2M frame 51:21", "page 2M frame 51:20"), "MMUG004", "  page 2M frame 51:20", 3);
        yield return Case("missing level", RemoveLevel(long4, "level 3 PDPTE", "level 2 PDE"), "MMUG005", "level 2 PDE", 1);
        yield return Case("unknown condition", long4.Replace("when EFER.NXE", "when EFER.NX"), "MMUG006", "bit execute-disable 63 when EFER.NX", 29);
        yield return Case("bit outside the entry", long4.Replace("  reserved 7\n", "  reserved 64\n"), "MMUG007", "  reserved 64", 12);
        yield return Case("statement given twice", long4.Replace("entry-bytes 8", "entry-bytes 8\nentry-bytes 8"), "MMUG008", "entry-bytes 8\nentry-bytes 8", 1, occurrence: 2);
        yield return Case("missing mode", long4.Replace("mode long4\n", ""), "MMUG002", null, 1);
        yield return Case("protection key wider than PKRU's 16 keys", long4.Replace("protection-key 62:59", "protection-key 62:58"), "MMUG011", "protection-key 62:58 when CR4.PKE", 16);

        // EPT specs: their own statements, and the other format's flags are mistakes.
        string ept4 = GeneratorHarness.BuiltInSpec("ept4");
        yield return Case("unknown format", ept4.Replace("format ept", "format arm"), "MMUG010", "format arm", 8);
        yield return Case("x86 root register in an EPT spec", ept4.Replace("root EPTP 51:12", "root CR3 51:12"), "MMUG012", "root CR3 51:12", 6);
        yield return Case("memory type not 3 bits", ept4.Replace("memory-type 5:3", "memory-type 5:2"), "MMUG011", "memory-type 5:2", 13);
        yield return Case("reserved memory type outside the field", ept4.Replace("reserved 2 3 7", "reserved 2 3 9"), "MMUG011", "memory-type 5:3 reserved 2 3 9", 30);
        yield return Case("unknown VMX condition", ept4.Replace("execute-only when VMX.EXECONLY", "execute-only when VMX.EXEC"), "MMUG006", "execute-only when VMX.EXEC", 19);
        yield return Case("missing memory type", ept4.Replace("memory-type 5:3 reserved 2 3 7\n", ""), "MMUG002", null, 1);
        yield return Case("x86 flag in an EPT spec", ept4.Replace("bit ignore-pat 6", "bit execute-disable 63"), "MMUG012", "bit execute-disable 63", 5);
        yield return Case("EPT statement in an x86 spec", long4.Replace("bit page-size 7", "bit page-size 7\nexecute-only"), "MMUG012", "execute-only", 1);

        // Each remaining kind of problem, at the word it is about.
        yield return Case("words missing", long4.Replace("root CR3 51:12", "root CR3"), "MMUG001", "root CR3", 9);
        yield return Case("a word too many", long4.Replace("entry-bytes 8", "entry-bytes 8 9"), "MMUG001", "entry-bytes 8 9", 15);
        yield return Case("not a number", long4.Replace("linear-bits 48", "linear-bits forty"), "MMUG001", "linear-bits forty", 13);
        yield return Case("unknown root register", long4.Replace("root CR3 51:12", "root CR4 51:12"), "MMUG010", "root CR4 51:12", 6);
        yield return Case("entry size", long4.Replace("entry-bytes 8", "entry-bytes 6"), "MMUG011", "entry-bytes 6", 13);
        yield return Case("level number", long4.Replace("level 4 PML4E", "level 6 PML4E"), "MMUG011", "level 6 PML4E", 7);
        yield return Case("index before any level", long4.Replace("level 4 PML4E", "index 47:39\nlevel 4 PML4E"), "MMUG013", "index 47:39", 1);
        yield return Case("table in level 1", long4.Replace("  page 4K frame 51:12", "  page 4K frame 51:12\n  table 51:12"), "MMUG013",
            "  table 51:12", 3, occurrence: 4);
        yield return Case("register level in an EPT spec", ept4.Replace("level 4 PML4E\n", "level 4 PML4E\n  register\n"), "MMUG012",
            "level 4 PML4E\n  register", 3);
        yield return Case("canonical EPT addresses", ept4.Replace("linear-bits 48", "linear-bits 48 canonical"), "MMUG012",
            "linear-bits 48 canonical", 16);
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_spec_is_reported_at_its_line(string what, string text, string id, int line, int column)
    {
        var (result, _, _) = GeneratorHarness.Run(("/specs/broken.paging", text));

        Assert.Null(result.Results.Single().Exception);
        Diagnostic diagnostic = Assert.Single(result.Diagnostics, d => d.Id == id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        FileLinePositionSpan span = diagnostic.Location.GetLineSpan();
        Assert.Equal("/specs/broken.paging", span.Path);
        if (line > 0)
        {
            Assert.True((line, column) == (span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1),
                $"{what}: expected {line},{column}, got {span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}: {diagnostic}");
        }

        Assert.Empty(result.GeneratedTrees.Where(t => t.FilePath.EndsWith("Walker.g.cs", StringComparison.Ordinal)));
    }

    [Theory]
    // A change to a built-in spec and the whole message it gets.
    [InlineData("long4", "root CR3 51:12", "root CR3", "Expected more words in 'root CR3', found the end of the line")]
    [InlineData("long4", "  index 20:12", "  index 12:20", "Expected a bit range written high:low, found '12:20'")]
    [InlineData("long4", "mode long4", "mode 4long", "Expected a mode name (a letter, then letters, digits, '-' or '_'), found '4long'")]
    [InlineData("long4", "bit accessed 5", "bit visited 5", "Unknown flag 'visited'; known: present, writable, user, accessed, dirty, page-size, "
        + "execute-disable, read, execute, user-execute, ignore-pat")]
    [InlineData("long4", "entry-bytes 8", "entry-bytes 6", "entry-bytes must be 4 or 8, not 6")]
    [InlineData("long4", "protection-key 62:59", "protection-key 62:58", "A protection key must be at most 4 bits wide (PKRU has 16 keys), not 5 bits wide")]
    [InlineData("long4", "  index 29:21", "  index 29:20", "Index bits 29:20 of level 2 overlap the bits below them (up to bit 20)")]
    [InlineData("long4", "linear-bits 48", "linear-bits 49", "Index bits 47:39 of level 4 end at bit 47, but linear-bits is 49")]
    [InlineData("long4", "page 2M frame 51:21", "page 4M frame 51:21", "A 4M page does not fit level 2: the address bits below its index (20:0) make a page of 2M")]
    [InlineData("long4", "page 2M frame 51:21", "page 2M frame 51:20", "A 2M page does not fit level 2: its frame starts at bit 21, not 20")]
    [InlineData("long4", "  page 4K frame 51:12", "  page 4K frame 51:12\n  table 51:12", "'table' does not belong in level 1: level 1 entries map pages")]
    [InlineData("long4", "bit page-size 7", "bit page-size 7\nmemory-type 5:3", "'memory-type' belongs to ept specs; this spec's format is x86")]
    [InlineData("ept4", "bit ignore-pat 6", "bit present 0", "'bit present' belongs to x86 specs; this spec's format is ept")]
    [InlineData("long4", "level 2 PDE\n  index 29:21\n  table 51:12\n", "level 2 PDE\n  index 29:21\n", "The spec has no 'table' statement in level 2")]
    public void Each_message_says_what_is_wrong_with_its_arguments(string mode, string original, string replacement, string message)
    {
        string spec = GeneratorHarness.BuiltInSpec(mode);
        Assert.Contains(original, spec, StringComparison.Ordinal);
        var (result, _, _) = GeneratorHarness.Run(("/specs/broken.paging", spec.Replace(original, replacement, StringComparison.Ordinal)));

        Diagnostic diagnostic = Assert.Single(result.Diagnostics, d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture) == message);
        Assert.Equal("https://github.com/shadowmmu/shadowmmu/blob/main/docs/generator/" + diagnostic.Id + ".md", diagnostic.Descriptor.HelpLinkUri);
    }

    [Fact]
    public void Two_specs_for_one_mode_are_reported_at_the_second_mode_line()
    {
        string long4 = GeneratorHarness.BuiltInSpec("long4");
        var (result, _, _) = GeneratorHarness.Run(("/a/long4.paging", long4), ("/b/copy.paging", long4));

        Diagnostic diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("MMUG009", diagnostic.Id);
        Assert.Equal("/b/copy.paging", diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(LineOf(long4, "mode long4"), diagnostic.Location.GetLineSpan().StartLinePosition.Line + 1);
    }

    [Fact]
    public void Thousands_of_broken_specs_never_crash_the_generator_and_valid_mutants_compile()
    {
        // Seeded mutations of every built-in spec: lines deleted, duplicated or swapped, words deleted, numbers changed.
        var random = new Random(20101);
        string[] modes = { "legacy32", "pae", "long4", "long5", "ept4", "ept5" };
        int valid = 0, compiled = 0;
        for (int i = 0; i < 3000; i++)
        {
            string original = GeneratorHarness.BuiltInSpec(modes[i % modes.Length]);
            string mutant = Mutate(original, random);
            var (result, output, generatorDiagnostics) = GeneratorHarness.Run(("/specs/mutant.paging", mutant));

            Assert.Null(result.Results.Single().Exception);
            Assert.DoesNotContain(generatorDiagnostics, d => d.Id is "CS8784" or "CS8785");
            Assert.All(result.Diagnostics, d => Assert.StartsWith("MMUG", d.Id));
            Assert.All(result.Diagnostics, d => Assert.Equal("/specs/mutant.paging", d.Location.GetLineSpan().Path));
            if (!result.Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error))
            {
                valid++;
                // A mutant the parser accepts must give code that compiles; compiling all of them would be slow.
                if (compiled < 90)
                {
                    var errors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
                    Assert.True(errors.Count == 0, "valid mutant does not compile:\n" + mutant + "\n" + string.Join("\n", errors));
                    compiled++;
                }
            }
        }

        Assert.InRange(valid, 1, 2999);
    }

    private static string Mutate(string text, Random random)
    {
        var lines = text.Split('\n').ToList();
        int edits = random.Next(1, 4);
        for (int e = 0; e < edits; e++)
        {
            int at = random.Next(lines.Count);
            switch (random.Next(6))
            {
                case 0:
                    lines.RemoveAt(at);
                    break;
                case 1:
                    lines.Insert(at, lines[random.Next(lines.Count)]);
                    break;
                case 2:
                    int other = random.Next(lines.Count);
                    (lines[at], lines[other]) = (lines[other], lines[at]);
                    break;
                case 3:
                    string[] words = lines[at].Split(' ');
                    if (words.Length > 1)
                    {
                        lines[at] = string.Join(' ', words.Where((_, i) => i != random.Next(words.Length)));
                    }

                    break;
                case 4:
                    lines[at] = new string(lines[at].Select(c => char.IsDigit(c) && random.Next(3) == 0 ? (char)('0' + random.Next(10)) : c).ToArray());
                    break;
                default:
                    lines[at] = lines[at].Length > 0 ? lines[at].Substring(0, random.Next(lines[at].Length)) : "~";
                    break;
            }

            if (lines.Count == 0)
            {
                lines.Add("");
            }
        }

        return string.Join('\n', lines);
    }

    private static object[] Case(string what, string text, string id, string? anchor, int column, int occurrence = 1)
    {
        int line = 0;
        if (anchor != null)
        {
            int index = -1;
            for (int i = 0; i < occurrence; i++)
            {
                index = text.IndexOf(anchor.Split('\n')[^1], index + 1, StringComparison.Ordinal);
            }

            Assert.True(index >= 0, $"{what}: '{anchor}' not found");
            line = text.Substring(0, index).Count(c => c == '\n') + 1;
        }

        return new object[] { what, text, id, line, column };
    }

    private static int LineOf(string text, string anchor) => text.Substring(0, text.IndexOf(anchor, StringComparison.Ordinal)).Count(c => c == '\n') + 1;

    private static string RemoveLevel(string text, string start, string next)
    {
        int from = text.IndexOf(start, StringComparison.Ordinal);
        int to = text.IndexOf(next, StringComparison.Ordinal);
        return text.Remove(from, to - from);
    }
}
