using System;
using Microsoft.CodeAnalysis;

namespace ShadowMmu.Analyzers.Dataflow.Locations
{
    internal enum RootKind
    {
        Local,
        Parameter,
        This,
        Static,
    }

    /// <summary>Where an access path starts: a local, a parameter, <c>this</c>, or a static member.</summary>
    /// <remarks>Equal when they are the same symbol (every <c>this</c> of a function is one root).</remarks>
    internal sealed class Root : IEquatable<Root>
    {
        public Root(RootKind kind, ISymbol? symbol, string display, ITypeSymbol? type, bool annotated, bool storable)
        {
            Kind = kind;
            Symbol = symbol;
            Display = display;
            Type = type;
            Annotated = annotated;
            Storable = storable;
        }

        public RootKind Kind { get; }

        public ISymbol? Symbol { get; }

        public string Display { get; }

        public ITypeSymbol? Type { get; }

        /// <summary>An [UnlockedGuestPte] parameter or static member: what it holds is a guest PTE value read without the lock.</summary>
        public bool Annotated { get; }

        /// <summary>Stores into paths from here are tracked (a local, a parameter, <c>this</c> of a struct).</summary>
        public bool Storable { get; }

        public bool Equals(Root? other) =>
            other != null && other.Kind == Kind && SymbolEqualityComparer.Default.Equals(other.Symbol, Symbol);

        public override bool Equals(object? obj) => Equals(obj as Root);

        public override int GetHashCode() => ((int)Kind * 397) ^ SymbolEqualityComparer.Default.GetHashCode(Symbol);

        public override string ToString() => Display;
    }
}
