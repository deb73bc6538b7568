using System;
using System.Runtime.CompilerServices;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>
    /// The analyzer keeps nothing of a compilation once the compilation is done with: an IDE or the compiler server runs
    /// one analyzer instance over many compilations, and a static cache of symbols would keep every one of them alive.
    /// </summary>
    public class CompilationLifetimeTests
    {
        [Fact]
        public void AnAnalysedCompilation_IsCollectedAfterwards()
        {
            var analyzer = new MmuLockAnalyzer();
            WeakReference source = AnalyseAndForget(analyzer);
            for (int i = 0; i < 5 && source.IsAlive; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            Assert.False(source.IsAlive, "the analyzer kept the compilation alive");
            GC.KeepAlive(analyzer);
        }

        /// <summary>
        /// Analyses code that uses every cache the analysis has (structs built by constructors it summarises); the weak
        /// reference is to the compilation's syntax tree.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static WeakReference AnalyseAndForget(MmuLockAnalyzer analyzer)
        {
            string source = Prelude.Wrap(@"
readonly record struct Entry(ulong Pte, ulong Gpa);

struct Pair
{
    public ulong Pte;
    public ulong Gpa;
    public Pair(ulong pte, ulong gpa) { Pte = pte; Gpa = gpa; }
}

class C
{
    void M(Vm vm, ref Walk walk)
    {
        var entry = new Entry(walk.Ptes[1], walk.PteGpa[1]);
        var pair = new Pair(walk.Ptes[2], walk.PteGpa[2]);
        lock (vm.MmuLock)
        {
            vm.Link(entry.Pte);
            vm.Link(pair.Pte);
        }
    }
}");
            CSharpCompilation compilation = AnalyzerHost.Compile("Lifetime", new[] { CSharpSyntaxTree.ParseText(source, AnalyzerHost.ParseOptions) });
            var (diagnostics, exceptions) = AnalyzerHost.Run(compilation, analyzer: analyzer);
            Assert.Empty(exceptions);
            Assert.Equal(2, diagnostics.Length);

            // The analyzer driver analyses a copy of the compilation that shares its syntax trees: the tree stands for both.
            return new WeakReference(compilation.SyntaxTrees[0]);
        }
    }
}
