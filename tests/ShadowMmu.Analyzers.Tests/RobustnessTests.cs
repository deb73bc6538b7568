using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ShadowMmu.Benchmarks.AnalyzerCost;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>
    /// The analyzer never throws (no AD0001), broken code included: over every C# file of the repository, as it is and with
    /// annotations sprinkled on (so that every method is a lock region full of unlocked values), and over thousands of
    /// seeded broken variants of those files (truncated, tokens deleted, swapped, duplicated). The analyzer runs here with
    /// its internal safety net off, so that any exception of its own shows.
    /// </summary>
    public class RobustnessTests
    {
        private const int Variants = 2000;
        private readonly ITestOutputHelper _output;

        public RobustnessTests(ITestOutputHelper output) => _output = output;

        private static List<(string Path, string Text)> RepositorySources()
        {
            string root = RepositoryPaths.Root;
            var sources = new List<(string, string)>();
            foreach (string file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal))
            {
                string relative = Path.GetRelativePath(root, file).Replace('\\', '/');
                if (Regex.IsMatch(relative, @"(^|/)(bin|obj|\.git|artifacts|TestResults|BenchmarkDotNet\.Artifacts)/"))
                {
                    continue;
                }

                sources.Add((relative, File.ReadAllText(file)));
            }

            return sources;
        }

        /// <summary>
        /// The file with every method made [RequiresMmuLock] (a private one [RequiresMmuLock(Shared = true)]: its body is
        /// a shared region, where calls of the others are MMU0008), every ulong parameter and field [UnlockedGuestPte],
        /// every int, long, uint, bool or array field [GuardedByMmuLock] (its writes in shared bodies are MMU0009), every
        /// object or Lock field whose name ends in "lock" [MmuLock], and the reader-writer lock's scopes [MmuLock] and
        /// [MmuLock(Shared = true)] when the file does not say so itself: every body becomes a lock region to analyse.
        /// </summary>
        internal static string Annotate(string text)
        {
            const string A = "global::ShadowMmu.Annotations.";
            const string Method = @"(?:static|override|virtual|sealed|async|unsafe|new|readonly)(?:\s+(?:static|override|virtual|sealed|async|unsafe|new|readonly))*";
            text = Regex.Replace(text, @"(?m)^(\s*)(private(?:\s+" + Method + @")?\s+[\w<>\[\],.?]+\s+\w+(?:<[^>]*>)?\([^;{}=]*\)\s*(?:where[^{]*)?$)", "$1[" + A + "RequiresMmuLock(Shared = true)]\n$1$2");
            text = Regex.Replace(text, @"(?m)^(\s*)((?:public|internal|protected)(?:\s+" + Method + @")?\s+[\w<>\[\],.?]+\s+\w+(?:<[^>]*>)?\([^;{}=]*\)\s*(?:where[^{]*)?$)", "$1[" + A + "RequiresMmuLock]\n$1$2");
            text = Regex.Replace(text, @"(?m)^(\s*)((?:public|private|internal)(?:\s+(?:static|readonly|volatile))*\s+(?:int|long|uint|bool|int\[\]|long\[\]|ulong\[\])\s+\w+\s*[;=])", "$1[" + A + "GuardedByMmuLock] $2");
            text = Regex.Replace(text, @"(?m)(?<!MmuLock[^\n]*\]\s*)^(\s*)((?:public|internal)\s+readonly\s+ref\s+struct\s+SharedScope\b)", "$1[" + A + "MmuLock(Shared = true)]\n$1$2");
            text = Regex.Replace(text, @"(?m)(?<!MmuLock[^\n]*\]\s*)^(\s*)((?:public|internal)\s+readonly\s+ref\s+struct\s+ExclusiveScope\b)", "$1[" + A + "MmuLock]\n$1$2");
            text = Regex.Replace(text, @"\bulong (\w+)(?=[,)])", "[" + A + "UnlockedGuestPte] ulong $1");
            text = Regex.Replace(text, @"(?m)^(\s*)((?:public|private|internal)(?:\s+readonly)?\s+(?:ulong|LevelValues|ulong\[\])\s+\w+;)", "$1[" + A + "UnlockedGuestPte] $2");
            text = Regex.Replace(text, @"(?m)^(\s*)((?:public|private|internal)(?:\s+readonly)?\s+(?:object|Lock|System\.Threading\.Lock)\s+\w*[Ll]ock\b)", "$1[" + A + "MmuLock] $2");
            return text;
        }

        private static SyntaxTree Parse(string text, string path) => CSharpSyntaxTree.ParseText(text, AnalyzerHost.ParseOptions, path);

        [Fact]
        public void RepositoryCSharp_AsItIsAndAnnotated_NoAnalyzerException()
        {
            var clock = Stopwatch.StartNew();
            List<(string Path, string Text)> sources = RepositorySources();
            Assert.True(sources.Count > 20, "the repository's C# files were not found");
            int lines = sources.Sum(s => s.Text.Count(c => c == '\n'));

            var plain = AnalyzerHost.Run(AnalyzerHost.Compile("Repository", sources.Select(s => Parse(s.Text, s.Path))));
            Assert.True(plain.Exceptions.Count == 0, string.Join("\n\n", plain.Exceptions));

            var annotated = AnalyzerHost.Run(AnalyzerHost.Compile("Annotated", sources.Select(s => Parse(Annotate(s.Text), s.Path))));
            Assert.True(annotated.Exceptions.Count == 0, string.Join("\n\n", annotated.Exceptions));

            // The annotations reach the rules of the lock's two sides: the private bodies are shared regions.
            Assert.Contains(annotated.Diagnostics, d => d.Id == DiagnosticIds.ExclusiveUnderShared);
            Assert.Contains(annotated.Diagnostics, d => d.Id == DiagnosticIds.GuardedWriteUnderShared);
            foreach (Diagnostic diagnostic in plain.Diagnostics)
            {
                _output.WriteLine("as is: " + diagnostic);
            }

            _output.WriteLine($"{sources.Count} files, {lines} lines; as is: {plain.Diagnostics.Length} diagnostics; annotated: {annotated.Diagnostics.Length} diagnostics ({annotated.Diagnostics.Count(d => d.Id == DiagnosticIds.ExclusiveUnderShared)} MMU0008, {annotated.Diagnostics.Count(d => d.Id == DiagnosticIds.GuardedWriteUnderShared)} MMU0009); {clock.Elapsed.TotalSeconds:F1} s");
        }

        [Fact]
        public void SeededBrokenVariants_NoAnalyzerException()
        {
            var clock = Stopwatch.StartNew();

            // The corpus: the repository's files (annotated, so that every method has something for the rules), the rule
            // tests' model, and generated methods of each shape the cost benchmark measures.
            var corpus = RepositorySources()
                .Select(s => Annotate(s.Text))
                .Where(t => t.Length < 15_000)
                .ToList();
            corpus.Add(Prelude.Wrap(KvmLoopSource));
            corpus.Add(Prelude.Wrap(SharedSideSource));

            // Generated code's shapes: KVM's loop over levels, goto retry loops, async lambdas, branch chains.
            foreach (CostShape shape in Enum.GetValues<CostShape>().Where(s => s != CostShape.Project))
            {
                corpus.Add(CostShapes.Generate(shape, 300, withAttributes: false));
            }

            var random = new Random(20261125);
            var jobs = new List<(int Seed, string Text)>();
            for (int i = 0; i < Variants; i++)
            {
                jobs.Add((random.Next(), corpus[random.Next(corpus.Count)]));
            }

            var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
            int reported = 0;
            Parallel.ForEach(jobs, new ParallelOptions { MaxDegreeOfParallelism = 2 }, job =>
            {
                string variant = Mutate(job.Text, new Random(job.Seed));
                var result = AnalyzerHost.Run(AnalyzerHost.Compile("Variant", new[] { Parse(variant, "Variant.cs") }));
                System.Threading.Interlocked.Add(ref reported, result.Diagnostics.Length);
                foreach (Exception exception in result.Exceptions)
                {
                    failures.Enqueue("seed " + job.Seed + ": " + exception);
                }
            });

            _output.WriteLine($"{Variants} variants of {corpus.Count} files, {reported} diagnostics, {failures.Count} exceptions, {clock.Elapsed.TotalSeconds:F1} s");
            Assert.True(failures.IsEmpty, string.Join("\n\n", failures.Take(5)));
        }

        /// <summary>
        /// Generated code nests deeper than people write: a 20,000-term sum and 2,000 nested conditionals under the lock,
        /// analysed on a thread with a 1 MB stack (as a build's worker thread has). A recursive walk of such a tree
        /// overflowed that stack, which no safety net catches: the compiler process died.
        /// </summary>
        [Fact]
        public void LongSumsAndConditionals_OnASmallStack_AreFollowed()
        {
            string sum = string.Join(" + ", Enumerable.Range(0, 20_000).Select(i => $"ptes[{i % 5}]"));
            string conditionals = string.Concat(Enumerable.Range(0, 2_000).Select(i => $"ptes[{i % 5}] == {i} ? {i} : ")) + "0UL";
            var diagnostics = AnalyzeOnASmallStack($"Guest.Consume({sum});\n            Guest.Consume({conditionals});");

            // One report per value per statement, whatever the term count.
            Assert.Equal(10, diagnostics.Count(d => d.Id == DiagnosticIds.UncheckedGuestPte));
            Assert.DoesNotContain(diagnostics, d => d.Id == DiagnosticIds.NotChecked);
        }

        /// <summary>
        /// Calls nested 2,000 deep (the compiler takes them; 3,000 it refuses) need more stack than 1 MB gives the
        /// analysis: the function is reported not checked (MMU0006), where it was a stack overflow.
        /// </summary>
        [Fact]
        public void CallsNestedDeeperThanTheStack_AreReportedNotChecked_NotACrash()
        {
            string call = string.Concat(Enumerable.Repeat("Guest.Frame(", 2_000)) + "ptes[0]" + new string(')', 2_000);
            var diagnostics = AnalyzeOnASmallStack($"Guest.Consume({call});");

            // Either outcome is honest; a silent pass is not (and a crash ends the test run).
            Diagnostic reported = Assert.Single(diagnostics);
            Assert.True(
                reported.Id == DiagnosticIds.UncheckedGuestPte || (reported.Id == DiagnosticIds.NotChecked && reported.GetMessage().Contains("nest deeper", StringComparison.Ordinal)),
                reported.ToString());
        }

        /// <summary>The analyzer's diagnostics for <paramref name="statements"/> under the lock, run on a thread with a 1 MB stack.</summary>
        private static ImmutableArray<Diagnostic> AnalyzeOnASmallStack(string statements)
        {
            string source = Prelude.Wrap($@"
class Deep
{{
    void Use(Vm vm, [UnlockedGuestPte] ulong[] ptes)
    {{
        lock (vm.MmuLock)
        {{
            {statements}
        }}
    }}
}}");
            CSharpCompilation compilation = AnalyzerHost.Compile("Deep", new[] { Parse(source, "Deep.cs") });
            Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
            var diagnostics = ImmutableArray<Diagnostic>.Empty;
            var exceptions = new List<Exception>();
            var thread = new System.Threading.Thread(() => (diagnostics, exceptions) = AnalyzerHost.Run(compilation), 1024 * 1024);
            thread.Start();
            thread.Join();
            Assert.True(exceptions.Count == 0, string.Join("\n\n", exceptions));
            return diagnostics;
        }

        /// <summary>One seeded corruption: a truncation, or one to three tokens deleted, swapped or duplicated.</summary>
        internal static string Mutate(string text, Random random)
        {
            if (random.Next(4) == 0)
            {
                return text.Substring(0, random.Next(text.Length + 1));
            }

            SyntaxToken[] tokens = Parse(text, "x.cs").GetRoot().DescendantTokens().Where(t => t.Span.Length > 0).ToArray();
            if (tokens.Length < 2)
            {
                return text;
            }

            var edits = new List<(int Start, int Length, string Replacement)>();
            int count = 1 + random.Next(3);
            for (int e = 0; e < count; e++)
            {
                int i = random.Next(tokens.Length - 1);
                SyntaxToken a = tokens[i], b = tokens[i + 1];
                switch (random.Next(3))
                {
                    case 0:
                        edits.Add((a.SpanStart, a.Span.Length, string.Empty));
                        break;
                    case 1:
                        edits.Add((a.SpanStart, b.Span.End - a.SpanStart, b.Text + text.Substring(a.Span.End, b.SpanStart - a.Span.End) + a.Text));
                        break;
                    default:
                        edits.Add((a.SpanStart, 0, a.Text + " "));
                        break;
                }
            }

            var builder = new StringBuilder(text);
            int end = int.MaxValue;
            foreach (var edit in edits.OrderByDescending(e => e.Start))
            {
                if (edit.Start + edit.Length > end)
                {
                    continue;
                }

                builder.Remove(edit.Start, edit.Length).Insert(edit.Start, edit.Replacement);
                end = edit.Start;
            }

            return builder.ToString();
        }

        /// <summary>The shared side's shapes: regions of both sides, their calls, guarded writes plain and atomic.</summary>
        private const string SharedSideSource = @"
class SharedFetcher
{
    [RequiresMmuLock(Shared = true)]
    bool Install(RwVm vm, [UnlockedGuestPte] ulong pte, ulong gpa, int i)
    {
        if (!Guest.Unchanged(gpa, pte)) return false;
        vm.InstallLeaf(pte);
        Interlocked.Exchange(ref vm.Sptes[i], pte);
        vm.Sptes[i] |= 1;
        vm.Zap();
        return true;
    }

    public bool Fault(RwVm vm, ref Walk walk, int slot, int top)
    {
        using (vm.MmuLock.EnterShared(slot))
        {
            if (!Guest.Unchanged(walk.PteGpa[top - 1], walk.Ptes[top - 1])) return false;
            for (int level = top; level > walk.Level; level--)
            {
                vm.InstallLeaf(walk.Ptes[level - 1]);
                (vm.Generation, vm.Stats.Faults) = (level, 1);
                vm.Link(walk.Ptes[level - 1]);
            }
        }

        using var exclusive = vm.MmuLock.Enter();
        vm.Zap();
        vm.Generation++;
        var shared = vm.MmuLock.EnterShared(slot);
        try { vm.Roots[top] = 0; } finally { shared.Dispose(); }
        return true;
    }
}";

        private const string KvmLoopSource = @"
class Fetcher
{
    public bool Fetch(Vm vm, ref Walk walk, int top)
    {
        ulong copy = walk.Ptes[0];
        Walk other = walk;
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[top - 1], walk.Ptes[top - 1])) return false;
            for (int level = top; level > walk.Level; level--)
            {
                vm.Link(walk.Ptes[level - 1]);
                bool same = Guest.Unchanged(walk.PteGpa[level - 2], other.Ptes[level - 2]);
                if (!same) continue;
                if (Guest.Changed(0, copy)) return false;
            }

            using (vm.FastLock.EnterScope()) { vm.SetLeaf(copy, 7); }
            Monitor.Enter(vm.MmuLock);
            try { vm.Zap(); } finally { Monitor.Exit(vm.MmuLock); }
            return true;
        }
    }
}";
    }
}
