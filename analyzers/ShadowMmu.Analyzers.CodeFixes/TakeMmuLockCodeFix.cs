using System.Collections.Immutable;
using System.Composition;
using System.Linq;
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
    /// <summary>
    /// MMU0002: wraps the statement that makes the call in <c>lock (&lt;the [MmuLock] member&gt;) { ... }</c>, or in
    /// <c>using (&lt;member&gt;.Enter()) { ... }</c> when the lock is taken through a scope (a spin lock). A local
    /// declaration is split so that the variable stays visible: <c>T x; lock (l) { x = Call(); }</c>.
    /// </summary>
    /// <remarks>
    /// The lock is the one the analyzer names in the message: the receiver's [MmuLock] member (<c>vm.MmuLock</c> for
    /// <c>vm.Zap()</c>), the containing type's, a member's (<c>Vm.MmuLock</c>) or a parameter's.
    /// </remarks>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(TakeMmuLockCodeFix))]
    [Shared]
    public sealed class TakeMmuLockCodeFix : CodeFixProvider
    {
        /// <summary>The equivalence key of the fix (fix-all applies it to every MMU0002 in scope).</summary>
        public const string EquivalenceKey = "ShadowMmu.MMU0002.WrapInLock";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.LockNotHeld);

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
                if (!diagnostic.Properties.TryGetValue(DiagnosticProperties.Lock, out string? lockText) || lockText == null)
                {
                    continue;
                }

                diagnostic.Properties.TryGetValue(DiagnosticProperties.Enter, out string? enter);

                SyntaxNode node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
                StatementSyntax? statement = StatementOf(node);
                if (statement == null)
                {
                    continue;
                }

                context.RegisterCodeFix(
                    CodeAction.Create(
                        "Take '" + lockText + "' around the call",
                        ct => WrapAsync(context.Document, statement, lockText, enter, ct),
                        EquivalenceKey),
                    diagnostic);
            }
        }

        /// <summary>The statement to wrap: the one that contains the call, with no lambda or local function in between.</summary>
        private static StatementSyntax? StatementOf(SyntaxNode node)
        {
            foreach (SyntaxNode ancestor in node.AncestorsAndSelf())
            {
                switch (ancestor)
                {
                    case AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax:
                        return null;
                    case LocalDeclarationStatementSyntax declaration:
                        return declaration.Declaration.Variables.Count == 1 && declaration.Declaration.Variables[0].Initializer != null
                            && declaration.UsingKeyword.IsKind(SyntaxKind.None) && !declaration.IsConst && declaration.Parent is BlockSyntax
                            ? declaration
                            : null;
                    case ExpressionStatementSyntax or ReturnStatementSyntax or ThrowStatementSyntax or IfStatementSyntax:
                        return (StatementSyntax)ancestor;
                    case StatementSyntax:
                        return null;
                }
            }

            return null;
        }

        private static async Task<Document> WrapAsync(Document document, StatementSyntax statement, string lockText, string? enter, CancellationToken cancellationToken)
        {
            SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            if (root == null)
            {
                return document;
            }

            ExpressionSyntax lockExpression = SyntaxFactory.ParseExpression(lockText);
            SyntaxNode newRoot;
            if (statement is LocalDeclarationStatementSyntax declaration)
            {
                SemanticModel? model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
                VariableDeclaratorSyntax variable = declaration.Declaration.Variables[0];
                TypeSyntax type = declaration.Declaration.Type;
                if (type.IsVar && model?.GetTypeInfo(variable.Initializer!.Value, cancellationToken).Type is ITypeSymbol inferred)
                {
                    type = SyntaxFactory.ParseTypeName(inferred.ToMinimalDisplayString(model, declaration.SpanStart));
                }

                LocalDeclarationStatementSyntax declared = SyntaxFactory.LocalDeclarationStatement(
                        SyntaxFactory.VariableDeclaration(type, SyntaxFactory.SingletonSeparatedList(SyntaxFactory.VariableDeclarator(variable.Identifier.WithoutTrivia()))))
                    .WithLeadingTrivia(declaration.GetLeadingTrivia())
                    .WithAdditionalAnnotations(Formatter.Annotation);
                StatementSyntax assignment = SyntaxFactory.ExpressionStatement(
                    SyntaxFactory.AssignmentExpression(SyntaxKind.SimpleAssignmentExpression, SyntaxFactory.IdentifierName(variable.Identifier.WithoutTrivia()), variable.Initializer!.Value.WithoutTrivia()));
                StatementSyntax locked = Lock(lockExpression, enter, assignment).WithTrailingTrivia(declaration.GetTrailingTrivia());
                newRoot = root.ReplaceNode(declaration, new SyntaxNode[] { declared, locked });
            }
            else
            {
                StatementSyntax locked = Lock(lockExpression, enter, statement.WithoutTrivia())
                    .WithLeadingTrivia(statement.GetLeadingTrivia())
                    .WithTrailingTrivia(statement.GetTrailingTrivia());
                newRoot = root.ReplaceNode(statement, locked);
            }

            return await Formatter.FormatAsync(document.WithSyntaxRoot(newRoot), Formatter.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        /// <summary><c>lock (l) { body }</c>, or <c>using (l.Enter()) { body }</c> for a lock taken through its scope.</summary>
        internal static StatementSyntax Lock(ExpressionSyntax lockExpression, string? enter, StatementSyntax body) =>
            (enter == null
                ? SyntaxFactory.LockStatement(lockExpression, SyntaxFactory.Block(body))
                : (StatementSyntax)SyntaxFactory.UsingStatement(null, ScopeEntry(lockExpression, enter), SyntaxFactory.Block(body)))
            .WithAdditionalAnnotations(Formatter.Annotation);

        /// <summary><c>l.Enter()</c>.</summary>
        internal static InvocationExpressionSyntax ScopeEntry(ExpressionSyntax lockExpression, string enter) =>
            SyntaxFactory.InvocationExpression(SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, lockExpression.WithoutTrivia(), SyntaxFactory.IdentifierName(enter)));
    }
}
