using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.FlowAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow;
using ShadowMmu.Analyzers.Dataflow.Reporting;

namespace ShadowMmu.Analyzers
{
    /// <summary>
    /// Every rule over one member: the scan of its function bodies (lock regions, MMU0002, MMU0003, MMU0004, MMU0008,
    /// MMU0009), then the MMU0001 dataflow over the control-flow graph of each function that has a lock region (the
    /// member, its local functions and lambdas).
    /// </summary>
    internal static class MemberAnalysis
    {
        /// <summary>
        /// Analyses the member whose body is <paramref name="root"/>; <paramref name="graph"/> gives its control-flow graph;
        /// <paramref name="budget"/>, when given, is every function's work budget (tests only).
        /// </summary>
        public static void Run(IOperation root, IMethodSymbol? symbol, KnownSymbols known, Func<ControlFlowGraph> graph, Action<Diagnostic> report, CancellationToken cancellation, long? budget = null)
        {
            var scanner = new RegionScanner(known, report);
            scanner.ScanFunction(root, symbol);
            scanner.ReportCallsWithoutLock(known.Compilation);
            SharedSideRules.Report(scanner.Functions, known, report);

            if (!scanner.Functions[0].HasRegionInside || TryGetGraph(graph) is not ControlFlowGraph cfg)
            {
                return;
            }

            var nested = new Dictionary<IMethodSymbol, FunctionInfo>(SymbolEqualityComparer.Default);
            foreach (FunctionInfo fn in scanner.Functions)
            {
                if (fn.Symbol != null && fn != scanner.Functions[0])
                {
                    nested[fn.Symbol] = fn;
                }
            }

            AnalyzeGraph(cfg, scanner.Functions[0], nested, known, report, cancellation, budget, Array.Empty<CapturedValue>());
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
            ControlFlowGraph cfg,
            FunctionInfo fn,
            Dictionary<IMethodSymbol, FunctionInfo> nested,
            KnownSymbols known,
            Action<Diagnostic> report,
            CancellationToken cancellation,
            long? budget,
            IReadOnlyList<CapturedValue> captured)
        {
            // A function without a lock region is analysed too when one nested in it has one: for what it captures. A
            // nested function with no region in it or below it has nothing to check, and its graph is not built.
            var capturedByNested = new Dictionary<IMethodSymbol, List<CapturedValue>>(SymbolEqualityComparer.Default);
            if (fn.HasRegionInside)
            {
                if (RunDataflow(cfg, fn, known, nested, captured, cancellation, budget, report) is not DataflowResult result)
                {
                    return;
                }

                foreach (Finding finding in result.Findings)
                {
                    report(ToDiagnostic(finding, fn));
                }

                foreach (CapturedValue value in result.Captured)
                {
                    if (!capturedByNested.TryGetValue(value.Function, out List<CapturedValue>? list))
                    {
                        capturedByNested[value.Function] = list = new List<CapturedValue>();
                    }

                    list.Add(value);
                }
            }

            if (nested.Count == 0)
            {
                return;
            }

            foreach (IMethodSymbol local in cfg.LocalFunctions)
            {
                if (nested.TryGetValue(local, out FunctionInfo? inner) && inner.HasRegionInside
                    && TryGetGraph(() => cfg.GetLocalFunctionControlFlowGraph(local, cancellation)) is ControlFlowGraph localGraph)
                {
                    AnalyzeGraph(localGraph, inner, nested, known, report, cancellation, budget, CapturedBy(local));
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

            IReadOnlyList<CapturedValue> CapturedBy(IMethodSymbol function) =>
                capturedByNested.TryGetValue(function, out List<CapturedValue>? values) ? values : Array.Empty<CapturedValue>();

            void VisitLambdas(IOperation operation)
            {
                foreach (IOperation descendant in OperationTree.DescendantsAndSelf(operation))
                {
                    if (descendant is IFlowAnonymousFunctionOperation lambda && nested.TryGetValue(lambda.Symbol, out FunctionInfo? inner) && inner.HasRegionInside
                        && TryGetGraph(() => cfg.GetAnonymousFunctionControlFlowGraph(lambda, cancellation)) is ControlFlowGraph lambdaGraph)
                    {
                        AnalyzeGraph(lambdaGraph, inner, nested, known, report, cancellation, budget, CapturedBy(lambda.Symbol));
                    }
                }
            }
        }

        /// <summary>
        /// The dataflow of <paramref name="fn"/>, with MMU0006 when it could not be completed; null when its expressions nest
        /// too deep for this thread's stack (generated code can): then the MMU0006 at its name stands for its nested
        /// functions too.
        /// </summary>
        private static DataflowResult? RunDataflow(
            ControlFlowGraph cfg,
            FunctionInfo fn,
            KnownSymbols known,
            Dictionary<IMethodSymbol, FunctionInfo> nested,
            IReadOnlyList<CapturedValue> captured,
            CancellationToken cancellation,
            long? budget,
            Action<Diagnostic> report)
        {
            DataflowResult result;
            try
            {
                result = GuestPteAnalysis.Run(cfg, fn, known, nested, captured, cancellation, budget);
            }
            catch (InsufficientExecutionStackException)
            {
                ReportNotChecked(fn, TooDeep, report);
                return null;
            }

            if (!result.Completed)
            {
                ReportNotChecked(fn, string.Format(CultureInfo.InvariantCulture, OverBudget, result.Operations), report);
            }

            return result;
        }

        /// <summary>MMU0006's reason for a function whose analysis passed its work budget.</summary>
        internal const string OverBudget = "following its values took more work than the analysis allows for a function of its size ({0:N0} operations)";

        /// <summary>MMU0006's reason for a function whose expressions nest deeper than the analysis can follow.</summary>
        internal const string TooDeep = "its expressions nest deeper than the analysis can follow on the compiler's stack";

        /// <summary>
        /// MMU0006 at the function's name: its lock regions, or what the functions nested in it capture from it, were not
        /// checked.
        /// </summary>
        private static void ReportNotChecked(FunctionInfo fn, string reason, Action<Diagnostic> report) =>
            report(Diagnostic.Create(DiagnosticDescriptors.NotChecked, NameLocation(fn), FunctionName(fn), reason));

        /// <summary>Where a function's name is: a method's or local function's identifier, a lambda's arrow, else its body.</summary>
        private static Location NameLocation(FunctionInfo fn)
        {
            SyntaxNode body = fn.Body.Syntax;
            SyntaxNode? declaration = body is Microsoft.CodeAnalysis.CSharp.Syntax.MemberDeclarationSyntax or Microsoft.CodeAnalysis.CSharp.Syntax.AccessorDeclarationSyntax ? body : body.Parent;
            return declaration switch
            {
                Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax method => method.Identifier.GetLocation(),
                Microsoft.CodeAnalysis.CSharp.Syntax.LocalFunctionStatementSyntax local => local.Identifier.GetLocation(),
                Microsoft.CodeAnalysis.CSharp.Syntax.LambdaExpressionSyntax lambda => lambda.ArrowToken.GetLocation(),
                Microsoft.CodeAnalysis.CSharp.Syntax.AccessorDeclarationSyntax accessor => accessor.Keyword.GetLocation(),
                _ => fn.Symbol?.Locations.Length > 0 && fn.Symbol.Locations[0].IsInSource ? fn.Symbol.Locations[0] : fn.Body.Syntax.GetLocation(),
            };
        }

        private static string FunctionName(FunctionInfo fn) => fn.Symbol switch
        {
            { MethodKind: MethodKind.AnonymousFunction } => "lambda",
            IMethodSymbol method => method.Name,
            _ => "function",
        };

        private static Diagnostic ToDiagnostic(Finding finding, FunctionInfo fn)
        {
            string operandText = string.Join(" ", finding.Operand.Syntax.ToString().Split(new[] { ' ', '\t', '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries));
            string value = operandText == finding.Value.Display ? "'" + operandText + "'" : "'" + operandText + "' (= '" + finding.Value.Display + "')";
            if (finding.NotFollowed)
            {
                return Diagnostic.Create(DiagnosticDescriptors.ValueNotFollowed, finding.Operand.Syntax.GetLocation(), value, finding.Detail);
            }

            LockRegion region = fn.Regions[finding.Region];
            if (finding.Value is Dataflow.Values.HostFrameValue)
            {
                return Diagnostic.Create(DiagnosticDescriptors.UncheckedHostFrame, finding.Operand.Syntax.GetLocation(), value, region.LockName, finding.Detail);
            }

            ImmutableDictionary<string, string?> properties = ImmutableDictionary<string, string?>.Empty;
            if (finding.FixValue != null && region.BlockStart >= 0)
            {
                properties = properties
                    .Add(DiagnosticProperties.Value, finding.FixValue)
                    .Add(DiagnosticProperties.BlockStart, region.BlockStart.ToString(CultureInfo.InvariantCulture))
                    .Add(DiagnosticProperties.InsertIndex, region.InsertIndex.ToString(CultureInfo.InvariantCulture));
            }

            return Diagnostic.Create(DiagnosticDescriptors.UncheckedGuestPte, finding.Operand.Syntax.GetLocation(), properties, value, region.LockName, finding.Detail);
        }
    }
}
