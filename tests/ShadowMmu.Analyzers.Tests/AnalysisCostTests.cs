using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Benchmarks.AnalyzerCost;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>
    /// The analysis's cost grows linearly with a method's size: the work it does on its state (map entries built, merged,
    /// compared, pruned; counted by <see cref="WorkMeter"/>, deterministic, unlike a timing) at most doubles, give or take
    /// a constant, when the method doubles, for each shape the benchmark measures. The time and memory themselves are
    /// measured by the benchmark (benchmarks/ShadowMmu.Benchmarks/AnalyzerCost).
    /// </summary>
    public class AnalysisCostTests
    {
        /// <summary>What doubling may add beyond twice the work: the fixed costs of one analysis.</summary>
        private const long Slack = 20_000;

        private readonly ITestOutputHelper _output;

        public AnalysisCostTests(ITestOutputHelper output) => _output = output;

        [Theory]
        [InlineData(CostShape.KvmLoop)]
        [InlineData(CostShape.GotoLoop)]
        [InlineData(CostShape.AsyncLambdas)]
        [InlineData(CostShape.Branches)]
        public void DoublingTheMethod_AtMostDoublesTheWork(CostShape shape)
        {
            (long small, int smallOperations) = Work(shape, 2_000);
            (long big, int bigOperations) = Work(shape, 4_000);
            _output.WriteLine($"{shape}: {small} units of work for 2,000 lines ({smallOperations} operations, {(double)small / smallOperations:F1} a piece), {big} for 4,000 ({(double)big / small:F3}x)");
            Assert.True(big <= (2 * small) + Slack, $"{shape}: doubling the method from 2,000 to 4,000 lines took the work from {small} to {big} units, more than twice");
        }

        /// <summary>The analysis's work on one generated method, which must report exactly its planted mistakes.</summary>
        internal static (long Work, int Operations) Work(CostShape shape, int lines)
        {
            SyntaxTree tree = CSharpSyntaxTree.ParseText(CostShapes.Generate(shape, lines, withAttributes: false), AnalyzerHost.ParseOptions);
            CSharpCompilation compilation = AnalyzerHost.Compile("Cost", new[] { tree });
            Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
            SemanticModel model = compilation.GetSemanticModel(tree);
            MethodDeclarationSyntax method = tree.GetRoot().DescendantNodes().OfType<MethodDeclarationSyntax>()
                .Single(m => m.Parent is ClassDeclarationSyntax { Identifier.Text: "Generated" });
            var body = (IMethodBodyOperation)model.GetOperation(method)!;
            KnownSymbols known = KnownSymbols.TryCreate(compilation)!;

            var diagnostics = new List<Diagnostic>();
            long before = WorkMeter.Count;
            MemberAnalysis.Run(body, model.GetDeclaredSymbol(method), known, () => ControlFlowGraph.Create(body), diagnostics.Add, CancellationToken.None);
            long work = WorkMeter.Count - before;

            Assert.Equal(CostShapes.Planted(shape, lines), diagnostics.Count(d => d.Id == DiagnosticIds.UncheckedGuestPte));
            Assert.DoesNotContain(diagnostics, d => d.Id == DiagnosticIds.NotChecked);
            return (work, body.Descendants().Count());
        }
    }
}
