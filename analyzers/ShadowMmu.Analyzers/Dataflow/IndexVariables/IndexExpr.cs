using System;
using System.Globalization;
using Microsoft.CodeAnalysis.Operations;

namespace ShadowMmu.Analyzers.Dataflow.IndexVariables
{
    /// <summary>An index: a constant, or a variable plus a constant (<c>level - 1</c>).</summary>
    internal readonly struct IndexExpr : IEquatable<IndexExpr>
    {
        public IndexExpr(IndexVar? var, long offset)
        {
            Var = var;
            Offset = offset;
        }

        public IndexVar? Var { get; }

        public long Offset { get; }

        public bool IsConst => Var == null;

        public static IndexExpr Const(long value) => new(null, value);

        public IndexExpr Add(long delta) => new(Var, unchecked(Offset + delta));

        public string Display => Var == null
            ? Offset.ToString(CultureInfo.InvariantCulture)
            : Offset == 0 ? Var.Display : Offset > 0 ? Var.Display + " + " + Offset.ToString(CultureInfo.InvariantCulture) : Var.Display + " - " + (-Offset).ToString(CultureInfo.InvariantCulture);

        public bool Equals(IndexExpr other) => Offset == other.Offset && ReferenceEquals(Var, other.Var);

        public override bool Equals(object? obj) => obj is IndexExpr other && Equals(other);

        public override int GetHashCode() => ((Var?.Id ?? -1) * 397) ^ Offset.GetHashCode();

        public override string ToString() => Display;

        /// <summary><c>a + b</c> when it is again a constant or a variable plus a constant (not two variables).</summary>
        public static IndexExpr? Plus(IndexExpr a, IndexExpr b) => a.IsConst ? b.Add(a.Offset) : b.IsConst ? a.Add(b.Offset) : null;

        /// <summary><c>left op right</c> when it is again a constant or a variable plus a constant.</summary>
        public static IndexExpr? Linear(BinaryOperatorKind kind, IndexExpr? left, IndexExpr? right)
        {
            if (left is not IndexExpr l || right is not IndexExpr r)
            {
                return null;
            }

            switch (kind)
            {
                case BinaryOperatorKind.Add when r.IsConst:
                    return l.Add(r.Offset);
                case BinaryOperatorKind.Add when l.IsConst:
                    return r.Add(l.Offset);
                case BinaryOperatorKind.Subtract when r.IsConst:
                    return l.Add(-r.Offset);
                case BinaryOperatorKind.Multiply when l.IsConst && r.IsConst:
                    return Const(unchecked(l.Offset * r.Offset));
                default:
                    return null;
            }
        }

        /// <summary>A comparison the analysis can decide: both sides constants, or the same variable with constant offsets.</summary>
        public static bool? Compare(BinaryOperatorKind kind, IndexExpr? left, IndexExpr? right)
        {
            if (left is not IndexExpr l || right is not IndexExpr r || !ReferenceEquals(l.Var, r.Var))
            {
                return null;
            }

            long a = l.Offset, b = r.Offset;
            return kind switch
            {
                BinaryOperatorKind.Equals => a == b,
                BinaryOperatorKind.NotEquals => a != b,
                BinaryOperatorKind.LessThan => a < b,
                BinaryOperatorKind.LessThanOrEqual => a <= b,
                BinaryOperatorKind.GreaterThan => a > b,
                BinaryOperatorKind.GreaterThanOrEqual => a >= b,
                _ => null,
            };
        }
    }
}
