using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow;
using ShadowMmu.Analyzers.Dataflow.Reporting;

namespace ShadowMmu.Analyzers
{
    /// <summary>
    /// The mmu_lock rules: MMU0001 (a guest PTE read without the lock used under it before it is re-validated), MMU0002
    /// (a method that requires the lock called without it), MMU0003 (the lock not released on every path) and MMU0004
    /// (<c>lock</c> on a lock that is taken through its scope).
    /// </summary>
    /// <remarks>
    /// One operation-block action per member: a scan of the IOperation tree finds each function body's lock regions,
    /// MMU0004, MMU0003 and MMU0002; MMU0001 then runs a dataflow analysis over the control-flow graph of each function that has a
    /// region. Generated code is skipped unless <c>shadowmmu_analyze_generated_code = true</c> is set for it (in
    /// .editorconfig or a global analyzer config file).
    /// </remarks>
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    public sealed class MmuLockAnalyzer : DiagnosticAnalyzer
    {
        /// <summary>The analyzer-config key that opts generated code in.</summary>
        public const string AnalyzeGeneratedCodeOption = "shadowmmu_analyze_generated_code";

        /// <summary>
        /// Internal, for this repository's tests only: rethrow what the analysis itself throws (normally a function whose
        /// analysis fails is skipped, so that no build ever sees AD0001 from these rules).
        /// </summary>
        internal const string RethrowOption = "shadowmmu_internal_rethrow";

        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
            DiagnosticDescriptors.UncheckedGuestPte,
            DiagnosticDescriptors.LockNotHeld,
            DiagnosticDescriptors.LockNotReleased,
            DiagnosticDescriptors.MonitorOnScopedLock);

