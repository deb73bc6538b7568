using System;
using System.Collections;
using System.Collections.Generic;

namespace ShadowMmu.Specs
{
    /// <summary>
    /// An immutable array that compares by its elements, so that models holding lists stay value-equatable
    /// and the incremental generator can tell an unchanged spec from a changed one.
    /// </summary>
    internal sealed class ImmutableEquatableArray<T> : IEquatable<ImmutableEquatableArray<T>>, IReadOnlyList<T>
        where T : IEquatable<T>
    {
        public static readonly ImmutableEquatableArray<T> Empty = new ImmutableEquatableArray<T>(new T[0]);

        private readonly T[] _values;

        public ImmutableEquatableArray(IEnumerable<T> values) => _values = new List<T>(values).ToArray();

        public T this[int index] => _values[index];

        public int Count => _values.Length;

        public bool Equals(ImmutableEquatableArray<T>? other)
        {
            if (other is null || other._values.Length != _values.Length)
            {
                return false;
            }

            for (int i = 0; i < _values.Length; i++)
            {
                if (!_values[i].Equals(other._values[i]))
                {
                    return false;
                }
            }

            return true;
        }

        public override bool Equals(object? obj) => obj is ImmutableEquatableArray<T> other && Equals(other);

        public override int GetHashCode()
        {
            int hash = 17;
            foreach (T value in _values)
            {
                hash = unchecked((hash * 31) + value.GetHashCode());
            }

            return hash;
        }

        public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_values).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => _values.GetEnumerator();
    }
}
