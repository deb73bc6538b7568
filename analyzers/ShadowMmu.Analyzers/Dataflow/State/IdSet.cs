using System;
using System.Collections.Generic;

namespace ShadowMmu.Analyzers.Dataflow.State
{
    /// <summary>An object the analysis interns: one per distinct thing, with a small id that keys the state's maps.</summary>
    internal interface IInterned
    {
        int Id { get; }
    }

    /// <summary>An immutable set of interned objects, in id order (the order in which the analysis first met them).</summary>
    internal readonly struct IdSet<T> : IEquatable<IdSet<T>>
        where T : class, IInterned
    {
        private static readonly Func<int, T, T, IntMap<T>.Optional> Keep = (_, a, _) => a;

        private readonly IntMap<T>? _map;

        private IdSet(IntMap<T>? map) => _map = map;

        public static IdSet<T> Empty => default;

        public int Count => IntMap<T>.CountOf(_map);

        public bool IsEmpty => _map == null;

        /// <summary>The element with the smallest id.</summary>
        public T First => IntMap<T>.First(_map!);

        public static IdSet<T> Of(T item) => new(IntMap<T>.Set(null, item.Id, item));

        public bool Contains(T item) => IntMap<T>.Contains(_map, item.Id);

        public IdSet<T> Add(T item) => new(IntMap<T>.Set(_map, item.Id, item));

        public IdSet<T> Remove(T item) => new(IntMap<T>.Remove(_map, item.Id));

        public IdSet<T> Union(IdSet<T> other) => new(IntMap<T>.Merge(_map, other._map, Keep, null, null));

        public IdSet<T> Intersect(IdSet<T> other) => new(IntMap<T>.Merge(_map, other._map, Keep, IntMap<T>.DropAll, IntMap<T>.DropAll));

        public bool SetEquals(IdSet<T> other) => IntMap<T>.SameAs(_map, other._map, (a, b) => ReferenceEquals(a, b));

        public bool Equals(IdSet<T> other) => SetEquals(other);

        public override bool Equals(object? obj) => obj is IdSet<T> other && Equals(other);

        public override int GetHashCode() => Count;

        public Enumerator GetEnumerator() => new(_map);

        /// <summary>The elements in id order.</summary>
        public struct Enumerator
        {
            private IntMap<T>.Enumerator _entries;

            public Enumerator(IntMap<T>? map) => _entries = new IntMap<T>.Enumerator(map);

            public T Current => _entries.Current.Value;

            public bool MoveNext() => _entries.MoveNext();
        }
    }
}
