using System;
using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;

namespace ShadowMmu.Analyzers.Dataflow
{
    /// <summary>An integer variable that indexes are expressed in: a local, a parameter, a field path, or the unknown index of one site.</summary>
    internal sealed class VarRef
    {
        public VarRef(string key, string display, Path? path)
        {
            Key = key;
            Display = display;
            Path = path;
        }

        public string Key { get; }

        public string Display { get; }

        /// <summary>The variable's location, or null for the unknown index of a site.</summary>
        public Path? Path { get; }
    }

    /// <summary>An index: a constant, or a variable plus a constant (<c>level - 1</c>).</summary>
    internal readonly struct IndexExpr : IEquatable<IndexExpr>
    {
        public IndexExpr(VarRef? var, long offset)
        {
            Var = var;
            Offset = offset;
        }

        public VarRef? Var { get; }

        public long Offset { get; }

        public bool IsConst => Var == null;

        public static IndexExpr Const(long value) => new(null, value);

        public IndexExpr Add(long delta) => new(Var, unchecked(Offset + delta));

        public string Key => Var == null ? "#" + Offset : Var.Key + (Offset >= 0 ? "+" : string.Empty) + Offset;

        public string Display => Var == null
            ? Offset.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : Offset == 0 ? Var.Display : Offset > 0 ? Var.Display + " + " + Offset : Var.Display + " - " + (-Offset);

        public bool Equals(IndexExpr other) => Offset == other.Offset && (Var?.Key == other.Var?.Key);

        public override bool Equals(object? obj) => obj is IndexExpr other && Equals(other);

        public override int GetHashCode() => (Var?.Key.GetHashCode() ?? 0) ^ Offset.GetHashCode();
    }

    internal enum RootKind
    {
        Local,
        Parameter,
        This,
        Static,
    }

    /// <summary>Where a path starts.</summary>
    internal sealed class Root
    {
        public Root(RootKind kind, ISymbol? symbol, string key, string display, ITypeSymbol? type, bool annotated, bool storable)
        {
            Kind = kind;
            Symbol = symbol;
            Key = key;
            Display = display;
            Type = type;
            Annotated = annotated;
            Storable = storable;
        }

        public RootKind Kind { get; }

        public ISymbol? Symbol { get; }

        public string Key { get; }

        public string Display { get; }

        public ITypeSymbol? Type { get; }

        /// <summary>An [UnlockedGuestPte] parameter.</summary>
        public bool Annotated { get; }

        /// <summary>Stores into paths from here are tracked (a local, a parameter, <c>this</c> of a struct).</summary>
        public bool Storable { get; }
    }

    /// <summary>One step of a path: a member, or an element with an index.</summary>
    internal sealed class Sel
    {
        private Sel(ISymbol? member, IndexExpr index, ITypeSymbol? type, bool annotated, bool keepsStorable)
        {
            Member = member;
            Index = index;
            Type = type;
            Annotated = annotated;
            KeepsStorable = keepsStorable;
        }

        /// <summary>The field or property, or null for an element.</summary>
        public ISymbol? Member { get; }

        public IndexExpr Index { get; }

        /// <summary>The type of the path up to and including this step.</summary>
        public ITypeSymbol? Type { get; }

        /// <summary>The member carries [UnlockedGuestPte].</summary>
        public bool Annotated { get; }

        /// <summary>The step stays inside the storage of its receiver (a field of a struct, an element).</summary>
        public bool KeepsStorable { get; }

        public bool IsIndex => Member == null;

        public static Sel ForMember(ISymbol member, ITypeSymbol? type, bool annotated, bool keepsStorable) => new(member, default, type, annotated, keepsStorable);

        public static Sel ForIndex(IndexExpr index, ITypeSymbol? type) => new(null, index, type, false, true);

        public Sel WithIndex(IndexExpr index) => new(null, index, Type, false, true);

        public string Key => Member != null ? "." + Member.Name : "[" + Index.Key + "]";

        public string Display => Member != null ? "." + Member.Name : "[" + Index.Display + "]";
    }

