using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;

namespace ShadowMmu.Analyzers.CodeFixes
{
    /// <summary>MMU0004: turns <c>lock (x) { ... }</c> into <c>using (x.Enter()) { ... }</c>, the body unchanged.</summary>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseLockScopeCodeFix))]
    [Shared]
    public sealed class UseLockScopeCodeFix : CodeFixProvider
    {
        /// <summary>The equivalence key of the fix (fix-all applies it to every MMU0004 in scope).</summary>
        public const string EquivalenceKey = "ShadowMmu.MMU0004.UseScope";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.MonitorOnScopedLock);

        /// <inheritdoc/>
        public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        /// <inheritdoc/>
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            if (root == null)
            {
                return;
            }

            foreach (Diagnostic diagnostic in context.Diagnostics)
            {
                if (!diagnostic.Properties.TryGetValue(DiagnosticProperties.Enter, out string? enter) || enter == null
                    || root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true).FirstAncestorOrSelf<LockStatementSyntax>() is not LockStatementSyntax statement)
                {
                    continue;
                }

                context.RegisterCodeFix(
                    CodeAction.Create(
                        "Take '" + statement.Expression + "' with 'using (" + statement.Expression + "." + enter + "())'",
                        ct => ReplaceAsync(context.Document, statement, enter, ct),
                        EquivalenceKey),
                    diagnostic);
            }
        }

        private static async Task<Document> ReplaceAsync(Document document, LockStatementSyntax statement, string enter, CancellationToken cancellationToken)
        {
            SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            if (root == null)
            {
                return document;
            }

            UsingStatementSyntax scoped = SyntaxFactory.UsingStatement(null, TakeMmuLockCodeFix.ScopeEntry(statement.Expression, enter), statement.Statement)
                .WithLeadingTrivia(statement.GetLeadingTrivia())
                .WithTrailingTrivia(statement.GetTrailingTrivia())
                .WithAdditionalAnnotations(Formatter.Annotation);
            return await Formatter.FormatAsync(document.WithSyntaxRoot(root.ReplaceNode(statement, scoped)), Formatter.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }
}
