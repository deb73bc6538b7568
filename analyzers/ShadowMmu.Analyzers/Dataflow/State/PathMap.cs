using System;
using System.Collections.Generic;
using ShadowMmu.Analyzers.Dataflow.Locations;

namespace ShadowMmu.Analyzers.Dataflow.State
{
    /// <summary>An entry of a <see cref="PathMap{T}"/>: something known about one location.</summary>
    internal interface IPathEntry
    {
        AccessPath Path { get; }
    }

    /// <summary>
    /// A persistent map from locations to entries, grouped by root: what is stored under <c>walk</c> is found without
    /// looking at what is stored under any other variable.
    /// </summary>
    internal readonly struct PathMap<T>
        where T : class, IPathEntry
    {
        private readonly IntMap<IntMap<T>>? _roots;

        private PathMap(IntMap<IntMap<T>>? roots) => _roots = roots;

        public bool IsEmpty => _roots == null;

        /// <summary>Whether anything is known under the root of <paramref name="path"/>.</summary>
        public bool HasRoot(AccessPath path) => IntMap<IntMap<T>>.Contains(_roots, path.RootId);

        public bool TryGet(AccessPath path, out T entry)
        {
            if (IntMap<IntMap<T>>.TryGet(_roots, path.RootId, out IntMap<T> bucket) && IntMap<T>.TryGet(bucket, path.Id, out entry))
            {
                return true;
            }

            entry = null!;
            return false;
        }

        public PathMap<T> Set(T entry)
        {
            AccessPath path = entry.Path;
            IntMap<IntMap<T>>.TryGet(_roots, path.RootId, out IntMap<T>? bucket);
            return new PathMap<T>(IntMap<IntMap<T>>.Set(_roots, path.RootId, IntMap<T>.Set(bucket, path.Id, entry)));
        }

        /// <summary>The entries of the locations under <paramref name="root"/>'s root.</summary>
        public IEnumerable<T> Under(AccessPath root)
        {
            if (IntMap<IntMap<T>>.TryGet(_roots, root.RootId, out IntMap<T>? bucket))
            {
                foreach (KeyValuePair<int, T> entry in IntMap<T>.Entries(bucket))
                {
                    yield return entry.Value;
                }
            }
        }

        /// <summary>Every entry.</summary>
        public IEnumerable<T> All()
        {
            foreach (KeyValuePair<int, IntMap<T>> bucket in IntMap<IntMap<T>>.Entries(_roots))
            {
                foreach (KeyValuePair<int, T> entry in IntMap<T>.Entries(bucket.Value))
                {
                    yield return entry.Value;
                }
            }
        }

        /// <summary>The map without the entries of <paramref name="root"/>'s root that <paramref name="remove"/> picks.</summary>
        public PathMap<T> RemoveUnder(AccessPath root, Func<T, bool> remove)
        {
            if (!IntMap<IntMap<T>>.TryGet(_roots, root.RootId, out IntMap<T>? bucket))
            {
                return this;
            }

            IntMap<T>? kept = IntMap<T>.Choose(bucket, (_, entry) => remove(entry) ? IntMap<T>.Optional.None : entry);
            if (ReferenceEquals(kept, bucket))
            {
                return this;
            }

            return new PathMap<T>(kept == null ? IntMap<IntMap<T>>.Remove(_roots, root.RootId) : IntMap<IntMap<T>>.Set(_roots, root.RootId, kept));
        }

        /// <summary>Every entry rewritten by <paramref name="map"/> (null drops it), its location possibly changed.</summary>
        public PathMap<T> Rebuild(Func<T, T?> map)
        {
            var result = default(PathMap<T>);
            foreach (T entry in All())
            {
                if (map(entry) is T mapped)
                {
                    result = result.Set(mapped);
                }
            }

            return result;
        }

        /// <summary>Combines two maps location by location (see <see cref="IntMap{T}.Merge"/>); shared parts are not visited.</summary>
        public static PathMap<T> Merge(PathMap<T> left, PathMap<T> right, Func<T, T, T> both, Func<T, T> onlyLeft, Func<T, T> onlyRight)
        {
            IntMap<IntMap<T>>? roots = IntMap<IntMap<T>>.Merge(
                left._roots,
                right._roots,
                (_, a, b) => IntMap<T>.Merge(a, b, (_, x, y) => both(x, y), (_, x) => onlyLeft(x), (_, y) => onlyRight(y))!,
                (_, a) => IntMap<T>.Choose(a, (_, x) => onlyLeft(x))!,
                (_, b) => IntMap<T>.Choose(b, (_, y) => onlyRight(y))!);
            return new PathMap<T>(roots);
        }

        /// <summary>The locations in both maps, combined by <paramref name="both"/> (null drops one); the others dropped without a visit.</summary>
        public static PathMap<T> Intersect(PathMap<T> left, PathMap<T> right, Func<T, T, T?> both)
        {
            IntMap<IntMap<T>>? roots = IntMap<IntMap<T>>.Merge(
                left._roots,
                right._roots,
                (_, a, b) => IntMap<T>.Merge(a, b, (_, x, y) => both(x, y) is T kept ? kept : IntMap<T>.Optional.None, IntMap<T>.DropAll, IntMap<T>.DropAll) is IntMap<T> bucket
                    ? bucket
                    : IntMap<IntMap<T>>.Optional.None,
                IntMap<IntMap<T>>.DropAll,
                IntMap<IntMap<T>>.DropAll);
            return new PathMap<T>(roots);
        }

        /// <summary>The map without anything under the root with id <paramref name="rootId"/>.</summary>
        public PathMap<T> RemoveRoot(int rootId) => new(IntMap<IntMap<T>>.Remove(_roots, rootId));

        public static bool SameAs(PathMap<T> a, PathMap<T> b, Func<T, T, bool> equal) =>
            IntMap<IntMap<T>>.SameAs(a._roots, b._roots, (x, y) => IntMap<T>.SameAs(x, y, equal));
    }
}