    /// <summary>
    /// A location as an access path (<c>walk.Ptes[level - 1]</c>): a root and member or constant-index steps. Two paths with
    /// the same key denote the same location at the same program point.
    /// </summary>
    internal sealed class Path
    {
        public Path(Root root, ImmutableArray<Sel> sels)
        {
            Root = root;
            Sels = sels;
            var key = new StringBuilder(root.Key);
            var display = new StringBuilder(root.Display);
            bool storable = root.Storable;
            foreach (Sel sel in sels)
            {
                key.Append(sel.Key);
                if (display.Length == 0 && sel.Member != null)
                {
                    display.Append(sel.Member.Name);
                }
                else
                {
                    display.Append(sel.Display);
                }

                storable &= sel.KeepsStorable;
            }

            Key = key.ToString();
            Display = display.ToString();
            Storable = storable;
        }

        public Root Root { get; }

        public ImmutableArray<Sel> Sels { get; }

        public string Key { get; }

        public string Display { get; }

        public bool Storable { get; }

        public ITypeSymbol? Type => Sels.Length == 0 ? Root.Type : Sels[Sels.Length - 1].Type;

        /// <summary>The type of the prefix of <paramref name="length"/> steps.</summary>
        public ITypeSymbol? TypeAt(int length) => length == 0 ? Root.Type : Sels[length - 1].Type;

        public Path Append(Sel sel) => new(Root, Sels.Add(sel));

        public Path Prefix(int length) => length == Sels.Length ? this : new Path(Root, Sels.RemoveRange(length, Sels.Length - length));

        /// <summary>This path with the steps of <paramref name="other"/> after its first <paramref name="skip"/> appended.</summary>
        public Path Concat(Path other, int skip)
        {
            if (skip >= other.Sels.Length)
            {
                return this;
            }

            return new Path(Root, Sels.AddRange(other.Sels.RemoveRange(0, skip)));
        }

        public bool IsPrefixOf(Path other)
        {
            if (other.Sels.Length < Sels.Length || other.Root.Key != Root.Key)
            {
                return false;
            }

            for (int i = 0; i < Sels.Length; i++)
            {
                if (Sels[i].Key != other.Sels[i].Key)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>Whether the two paths may denote the same location: same shape, and no index pair provably different.</summary>
        public bool MayAlias(Path other)
        {
            if (other.Sels.Length != Sels.Length || other.Root.Key != Root.Key)
            {
                return false;
            }

            for (int i = 0; i < Sels.Length; i++)
            {
                Sel a = Sels[i], b = other.Sels[i];
                if (a.IsIndex != b.IsIndex)
                {
                    return false;
                }

                if (!a.IsIndex)
                {
                    if (a.Key != b.Key)
                    {
                        return false;
                    }

                    continue;
                }

                IndexExpr x = a.Index, y = b.Index;
                if (x.Var?.Key == y.Var?.Key && x.Offset != y.Offset)
                {
                    return false;
                }
            }

            return true;
        }

        public bool Mentions(string varKey)
        {
            foreach (Sel sel in Sels)
            {
                if (sel.IsIndex && sel.Index.Var?.Key == varKey)
                {
                    return true;
                }
            }

            return false;
        }

        public bool HasIndexVars()
        {
            foreach (Sel sel in Sels)
            {
                if (sel.IsIndex && sel.Index.Var != null)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>
        /// The path with every index rewritten by <paramref name="rewrite"/> (which returns null to say the index is lost);
        /// null when an index was lost, the same object when nothing changed.
        /// </summary>
        public Path? Rewrite(Func<IndexExpr, IndexExpr?> rewrite)
        {
            ImmutableArray<Sel>.Builder? builder = null;
            for (int i = 0; i < Sels.Length; i++)
            {
                Sel sel = Sels[i];
                if (!sel.IsIndex || sel.Index.Var == null)
                {
                    builder?.Add(sel);
                    continue;
                }

                IndexExpr? rewritten = rewrite(sel.Index);
                if (rewritten == null)
                {
                    return null;
                }

                if (builder == null && !rewritten.Value.Equals(sel.Index))
                {
                    builder = ImmutableArray.CreateBuilder<Sel>(Sels.Length);
                    for (int j = 0; j < i; j++)
                    {
                        builder.Add(Sels[j]);
                    }
                }

                builder?.Add(sel.WithIndex(rewritten.Value));
            }

            return builder == null ? this : new Path(Root, builder.ToImmutable());
        }

        public override string ToString() => Key;
    }
}
