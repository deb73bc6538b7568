using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ShadowMmu.Analyzers
{
    /// <summary>Which parameters of a constructor each member of the new object takes its value from.</summary>
    internal sealed class ConstructorSummary
    {
        public ConstructorSummary(ImmutableArray<(ISymbol Member, ImmutableArray<int> Parameters, bool Plain)> members) => Members = members;

        /// <summary>Each member set by the constructor, the parameters its value comes from, and whether it is one of them as it is.</summary>
        public ImmutableArray<(ISymbol Member, ImmutableArray<int> Parameters, bool Plain)> Members { get; }
    }

    /// <summary>
    /// Reads, from syntax alone (an analyzer may not ask for another member's semantic model), what a constructor does with
    /// its parameters, when it only assigns them (or expressions of them) to members: a positional record's primary
    /// constructor, or <c>S(ulong pte, ulong gpa) { Pte = pte; Gpa = gpa; }</c>. Any other constructor is not followed.
    /// One per compilation (in <see cref="KnownSymbols"/>): a static cache of symbols would keep every compilation an IDE
    /// or the compiler server ever analysed alive.
    /// </summary>
    internal sealed class ConstructorSummaries
    {
        private readonly ConcurrentDictionary<IMethodSymbol, ConstructorSummary?> _cache = new(SymbolEqualityComparer.Default);

        public ConstructorSummary? Of(IMethodSymbol constructor) => _cache.GetOrAdd(constructor.OriginalDefinition, Summarize);

        private static ConstructorSummary? Summarize(IMethodSymbol constructor)
        {
            if (constructor.DeclaringSyntaxReferences.Length != 1)
            {
                return null;
            }

            INamedTypeSymbol type = constructor.ContainingType;
            SyntaxNode declaration = constructor.DeclaringSyntaxReferences[0].GetSyntax();
            var members = ImmutableArray.CreateBuilder<(ISymbol, ImmutableArray<int>, bool)>();
            if (declaration is RecordDeclarationSyntax)
            {
                // A positional record: each parameter is the property of its name.
                foreach (IParameterSymbol parameter in constructor.Parameters)
                {
                    if (MemberNamed(type, parameter.Name) is not ISymbol member)
                    {
                        return null;
                    }

                    members.Add((member, ImmutableArray.Create(parameter.Ordinal), true));
                }

                return new ConstructorSummary(members.ToImmutable());
            }

            if (declaration is not ConstructorDeclarationSyntax { Initializer: null } body)
            {
                return null;
            }

            IEnumerable<ExpressionSyntax> assignments = body.ExpressionBody != null
                ? new[] { body.ExpressionBody.Expression }
                : Statements(body.Body);
            foreach (ExpressionSyntax expression in assignments)
            {
                if (expression is not AssignmentExpressionSyntax { RawKind: (int)SyntaxKind.SimpleAssignmentExpression } assignment
                    || TargetName(assignment.Left) is not string name || MemberNamed(type, name) is not ISymbol member)
                {
                    return null;
                }

                var parameters = ImmutableArray.CreateBuilder<int>();
                foreach (IdentifierNameSyntax identifier in assignment.Right.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>())
                {
                    foreach (IParameterSymbol parameter in constructor.Parameters)
                    {
                        if (parameter.Name == identifier.Identifier.ValueText && !parameters.Contains(parameter.Ordinal))
                        {
                            parameters.Add(parameter.Ordinal);
                        }
                    }
                }

                members.Add((member, parameters.ToImmutable(), assignment.Right is IdentifierNameSyntax && parameters.Count == 1));
            }

            return new ConstructorSummary(members.ToImmutable());
        }

        private static IEnumerable<ExpressionSyntax> Statements(BlockSyntax? block)
        {
            if (block == null)
            {
                yield break;
            }

            foreach (StatementSyntax statement in block.Statements)
            {
                // Anything but an expression statement (a condition, a call's result thrown away is still an expression) is not followed.
                yield return statement is ExpressionStatementSyntax expression ? expression.Expression : SyntaxFactory.IdentifierName("_");
            }
        }

        private static string? TargetName(ExpressionSyntax left) => left switch
        {
            IdentifierNameSyntax identifier => identifier.Identifier.ValueText,
            MemberAccessExpressionSyntax { Expression: ThisExpressionSyntax, Name: IdentifierNameSyntax name } => name.Identifier.ValueText,
            _ => null,
        };

        private static ISymbol? MemberNamed(INamedTypeSymbol type, string name)
        {
            foreach (ISymbol member in type.GetMembers(name))
            {
                if (member is IFieldSymbol { IsStatic: false } or IPropertySymbol { IsStatic: false, IsIndexer: false })
                {
                    return member;
                }
            }

            return null;
        }
    }
}
