using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace ShadowMmu.Analyzers
{
    /// <summary>
    /// The mmu_lock rules: MMU0001 (a guest PTE read without the lock used under it before it is re-validated), MMU0002
    /// (a method that requires the lock called without it), MMU0003 (the lock not released on every path), MMU0004
    /// (<c>lock</c> on a lock that is taken through its scope), MMU0005 and MMU0006 (what MMU0001 could not follow or
    /// check), MMU0007 (MMU0001 for host frames), MMU0008 and MMU0009 (the exclusive side's calls and writes made under
    /// the shared side).
    /// </summary>
    /// <remarks>
    /// One operation-block action per member: a scan of the IOperation tree finds each function body's lock regions and
    /// their sides, MMU0004, MMU0003, MMU0002, MMU0008 and MMU0009; MMU0001 then runs a dataflow analysis over the control-flow graph of each function that has a
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

        /// <summary>Internal, for this repository's tests only: the work budget of every function, in place of the one its size gives.</summary>
        internal const string WorkBudgetOption = "shadowmmu_internal_work_budget";

        /// <inheritdoc/>
        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
            DiagnosticDescriptors.UncheckedGuestPte,
            DiagnosticDescriptors.LockNotHeld,
            DiagnosticDescriptors.LockNotReleased,
            DiagnosticDescriptors.MonitorOnScopedLock,
            DiagnosticDescriptors.ValueNotFollowed,
            DiagnosticDescriptors.NotChecked,
            DiagnosticDescriptors.UncheckedHostFrame,
            DiagnosticDescriptors.ExclusiveUnderShared,
            DiagnosticDescriptors.GuardedWriteUnderShared);

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

                AnalyzerConfigOptions global = start.Options.AnalyzerConfigOptionsProvider.GlobalOptions;
                bool rethrow = global.TryGetValue(RethrowOption, out string? value) && string.Equals(value, "true", StringComparison.OrdinalIgnoreCase);
                long? budget = global.TryGetValue(WorkBudgetOption, out string? limit)
                    && long.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long parsed) ? parsed : null;
                start.RegisterOperationBlockAction(block => AnalyzeBlock(block, known, rethrow, budget));
            });
        }

        private static void AnalyzeBlock(OperationBlockAnalysisContext context, KnownSymbols known, bool rethrow, long? budget)
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
                    AnalyzeRoot(context, root, block, known, budget);
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

        private static void AnalyzeRoot(OperationBlockAnalysisContext context, IOperation root, IOperation block, KnownSymbols known, long? budget)
        {
            var diagnostics = new List<Diagnostic>();
            MemberAnalysis.Run(root, context.OwningSymbol as IMethodSymbol, known, () => context.GetControlFlowGraph(block), diagnostics.Add, context.CancellationToken, budget);
            foreach (Diagnostic diagnostic in diagnostics)
            {
                context.ReportDiagnostic(diagnostic);
            }
        }
    }
}
