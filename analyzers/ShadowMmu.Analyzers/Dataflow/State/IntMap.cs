using System;
using System.Collections.Generic;

namespace ShadowMmu.Analyzers.Dataflow.State
{
    /// <summary>
    /// A persistent map from non-negative ints (the ids the analysis interns) to values: a big-endian Patricia trie
    /// (Okasaki and Gill, "Fast Mergeable Integer Maps"). Its shape depends only on its keys, so two maps derived from one
    /// another share every subtree that neither changed, and merging or comparing them visits only what differs: the
    /// dataflow state at a join costs the difference between the incoming states, not their size (the reason for this
    /// type: copying whole states made the analysis quadratic in the method's size).
    /// </summary>
    /// <remarks>
    /// The empty map is <see langword="null"/>; all operations are static and never mutate a node. Every node built and
    /// every node a merge or comparison visits counts in <see cref="WorkMeter"/>.
    /// </remarks>
    internal sealed class IntMap<T>
    {
        private IntMap(uint prefix, uint mask, IntMap<T>? left, IntMap<T>? right, T value, int count)
        {
            Prefix = prefix;
            Mask = mask;
            Left = left;
            Right = right;
            Value = value;
            Count = count;
            WorkMeter.Count++;
        }

        /// <summary>For a leaf its key; for a branch the bits its keys share above <see cref="Mask"/>.</summary>
        private uint Prefix { get; }

        /// <summary>0 for a leaf; for a branch the bit on which its two halves differ.</summary>
        private uint Mask { get; }

        private IntMap<T>? Left { get; }

        private IntMap<T>? Right { get; }

        private T Value { get; }

        /// <summary>How many entries the map holds.</summary>
        public int Count { get; }

        private bool IsLeaf => Mask == 0;

        public static int CountOf(IntMap<T>? map) => map?.Count ?? 0;

        public static bool TryGet(IntMap<T>? map, int key, out T value)
        {
            uint k = (uint)key;
            while (map != null)
            {
                if (map.IsLeaf)
                {
                    if (map.Prefix == k)
                    {
                        value = map.Value;
                        return true;
                    }

                    break;
                }

                if (!Matches(k, map.Prefix, map.Mask))
                {
                    break;
                }

                map = (k & map.Mask) == 0 ? map.Left : map.Right;
            }

            value = default!;
            return false;
        }

        public static bool Contains(IntMap<T>? map, int key) => TryGet(map, key, out _);

        /// <summary>The map with <paramref name="key"/> bound to <paramref name="value"/> (the same map when it already was).</summary>
        public static IntMap<T> Set(IntMap<T>? map, int key, T value)
        {
            uint k = (uint)key;
            if (map == null)
            {
                return Leaf(k, value);
            }

            if (map.IsLeaf)
            {
                if (map.Prefix == k)
                {
                    return EqualityComparer<T>.Default.Equals(map.Value, value) ? map : Leaf(k, value);
                }

                return Join(k, Leaf(k, value), map.Prefix, map);
            }

            if (!Matches(k, map.Prefix, map.Mask))
            {
                return Join(k, Leaf(k, value), map.Prefix, map);
            }

            // Both halves of a branch are never empty, so the rebuilt branch is not either.
            return (k & map.Mask) == 0
                ? Rebuild(map, Set(map.Left, key, value), map.Right)!
                : Rebuild(map, map.Left, Set(map.Right, key, value))!;
        }

        public static IntMap<T>? Remove(IntMap<T>? map, int key)
        {
            uint k = (uint)key;
            if (map == null)
            {
                return null;
            }

            if (map.IsLeaf)
            {
                return map.Prefix == k ? null : map;
            }

            if (!Matches(k, map.Prefix, map.Mask))
            {
                return map;
            }

            return (k & map.Mask) == 0
                ? Rebuild(map, Remove(map.Left, key), map.Right)
                : Rebuild(map, map.Left, Remove(map.Right, key));
        }

