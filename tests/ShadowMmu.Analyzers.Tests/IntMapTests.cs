using System;
using System.Collections.Generic;
using System.Linq;
using ShadowMmu.Analyzers.Dataflow.State;
using Xunit;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>The analysis's persistent map against a dictionary, over seeded random operations; and its sharing.</summary>
    public class IntMapTests
    {
        private static readonly Func<int, int, int, IntMap<int>.Optional> Sum = (_, a, b) => a == b ? a : a + b;
        private static readonly Func<int, int, IntMap<int>.Optional> Negate = (_, a) => -a;
        private static readonly Func<int, int, IntMap<int>.Optional> DropOdd = (_, a) => a % 2 == 0 ? a : IntMap<int>.Optional.None;

        [Theory]
        [InlineData(1)]
        [InlineData(2)]
        [InlineData(3)]
        [InlineData(4)]
        public void RandomOperations_MatchADictionary(int seed)
        {
            var random = new Random(seed);
            for (int round = 0; round < 300; round++)
            {
                int range = random.Next(2) == 0 ? 16 : 1 << random.Next(4, 31);
                (IntMap<int>? a, Dictionary<int, int> da) = RandomMap(random, range);
                (IntMap<int>? b, Dictionary<int, int> db) = random.Next(3) == 0 ? Derived(random, a, da, range) : RandomMap(random, range);

                // Union with a combination, one-sided entries mapped.
                var expected = new Dictionary<int, int>();
                foreach (int key in da.Keys.Union(db.Keys))
                {
                    bool inA = da.TryGetValue(key, out int x), inB = db.TryGetValue(key, out int y);
                    IntMap<int>.Optional value = inA && inB ? Sum(key, x, y) : inA ? Negate(key, x) : DropOdd(key, y);
                    if (value.HasValue)
                    {
                        expected[key] = value.Value;
                    }
                }

                AssertSame(expected, IntMap<int>.Merge(a, b, Sum, Negate, DropOdd));

                // Intersection.
                AssertSame(da.Keys.Intersect(db.Keys).ToDictionary(k => k, k => da[k]),
                    IntMap<int>.Merge(a, b, (_, x, _) => x, IntMap<int>.DropAll, IntMap<int>.DropAll));

                // Comparison.
                bool equal = da.Count == db.Count && da.All(p => db.TryGetValue(p.Key, out int v) && v == p.Value);
                Assert.Equal(equal, IntMap<int>.SameAs(a, b, (x, y) => x == y));
            }
        }

        [Fact]
        public void MergeOfADerivedMap_VisitsOnlyWhatDiffers()
        {
            IntMap<int>? big = null;
            for (int i = 0; i < 100_000; i++)
            {
                big = IntMap<int>.Set(big, i, i);
            }

            IntMap<int>? changed = IntMap<int>.Set(IntMap<int>.Remove(big, 500), 70_000, -1);
            long before = WorkMeter.Count;
            IntMap<int>? merged = IntMap<int>.Merge(big, changed, (_, x, y) => Math.Max(x, y), null, null);
            long work = WorkMeter.Count - before;

            Assert.True(work < 200, $"merging two maps of 100,000 entries that differ in two took {work} steps");
            Assert.True(ReferenceEquals(merged, big), "a merge that changes nothing gives back its left map");
            Assert.True(IntMap<int>.SameAs(big, IntMap<int>.Set(big, 3, 3), (x, y) => x == y));
        }

        private static (IntMap<int>?, Dictionary<int, int>) RandomMap(Random random, int range)
        {
            IntMap<int>? map = null;
            var model = new Dictionary<int, int>();
            int count = random.Next(40);
            for (int i = 0; i < count; i++)
            {
                int key = random.Next(range), value = random.Next(1, 100);
                map = IntMap<int>.Set(map, key, value);
                model[key] = value;
            }

            return (map, model);
        }

        private static (IntMap<int>?, Dictionary<int, int>) Derived(Random random, IntMap<int>? map, Dictionary<int, int> model, int range)
        {
            var copy = new Dictionary<int, int>(model);
            int edits = random.Next(5);
            for (int i = 0; i < edits; i++)
            {
                int key = copy.Count > 0 && random.Next(2) == 0 ? copy.Keys.ElementAt(random.Next(copy.Count)) : random.Next(range);
                if (random.Next(3) == 0)
                {
                    map = IntMap<int>.Remove(map, key);
                    copy.Remove(key);
                }
                else
                {
                    int value = random.Next(1, 100);
                    map = IntMap<int>.Set(map, key, value);
                    copy[key] = value;
                }
            }

            return (map, copy);
        }

        private static void AssertSame(Dictionary<int, int> expected, IntMap<int>? actual)
        {
            var entries = new List<KeyValuePair<int, int>>();
            foreach (KeyValuePair<int, int> entry in IntMap<int>.Entries(actual))
            {
                entries.Add(entry);
            }

            Assert.Equal(expected.OrderBy(p => p.Key).ToList(), entries);
            Assert.Equal(expected.Count, IntMap<int>.CountOf(actual));
            foreach (KeyValuePair<int, int> pair in expected)
            {
                Assert.True(IntMap<int>.TryGet(actual, pair.Key, out int value) && value == pair.Value);
            }
        }
    }
}
