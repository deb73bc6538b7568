using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Globalization;
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
    /// MMU0001: inserts, at the start of the lock region, the re-validation of the value with its retry path:
    /// <c>if (!Revalidate(..., value)) { &lt;retry&gt; }</c>.
    /// </summary>
    /// <remarks>
    /// <para>The re-validating method is one in scope (by simple name, or a static method of a source type in scope) with a
    /// [RevalidatesGuestPte] parameter the value converts to and a <see cref="bool"/> result. Its other arguments are
    /// filled from the value's neighbours (for <c>walk.Ptes[i]</c> and a parameter <c>pteGpa</c>, <c>walk.PteGpa[i]</c>)
    /// or from a local, parameter or member of the parameter's name; optional ones are left out. A method whose
    /// arguments cannot all be filled is not offered.</para>
    /// <para>The retry statement, first that applies: <c>goto Retry;</c> when a label <c>Retry</c> precedes the region;
    /// <c>return E.Retry;</c> when the function returns an enum with a <c>Retry</c> member; <c>return false;</c> for
    /// <see cref="bool"/>; <c>continue;</c> when the region is inside a loop; <c>return;</c> for <c>void</c>;
    /// otherwise <c>return default;</c>.</para>
    /// </remarks>
    [ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RevalidateGuestPteCodeFix))]
    [Shared]
    public sealed class RevalidateGuestPteCodeFix : CodeFixProvider
    {
        /// <summary>The equivalence key of the fix (fix-all applies it to every MMU0001 in scope).</summary>
        public const string EquivalenceKey = "ShadowMmu.MMU0001.Revalidate";

        /// <inheritdoc/>
        public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.UncheckedGuestPte);

        /// <inheritdoc/>
        public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

        /// <inheritdoc/>
        public override async Task RegisterCodeFixesAsync(CodeFixContext context)
        {
            SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
            SemanticModel? model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
            if (root == null || model == null)
            {
                return;
            }

            foreach (Diagnostic diagnostic in context.Diagnostics)
            {
                if (!diagnostic.Properties.TryGetValue(DiagnosticProperties.Value, out string? value) || value == null
                    || !TryGetInt(diagnostic, DiagnosticProperties.BlockStart, out int blockStart)
                    || !TryGetInt(diagnostic, DiagnosticProperties.InsertIndex, out int insertIndex)
                    || root.FindToken(blockStart).Parent is not BlockSyntax block || block.OpenBraceToken.SpanStart != blockStart)
                {
                    continue;
                }

                StatementSyntax? check = Plan(model, block, value, context.CancellationToken);
                if (check == null)
                {
                    continue;
                }

                context.RegisterCodeFix(
                    CodeAction.Create(
                        "Re-validate '" + value + "' at the start of the lock region",
                        ct => InsertAsync(context.Document, blockStart, insertIndex, check, ct),
                        EquivalenceKey),
                    diagnostic);
            }
        }

        private static bool TryGetInt(Diagnostic diagnostic, string key, out int value)
        {
            value = 0;
            return diagnostic.Properties.TryGetValue(key, out string? text) && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
        }

        private static async Task<Document> InsertAsync(Document document, int blockStart, int insertIndex, StatementSyntax check, CancellationToken cancellationToken)
        {
            SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
            if (root == null || root.FindToken(blockStart).Parent is not BlockSyntax block)
            {
                return document;
            }

            int index = System.Math.Min(System.Math.Max(insertIndex, 0), block.Statements.Count);

            // A blank line after the check when a statement follows, as the house style has after a block.
            string newLine = block.DescendantTrivia().FirstOrDefault(t => t.IsKind(SyntaxKind.EndOfLineTrivia)).ToString();
            newLine = newLine.Length == 0 ? "\n" : newLine;
            StatementSyntax inserted = check.WithAdditionalAnnotations(Formatter.Annotation);
            if (index < block.Statements.Count)
            {
                inserted = inserted.WithTrailingTrivia(SyntaxFactory.EndOfLine(newLine), SyntaxFactory.EndOfLine(newLine));
            }

            BlockSyntax updated = block.WithStatements(block.Statements.Insert(index, inserted));
            Document changed = document.WithSyntaxRoot(root.ReplaceNode(block, updated));
            return await Formatter.FormatAsync(changed, Formatter.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        /// <summary>The <c>if (!Revalidate(...)) { retry }</c> statement for <paramref name="value"/>, or null when no method fits.</summary>
        internal static StatementSyntax? Plan(SemanticModel model, BlockSyntax block, string value, CancellationToken cancellationToken)
        {
            int position = block.OpenBraceToken.Span.End;
            ExpressionSyntax valueExpression = SyntaxFactory.ParseExpression(value);
            ITypeSymbol? valueType = model.GetSpeculativeTypeInfo(position, valueExpression, SpeculativeBindingOption.BindAsExpression).Type;
            if (valueType == null || valueType.TypeKind == TypeKind.Error)
            {
                return null;
            }

            IMethodSymbol? function = EnclosingFunction(model, block, cancellationToken);
            bool staticContext = function?.IsStatic ?? false;
            foreach ((IMethodSymbol method, string prefix) in Candidates(model, position))
            {
                if (!method.IsStatic && (staticContext || prefix.Length > 0))
                {
                    continue;
                }

                string? arguments = Arguments(model, position, method, valueExpression, valueType, out bool unchangedWhen);
                if (arguments == null)
                {
                    continue;
                }

                string call = prefix + method.Name + "(" + arguments + ")";
                ExpressionSyntax condition = SyntaxFactory.ParseExpression(unchangedWhen ? "!" + call : call);
                StatementSyntax retry = SyntaxFactory.ParseStatement(Retry(model, block, function));
                return SyntaxFactory.IfStatement(condition, SyntaxFactory.Block(retry));
            }

            return null;
        }

        /// <summary>
        /// Re-validating methods in scope: by simple name, then static methods of the source types in scope; those that
        /// answer "unchanged" before those that answer "changed", then by name.
        /// </summary>
        private static IEnumerable<(IMethodSymbol Method, string Prefix)> Candidates(SemanticModel model, int position)
        {
            var found = new List<(IMethodSymbol Method, string Prefix, int Order)>();
            ImmutableArray<ISymbol> inScope = model.LookupSymbols(position);
            ISymbol within = model.GetEnclosingSymbol(position)?.ContainingType ?? (ISymbol)model.Compilation.Assembly;
            foreach (ISymbol symbol in inScope)
            {
                if (symbol is IMethodSymbol method && IsRevalidating(method))
                {
                    found.Add((method, string.Empty, 0));
                }
            }

            foreach (ISymbol symbol in inScope)
            {
                if (symbol is not INamedTypeSymbol type || type.DeclaringSyntaxReferences.IsEmpty)
                {
                    continue;
                }

                foreach (ISymbol member in type.GetMembers())
                {
                    if (member is IMethodSymbol { IsStatic: true } method && IsRevalidating(method) && model.Compilation.IsSymbolAccessibleWithin(method, within))
                    {
                        found.Add((method, type.ToMinimalDisplayString(model, position) + ".", 1));
                    }
                }
            }

            return found
                .OrderBy(c => IsInverted(c.Method) ? 1 : 0)
                .ThenBy(c => c.Order)
                .ThenBy(c => c.Prefix + c.Method.Name, System.StringComparer.Ordinal)
                .Select(c => (c.Method, c.Prefix));
        }

        private static bool IsInverted(IMethodSymbol method) => method.Parameters.Any(p =>
            RevalidatesAttribute(p) is AttributeData a && a.NamedArguments.Any(n => n.Key == "UnchangedWhen" && n.Value.Value is false));

        private static bool IsRevalidating(IMethodSymbol method) =>
            method.ReturnType.SpecialType == SpecialType.System_Boolean && method.Parameters.Any(p => RevalidatesAttribute(p) != null);

        private static AttributeData? RevalidatesAttribute(IParameterSymbol parameter) =>
            parameter.GetAttributes().FirstOrDefault(a => a.AttributeClass is { Name: "RevalidatesGuestPteAttribute" } c && c.ContainingNamespace?.ToDisplayString() == "ShadowMmu.Annotations");

        /// <summary>The argument list for <paramref name="method"/>, or null when one cannot be filled.</summary>
        private static string? Arguments(SemanticModel model, int position, IMethodSymbol method, ExpressionSyntax value, ITypeSymbol valueType, out bool unchangedWhen)
        {
            unchangedWhen = true;
            var arguments = new List<string>();
            bool named = false;
            bool revalidated = false;
            foreach (IParameterSymbol parameter in method.Parameters)
            {
                string? text = null;
                if (!revalidated && RevalidatesAttribute(parameter) is AttributeData attribute)
                {
                    if (!model.Compilation.ClassifyConversion(valueType, parameter.Type).IsImplicit)
                    {
                        return null;
                    }

                    foreach (var argument in attribute.NamedArguments)
                    {
                        if (argument.Key == "UnchangedWhen" && argument.Value.Value is false)
                        {
                            unchangedWhen = false;
                        }
                    }

                    revalidated = true;
                    text = value.ToString();
                }
                else
                {
                    text = Fill(model, position, parameter, value);
                }

                if (text == null)
                {
                    if (!parameter.IsOptional && !parameter.IsParams)
                    {
                        return null;
                    }

                    named = true;
                    continue;
                }

                arguments.Add(named ? parameter.Name + ": " + text : text);
            }

            return revalidated ? string.Join(", ", arguments) : null;
        }

        /// <summary>
        /// An argument for <paramref name="parameter"/>: the value's neighbour of that name (<c>walk.PteGpa[i]</c> next to
        /// <c>walk.Ptes[i]</c>), or a local, parameter or member of that name.
        /// </summary>
        private static string? Fill(SemanticModel model, int position, IParameterSymbol parameter, ExpressionSyntax value)
        {
            string name = parameter.Name.TrimStart('_');
            if (value is ElementAccessExpressionSyntax { Expression: MemberAccessExpressionSyntax member } element)
            {
                ITypeSymbol? receiverType = model.GetSpeculativeTypeInfo(position, member.Expression, SpeculativeBindingOption.BindAsExpression).Type;
                ImmutableArray<ISymbol> members = receiverType?.GetMembers() ?? ImmutableArray<ISymbol>.Empty;
                ISymbol? sibling = members.FirstOrDefault(m => m is IFieldSymbol or IPropertySymbol
                        && string.Equals(m.Name.TrimStart('_'), name, System.StringComparison.OrdinalIgnoreCase))
                    ?? members.FirstOrDefault(m => m is IFieldSymbol or IPropertySymbol && name.Length >= 3
                        && m.Name.EndsWith(name, System.StringComparison.OrdinalIgnoreCase));
                if (sibling != null)
                {
                    string candidate = member.Expression + "." + sibling.Name + element.ArgumentList;
                    if (Fits(model, position, candidate, parameter.Type))
                    {
                        return candidate;
                    }
                }
            }

            foreach (ISymbol symbol in model.LookupSymbols(position, name: parameter.Name))
            {
                if (symbol is ILocalSymbol or IParameterSymbol or IFieldSymbol or IPropertySymbol && Fits(model, position, symbol.Name, parameter.Type))
                {
                    return symbol.Name;
                }
            }

            return null;
        }

        private static bool Fits(SemanticModel model, int position, string expression, ITypeSymbol target)
        {
            ITypeSymbol? type = model.GetSpeculativeTypeInfo(position, SyntaxFactory.ParseExpression(expression), SpeculativeBindingOption.BindAsExpression).Type;
            return type != null && type.TypeKind != TypeKind.Error && model.Compilation.ClassifyConversion(type, target).IsImplicit;
        }

        private static IMethodSymbol? EnclosingFunction(SemanticModel model, SyntaxNode node, CancellationToken cancellationToken)
        {
            foreach (SyntaxNode ancestor in node.Ancestors())
            {
                switch (ancestor)
                {
                    case AnonymousFunctionExpressionSyntax lambda:
                        return model.GetSymbolInfo(lambda, cancellationToken).Symbol as IMethodSymbol;
                    case LocalFunctionStatementSyntax or BaseMethodDeclarationSyntax or AccessorDeclarationSyntax:
                        return model.GetDeclaredSymbol(ancestor, cancellationToken) as IMethodSymbol;
                }
            }

            return null;
        }

        /// <summary>The statement that gives up and retries (see the class remarks for the order).</summary>
        private static string Retry(SemanticModel model, BlockSyntax block, IMethodSymbol? function)
        {
            SyntaxNode? body = block.Ancestors().FirstOrDefault(a => a is AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax or BaseMethodDeclarationSyntax or AccessorDeclarationSyntax);
            if (body != null)
            {
                foreach (LabeledStatementSyntax label in body.DescendantNodes().OfType<LabeledStatementSyntax>())
                {
                    if (string.Equals(label.Identifier.ValueText, "Retry", System.StringComparison.OrdinalIgnoreCase) && label.SpanStart < block.SpanStart
                        && label.Ancestors().FirstOrDefault(a => a is AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax or BaseMethodDeclarationSyntax or AccessorDeclarationSyntax) == body)
                    {
                        return "goto " + label.Identifier.ValueText + ";";
                    }
                }
            }

            ITypeSymbol? returnType = function?.ReturnType;
            if (returnType is INamedTypeSymbol { TypeKind: TypeKind.Enum } enumType
                && enumType.GetMembers().FirstOrDefault(m => m is IFieldSymbol && string.Equals(m.Name, "Retry", System.StringComparison.OrdinalIgnoreCase)) is ISymbol retryMember)
            {
                return "return " + enumType.ToMinimalDisplayString(model, block.SpanStart) + "." + retryMember.Name + ";";
            }

            if (returnType?.SpecialType == SpecialType.System_Boolean)
            {
                return "return false;";
            }

            foreach (SyntaxNode ancestor in block.Ancestors())
            {
                if (ancestor == body)
                {
                    break;
                }

                if (ancestor is ForStatementSyntax or CommonForEachStatementSyntax or WhileStatementSyntax or DoStatementSyntax)
                {
                    return "continue;";
                }
            }

            if (function == null || function.ReturnsVoid)
            {
                return "return;";
            }

            return returnType is { IsReferenceType: true, NullableAnnotation: NullableAnnotation.NotAnnotated } ? "return default!;" : "return default;";
        }
    }
}