        /// <summary>
        /// Combines two maps key by key: <paramref name="both"/> for a key in both, <paramref name="onlyLeft"/> and
        /// <paramref name="onlyRight"/> for a key in one (null from any of them drops the key; a null function keeps the
        /// entry as it is, without visiting it). A subtree the two maps share is kept as it is, so <paramref name="both"/>
        /// must give back its argument for two equal values. The result is <paramref name="left"/> itself when it did not change.
        /// </summary>
        public static IntMap<T>? Merge(
            IntMap<T>? left,
            IntMap<T>? right,
            Func<int, T, T, Optional> both,
            Func<int, T, Optional>? onlyLeft,
            Func<int, T, Optional>? onlyRight)
        {
            if (ReferenceEquals(left, right))
            {
                return left;
            }

            WorkMeter.Count++;
            if (left == null)
            {
                return MapAll(right, onlyRight);
            }

            if (right == null)
            {
                return MapAll(left, onlyLeft);
            }

            if (left.IsLeaf || right.IsLeaf)
            {
                return MergeLeaf(left, right, both, onlyLeft, onlyRight);
            }

            if (left.Mask == right.Mask && left.Prefix == right.Prefix)
            {
                return Rebuild(left, Merge(left.Left, right.Left, both, onlyLeft, onlyRight), Merge(left.Right, right.Right, both, onlyLeft, onlyRight));
            }

            if (left.Mask > right.Mask && Matches(right.Prefix, left.Prefix, left.Mask))
            {
                // The right map lies entirely in one half of the left one.
                return (right.Prefix & left.Mask) == 0
                    ? Rebuild(left, Merge(left.Left, right, both, onlyLeft, onlyRight), MapAll(left.Right, onlyLeft))
                    : Rebuild(left, MapAll(left.Left, onlyLeft), Merge(left.Right, right, both, onlyLeft, onlyRight));
            }

            if (right.Mask > left.Mask && Matches(left.Prefix, right.Prefix, right.Mask))
            {
                return (left.Prefix & right.Mask) == 0
                    ? JoinOrNull(Merge(left, right.Left, both, onlyLeft, onlyRight), MapAll(right.Right, onlyRight))
                    : JoinOrNull(MapAll(right.Left, onlyRight), Merge(left, right.Right, both, onlyLeft, onlyRight));
            }

            // Disjoint key ranges.
            return JoinOrNull(MapAll(left, onlyLeft), MapAll(right, onlyRight));
        }

        /// <summary>Whether the maps hold the same keys with values that <paramref name="equal"/> says are the same.</summary>
        public static bool SameAs(IntMap<T>? a, IntMap<T>? b, Func<T, T, bool> equal)
        {
            if (ReferenceEquals(a, b))
            {
                return true;
            }

            WorkMeter.Count++;
            if (a == null || b == null || a.Count != b.Count || a.Prefix != b.Prefix || a.Mask != b.Mask)
            {
                return false;
            }

            return a.IsLeaf ? equal(a.Value, b.Value) : SameAs(a.Left, b.Left, equal) && SameAs(a.Right, b.Right, equal);
        }

        /// <summary>The entries in increasing key order.</summary>
        public static Enumerable Entries(IntMap<T>? map) => new(map);

        /// <summary>The smallest key's value (the map must not be empty).</summary>
        public static T First(IntMap<T> map)
        {
            while (!map.IsLeaf)
            {
                map = map.Left!;
            }

            return map.Value;
        }

        /// <summary>The entries <paramref name="map"/> keeps (null drops one), visiting each.</summary>
        public static IntMap<T>? Choose(IntMap<T>? map, Func<int, T, Optional> choose) => MapAll(map, choose);

        /// <summary>A choice that drops every entry (a merge given it skips the subtree instead of visiting it).</summary>
        public static readonly Func<int, T, Optional> DropAll = (_, _) => Optional.None;

        private static IntMap<T>? MapAll(IntMap<T>? map, Func<int, T, Optional>? choose)
        {
            if (map == null || choose == null)
            {
                return map;
            }

            if (ReferenceEquals(choose, DropAll))
            {
                return null;
            }

            WorkMeter.Count++;
            if (map.IsLeaf)
            {
                Optional chosen = choose((int)map.Prefix, map.Value);
                return !chosen.HasValue ? null : EqualityComparer<T>.Default.Equals(chosen.Value, map.Value) ? map : Leaf(map.Prefix, chosen.Value);
            }

            return Rebuild(map, MapAll(map.Left, choose), MapAll(map.Right, choose));
        }

