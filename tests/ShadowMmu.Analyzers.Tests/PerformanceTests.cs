using System;
using System.Collections.Immutable;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>
    /// What the analyzer costs on a big project: a generated 50,000-line project (a third of its members lock regions
    /// with annotated walks, loops over levels and re-validations; the rest ordinary code) compiled without and with it.
    /// Reports both times and checks what the analyzer found; speed itself is measured by the benchmarks, not asserted
    /// here (a shared 2-core machine makes any timing assertion flaky).
    /// </summary>
    public class PerformanceTests
    {
        private const int TargetLines = 50_000;
        private readonly ITestOutputHelper _output;

        public PerformanceTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public async System.Threading.Tasks.Task FiftyThousandLines_AreAnalysedCompletely_AndTheCostIsReported()
        {
            (string[] files, int lines) = Generate();
            SyntaxTree[] trees = files.Select((text, i) => CSharpSyntaxTree.ParseText(text, AnalyzerHost.ParseOptions, "File" + i + ".cs")).ToArray();

            // Compile: bind, check and emit, as a build does (after one warm-up run of both, on a smaller compilation).
            Warm(trees.Take(3).ToArray());
            var clock = Stopwatch.StartNew();
            CSharpCompilation compilation = AnalyzerHost.Compile("Big", trees).WithOptions(AnalyzerHost.Compile("x", Array.Empty<SyntaxTree>()).Options.WithConcurrentBuild(true));
            ImmutableArray<Diagnostic> errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray();
            Assert.True(errors.IsEmpty, string.Join("\n", errors.Take(5)));
            using (var pe = new MemoryStream())
            {
                Assert.True(compilation.Emit(pe).Success);
            }

            TimeSpan compile = clock.Elapsed;

            // Analyse: the analyzer on a fresh compilation of the same trees; its own execution time is what it adds to a build.
            clock.Restart();
            CSharpCompilation fresh = AnalyzerHost.Compile("Big2", trees).WithOptions(compilation.Options);
            var analyzer = new MmuLockAnalyzer();
            var options = new CompilationWithAnalyzersOptions(
                new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty), onAnalyzerException: null, concurrentAnalysis: true, logAnalyzerExecutionTime: true);
            CompilationWithAnalyzers withAnalyzer = fresh.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(analyzer), options);
            ImmutableArray<Diagnostic> diagnostics = await withAnalyzer.GetAnalyzerDiagnosticsAsync(CancellationToken.None);
            TimeSpan wall = clock.Elapsed;
            TimeSpan own = (await withAnalyzer.GetAnalyzerTelemetryInfoAsync(analyzer, CancellationToken.None)).ExecutionTime;

            _output.WriteLine($"{lines} lines in {files.Length} files");
            _output.WriteLine($"compile (bind + emit): {compile.TotalMilliseconds:F0} ms");
            _output.WriteLine($"analyzer execution time: {own.TotalMilliseconds:F0} ms ({100.0 * own.TotalMilliseconds / compile.TotalMilliseconds:F1} % of compile)");
            _output.WriteLine($"analysis wall time (binding a fresh compilation included): {wall.TotalMilliseconds:F0} ms");
            _output.WriteLine($"{diagnostics.Length} diagnostics ({diagnostics.Count(d => d.Id == "MMU0001")} MMU0001, the planted ones)");

            Assert.True(lines >= TargetLines);
            Assert.Equal(files.Length / 10, diagnostics.Count(d => d.Id == "MMU0001"));
            Assert.DoesNotContain(diagnostics, d => d.Id == "AD0001");
        }

        private static void Warm(SyntaxTree[] trees)
        {
            CSharpCompilation small = AnalyzerHost.Compile("Warm", trees);
            small.GetDiagnostics();
            AnalyzerHost.Run(small, rethrow: false);
        }

        /// <summary>The synthetic project: one file per class, about 100 lines each; every tenth has the seed's bug planted.</summary>
        private static (string[] Files, int Lines) Generate()
        {
            var files = new System.Collections.Generic.List<string> { Shared };
            int lines = Shared.Count(c => c == '\n');
            for (int k = 0; lines < TargetLines; k++)
            {
                string text = Class(k, planted: k % 10 == 9 ? true : false);
                files.Add(text);
                lines += text.Count(c => c == '\n');
            }

            // Plant bugs in exactly one file in ten (the shared file counts as one).
            return (files.ToArray(), lines);
        }

        private const string Shared = @"using System.Runtime.CompilerServices;
using ShadowMmu.Annotations;

namespace Synthetic
{
    [InlineArray(5)]
    public struct LevelValues
    {
        private ulong _level1;
    }

    public struct Walk
    {
        [UnlockedGuestPte] public LevelValues Ptes;
        public LevelValues PteGpa;
        public int Level;
        public int MaxLevel;
    }
}
";

        private static string Class(int k, bool planted)
        {
            var b = new StringBuilder();
            b.Append(@"using System;
using System.Collections.Generic;
using System.Threading;
using ShadowMmu.Annotations;

namespace Synthetic
{
    public sealed class Mmu" + k + @"
    {
        [MmuLock] private readonly object _lock = new object();
        private readonly ulong[] _table = new ulong[512];
        private readonly List<int> _log = new List<int>();

        [GuestPteRead]
        public ulong Read(ulong gpa) => Volatile.Read(ref _table[(int)(gpa / 8) & 511]);

        [RequiresMmuLock]
        public bool Unchanged(ulong pteGpa, [RevalidatesGuestPte] ulong pte) => Read(pteGpa) == pte;

        [RequiresMmuLock]
        public void Link(ulong pte) => _table[(int)(pte >> 12) & 511] = pte;

        public bool Fetch(ref Walk walk)
        {
            int top = walk.MaxLevel;
            lock (_lock)
            {
" + (planted ? string.Empty : @"                if (!Unchanged(walk.PteGpa[top - 1], walk.Ptes[top - 1]))
                {
                    return false;
                }
") + @"
                for (int level = top; level > walk.Level; level--)
                {
                    Link(walk.Ptes[level - 1]);
                    if (!Unchanged(walk.PteGpa[level - 2], walk.Ptes[level - 2]))
                    {
                        return false;
                    }
                }

                return true;
            }
        }

        public bool FetchUnrolled(ref Walk walk)
        {
            ulong leaf = walk.Ptes[0];
            lock (_lock)
            {
                if (!Unchanged(walk.PteGpa[3], walk.Ptes[3])) return false;
                Link(walk.Ptes[3]);
                if (!Unchanged(walk.PteGpa[2], walk.Ptes[2])) return false;
                Link(walk.Ptes[2]);
                if (!Unchanged(walk.PteGpa[1], walk.Ptes[1])) return false;
                Link(walk.Ptes[1]);
                if (!Unchanged(walk.PteGpa[0], leaf)) return false;
                Link(leaf);
                return true;
            }
        }
");
            for (int m = 0; m < 6; m++)
            {
                b.Append(@"
        public int Compute" + m + @"(int x, string name)
        {
            int sum = 0;
            for (int i = 0; i < x; i++)
            {
                sum += i * " + (m + k % 7) + @";
                if (sum > 1000)
                {
                    sum -= name.Length;
                    _log.Add(sum);
                }
            }

            return sum + (name.StartsWith(""a"", StringComparison.Ordinal) ? 1 : 0);
        }
");
            }

            b.Append(@"
        public override string ToString() => $""Mmu" + k + @" with {_log.Count} entries"";
    }
}
");
            return b.ToString();
        }
    }
}
