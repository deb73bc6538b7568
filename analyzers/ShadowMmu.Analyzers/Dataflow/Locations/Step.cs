using System;
using Microsoft.CodeAnalysis;
using ShadowMmu.Analyzers.Dataflow.IndexVariables;

namespace ShadowMmu.Analyzers.Dataflow.Locations
{
    /// <summary>One step of an access path: a field or property, or an element with its index.</summary>
    internal readonly struct Step : IEquatable<Step>
    {
        private Step(ISymbol? member, string? name, IndexExpr index, ITypeSymbol? type, bool annotated, bool keepsStorable)
        {
            Member = member;
            Name = name;
            Index = index;
            Type = type;
            Annotated = annotated;
            KeepsStorable = keepsStorable;
        }

        /// <summary>
        /// The field or property, or null for an element: its original definition, and for a tuple element its ItemN
        /// field, so that <c>t.Pte</c> and <c>t.Item1</c> are one step.
        /// </summary>
        public ISymbol? Member { get; }

        /// <summary>The member's name as the code wrote it (<c>Pte</c>, not <c>Item1</c>).</summary>
        public string? Name { get; }

        public IndexExpr Index { get; }

        /// <summary>The type of the path up to and including this step.</summary>
        public ITypeSymbol? Type { get; }

        /// <summary>The member carries [UnlockedGuestPte].</summary>
        public bool Annotated { get; }

        /// <summary>The step stays inside the storage of its receiver (a field of a struct, an element).</summary>
        public bool KeepsStorable { get; }

        public bool IsIndex => Member == null;

        public static Step ForMember(ISymbol member, ITypeSymbol? type, bool annotated, bool keepsStorable) =>
            new(Identity(member), member.Name, default, type, annotated, keepsStorable);

        public static Step ForIndex(IndexExpr index, ITypeSymbol? type) => new(null, null, index, type, false, true);

        public Step WithIndex(IndexExpr index) => new(null, null, index, Type, false, true);

        public string Display => Member != null ? "." + Name : "[" + Index.Display + "]";

        /// <summary>The symbol that identifies a member step (see <see cref="Member"/>).</summary>
        public static ISymbol Identity(ISymbol member) => ((member as IFieldSymbol)?.CorrespondingTupleField ?? member).OriginalDefinition;

        /// <summary>Same member, or same index: two steps from one receiver that name the same location.</summary>
        public bool Equals(Step other) =>
            Member != null ? SymbolEqualityComparer.Default.Equals(Member, other.Member) : other.Member == null && Index.Equals(other.Index);

        public override bool Equals(object? obj) => obj is Step other && Equals(other);

        public override int GetHashCode() => Member != null ? SymbolEqualityComparer.Default.GetHashCode(Member) : Index.GetHashCode();
    }
}