        /// <summary>A merge where one side is a single entry: that key is combined, the rest of the other side mapped.</summary>
        private static IntMap<T>? MergeLeaf(IntMap<T> left, IntMap<T> right, Func<int, T, T, Optional> both, Func<int, T, Optional>? onlyLeft, Func<int, T, Optional>? onlyRight)
        {
            if (left.IsLeaf)
            {
                int key = (int)left.Prefix;
                if (!TryGet(right, key, out T other))
                {
                    return With(MapAll(right, onlyRight), key, onlyLeft == null ? left.Value : onlyLeft(key, left.Value));
                }

                Optional combined = both(key, left.Value, other);
                IntMap<T>? rest = MapAll(Remove(right, key), onlyRight);
                if (rest == null && combined.HasValue && EqualityComparer<T>.Default.Equals(combined.Value, left.Value))
                {
                    return left;
                }

                return With(rest, key, combined);
            }
            else
            {
                int key = (int)right.Prefix;
                if (!TryGet(left, key, out T mine))
                {
                    return With(MapAll(left, onlyLeft), key, onlyRight == null ? right.Value : onlyRight(key, right.Value));
                }

                Optional combined = both(key, mine, right.Value);
                if (onlyLeft == null && combined.HasValue && EqualityComparer<T>.Default.Equals(combined.Value, mine))
                {
                    return left;
                }

                return With(MapAll(Remove(left, key), onlyLeft), key, combined);
            }
        }

        private static IntMap<T>? With(IntMap<T>? map, int key, Optional value) => value.HasValue ? Set(map, key, value.Value) : map;

        private static IntMap<T> Leaf(uint key, T value) => new(key, 0, null, null, value, 1);

        /// <summary><paramref name="map"/> with new halves: itself when they did not change, a half when the other is gone.</summary>
        private static IntMap<T>? Rebuild(IntMap<T> map, IntMap<T>? left, IntMap<T>? right)
        {
            if (ReferenceEquals(left, map.Left) && ReferenceEquals(right, map.Right))
            {
                return map;
            }

            if (left == null)
            {
                return right;
            }

            if (right == null)
            {
                return left;
            }

            return new IntMap<T>(map.Prefix, map.Mask, left, right, default!, left.Count + right.Count);
        }

        private static IntMap<T>? JoinOrNull(IntMap<T>? a, IntMap<T>? b)
        {
            if (a == null)
            {
                return b;
            }

            if (b == null)
            {
                return a;
            }

            return Join(a.Prefix, a, b.Prefix, b);
        }

        private static IntMap<T> Join(uint p0, IntMap<T> t0, uint p1, IntMap<T> t1)
        {
            uint m = HighestBit(p0 ^ p1);
            uint prefix = p0 & ~(m | (m - 1));
            return (p0 & m) == 0
                ? new IntMap<T>(prefix, m, t0, t1, default!, t0.Count + t1.Count)
                : new IntMap<T>(prefix, m, t1, t0, default!, t0.Count + t1.Count);
        }

        private static bool Matches(uint key, uint prefix, uint mask) => (key & ~(mask | (mask - 1))) == prefix;

        private static uint HighestBit(uint x)
        {
            x |= x >> 1;
            x |= x >> 2;
            x |= x >> 4;
            x |= x >> 8;
            x |= x >> 16;
            return x ^ (x >> 1);
        }

        /// <summary>The entries of a map, in increasing key order.</summary>
        internal readonly struct Enumerable
        {
            private readonly IntMap<T>? _map;

            public Enumerable(IntMap<T>? map) => _map = map;

            public Enumerator GetEnumerator() => new(_map);
        }

        /// <summary>Walks a map's leaves left to right with a stack as deep as the trie (at most one level per key bit).</summary>
        internal struct Enumerator
        {
            private readonly IntMap<T>?[]? _stack;
            private IntMap<T>? _next;
            private int _depth;

            public Enumerator(IntMap<T>? map)
            {
                // A trie of n leaves is at most n - 1 deep, and at most 32 (one level per key bit).
                _stack = map != null && !map.IsLeaf ? new IntMap<T>?[System.Math.Min(map.Count, 33)] : null;
                _next = map;
                _depth = 0;
                Current = default;
            }

            public KeyValuePair<int, T> Current { get; private set; }

            public bool MoveNext()
            {
                IntMap<T>? node = _next;
                if (node == null)
                {
                    if (_depth == 0)
                    {
                        return false;
                    }

                    node = _stack![--_depth];
                }

                while (!node!.IsLeaf)
                {
                    WorkMeter.Count++;
                    _stack![_depth++] = node.Right;
                    node = node.Left;
                }

                WorkMeter.Count++;
                Current = new KeyValuePair<int, T>((int)node.Prefix, node.Value);
                _next = null;
                return true;
            }
        }

        /// <summary>A value or none (what a merge function gives for a key to keep or drop).</summary>
        internal readonly struct Optional
        {
            private Optional(T value)
            {
                Value = value;
                HasValue = true;
            }

            public T Value { get; }

            public bool HasValue { get; }

            public static Optional None => default;

            public static Optional Some(T value) => new(value);

            public static implicit operator Optional(T value) => new(value);
        }
    }
}
