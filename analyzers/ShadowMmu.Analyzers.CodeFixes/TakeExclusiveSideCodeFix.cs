using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ShadowMmu.Analyzers.CodeFixes
{
    /// <summary>
    /// MMU0008: takes the exclusive side where the shared side was taken, on the same lock: <c>x.EnterShared(slot)</c>
    /// becomes <c>x.Enter()</c> (the lock's parameterless method returning its exclusive scope, which the analyzer names).
    /// An explicitly typed scope variable becomes <c>var</c>, since the scope's type changes.
    /// </summary>
    /// <remarks>
    /// Offered only when the call is under that one shared hold: inside another (a [RequiresMmuLock(Shared = true)] body,
    /// an enclosing shared scope) taking the exclusive side would wait for the thread's own shared hold.
    /// </remarks>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(TakeExclusiveSideCodeFix))]
    [Shared]
    public sealed class TakeExclusiveSideCodeFix : CodeFixProvider
    {
        /// <summary>The equivalence key of the fix (fix-all applies it to every MMU0008 in scope).</summary>
        public const string EquivalenceKey = "ShadowMmu.MMU0008.TakeExclusiveSide";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.ExclusiveUnderShared);

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
                if (!diagnostic.Properties.TryGetValue(DiagnosticProperties.Enter, out string? enter) || enter == null || diagnostic.AdditionalLocations.Count != 1
                    || root.FindNode(diagnostic.AdditionalLocations[0].SourceSpan, getInnermostNodeForTie: true) is not InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax access } shared)
                {
                    continue;
                }

                context.RegisterCodeFix(
                    CodeAction.Create(
                        "Take the exclusive side: '" + access.Expression + "." + enter + "()'",
                        ct => ReplaceAsync(context.Document, shared, access.Expression, enter, ct),
                        EquivalenceKey),
                    diagnostic);
            }
        }

        private static async Task<Document> ReplaceAsync(Document document, InvocationExpressionSyntax shared, ExpressionSyntax lockExpression, string enter, CancellationToken cancellationToken)
        {
            SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            if (root == null)
            {
                return document;
            }

            InvocationExpressionSyntax exclusive = TakeMmuLockCodeFix.ScopeEntry(lockExpression, enter).WithTriviaFrom(shared);

            // using (SharedScope s = x.EnterShared(slot)): the variable's type is the shared scope's.
            if (shared.Parent is EqualsValueClauseSyntax { Parent: VariableDeclaratorSyntax { Parent: VariableDeclarationSyntax { Variables.Count: 1 } declaration } }
                && !declaration.Type.IsVar)
            {
                VariableDeclarationSyntax retyped = declaration.ReplaceNode(shared, exclusive)
                    .WithType(SyntaxFactory.IdentifierName("var").WithTriviaFrom(declaration.Type));
                return document.WithSyntaxRoot(root.ReplaceNode(declaration, retyped));
            }

            return document.WithSyntaxRoot(root.ReplaceNode(shared, exclusive));
        }
    }
}