        /// <inheritdoc/>
        public override void Initialize(AnalysisContext context)
        {
            context.EnableConcurrentExecution();

            // Generated code is analysed only when the option asks for it, which only the callback can read; with the
            // option off the callback returns at once.
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.Analyze | GeneratedCodeAnalysisFlags.ReportDiagnostics);
            context.RegisterCompilationStartAction(start =>
            {
                KnownSymbols? known = KnownSymbols.TryCreate(start.Compilation);
                if (known == null)
                {
                    return;
                }

                bool rethrow = start.Options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue(RethrowOption, out string? value)
                    && string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);
                start.RegisterOperationBlockAction(block => AnalyzeBlock(block, known, rethrow));
            });
        }

        private static void AnalyzeBlock(OperationBlockAnalysisContext context, KnownSymbols known, bool rethrow)
        {
            if (context.OperationBlocks.IsEmpty || (context.IsGeneratedCode && !AnalyzeGenerated(context)))
            {
                return;
            }

            // The roots of the blocks (a method body holds its block), each with a block of the context to ask for its graph.
            var roots = new List<(IOperation Root, IOperation Block)>();
            foreach (IOperation block in context.OperationBlocks)
            {
                IOperation root = block;
                while (root.Parent != null)
                {
                    root = root.Parent;
                }

                if (root is IMethodBodyBaseOperation or IBlockOperation && !roots.Exists(r => r.Root == root))
                {
                    roots.Add((root, block));
                }
            }

            foreach ((IOperation root, IOperation block) in roots)
            {
                try
                {
                    AnalyzeRoot(context, root, block, known);
                }
                catch (Exception exception) when (!rethrow && exception is not OperationCanceledException)
                {
                    // Never fail a build because one member could not be analysed: skip it.
                }
            }
        }

        private static bool AnalyzeGenerated(OperationBlockAnalysisContext context)
        {
            AnalyzerConfigOptionsProvider provider = context.Options.AnalyzerConfigOptionsProvider;
            SyntaxTree tree = context.OperationBlocks[0].Syntax.SyntaxTree;
            string? value;
            return (provider.GetOptions(tree).TryGetValue(AnalyzeGeneratedCodeOption, out value) || provider.GlobalOptions.TryGetValue(AnalyzeGeneratedCodeOption, out value))
                && string.Equals(value?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
        }

        private static void AnalyzeRoot(OperationBlockAnalysisContext context, IOperation root, IOperation block, KnownSymbols known)
        {
            var diagnostics = new List<Diagnostic>();
            var scanner = new RegionScanner(known, diagnostics.Add);
            scanner.ScanFunction(root, context.OwningSymbol as IMethodSymbol);
            scanner.ReportCallsWithoutLock(known.Compilation);

            bool needsDataflow = false;
            foreach (FunctionInfo fn in scanner.Functions)
            {
                needsDataflow |= fn.Regions.Count > 0;
            }

            if (needsDataflow)
            {
                ControlFlowGraph? cfg = TryGetGraph(() => context.GetControlFlowGraph(block));
                if (cfg == null)
                {
                    goto report;
                }

                var bySymbol = new Dictionary<IMethodSymbol, FunctionInfo>(SymbolEqualityComparer.Default);
                foreach (FunctionInfo fn in scanner.Functions)
                {
                    if (fn.Symbol != null && fn != scanner.Functions[0])
                    {
                        bySymbol[fn.Symbol] = fn;
                    }
                }

                AnalyzeGraph(context, cfg, scanner.Functions[0], bySymbol, known, diagnostics);
            }

        report:
            foreach (Diagnostic diagnostic in diagnostics)
            {
                context.ReportDiagnostic(diagnostic);
            }
        }

        /// <summary>
        /// A control-flow graph, or null when Roslyn cannot build one (it throws on some broken code): the member's
        /// MMU0001 analysis is then skipped, whatever the rethrow option says, since the failure is not this analyzer's.
        /// </summary>
        private static ControlFlowGraph? TryGetGraph(Func<ControlFlowGraph> create)
        {
            try
            {
                return create();
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                return null;
            }
        }

        private static void AnalyzeGraph(
            OperationBlockAnalysisContext context,
            ControlFlowGraph cfg,
            FunctionInfo fn,
            Dictionary<IMethodSymbol, FunctionInfo> nested,
            KnownSymbols known,
            List<Diagnostic> diagnostics)
        {
            if (fn.Regions.Count > 0)
            {
                foreach (Finding finding in GuestPteAnalysis.Run(cfg, fn, known, context.CancellationToken))
                {
                    diagnostics.Add(ToDiagnostic(finding, fn));
                }
            }

            if (nested.Count == 0)
            {
                return;
            }

            foreach (IMethodSymbol local in cfg.LocalFunctions)
            {
                if (nested.TryGetValue(local, out FunctionInfo? inner))
                {
                    if (TryGetGraph(() => cfg.GetLocalFunctionControlFlowGraph(local, context.CancellationToken)) is ControlFlowGraph localGraph)
                    {
                        AnalyzeGraph(context, localGraph, inner, nested, known, diagnostics);
                    }
                }
            }

            foreach (BasicBlock block in cfg.Blocks)
            {
                foreach (IOperation operation in block.Operations)
                {
                    VisitLambdas(operation);
                }

                if (block.BranchValue != null)
                {
                    VisitLambdas(block.BranchValue);
                }
            }

            void VisitLambdas(IOperation operation)
            {
                foreach (IOperation descendant in operation.DescendantsAndSelf())
                {
                    if (descendant is IFlowAnonymousFunctionOperation lambda && nested.TryGetValue(lambda.Symbol, out FunctionInfo? inner))
                    {
                        if (TryGetGraph(() => cfg.GetAnonymousFunctionControlFlowGraph(lambda, context.CancellationToken)) is ControlFlowGraph lambdaGraph)
                        {
                            AnalyzeGraph(context, lambdaGraph, inner, nested, known, diagnostics);
                        }
                    }
                }
            }
        }

        private static Diagnostic ToDiagnostic(Finding finding, FunctionInfo fn)
        {
            LockRegion region = fn.Regions[finding.Region];
            string operandText = string.Join(" ", finding.Operand.Syntax.ToString().Split(new[] { ' ', '\t', '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries));
            string value = operandText == finding.Value.Display ? "'" + operandText + "'" : "'" + operandText + "' (= '" + finding.Value.Display + "')";
            ImmutableDictionary<string, string?> properties = ImmutableDictionary<string, string?>.Empty;
            if (finding.FixValue != null && region.BlockStart >= 0)
            {
                properties = properties
                    .Add(DiagnosticProperties.Value, finding.FixValue)
                    .Add(DiagnosticProperties.BlockStart, region.BlockStart.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    .Add(DiagnosticProperties.InsertIndex, region.InsertIndex.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            return Diagnostic.Create(DiagnosticDescriptors.UncheckedGuestPte, finding.Operand.Syntax.GetLocation(), properties, value, region.LockName, finding.Detail);
        }
    }
}
