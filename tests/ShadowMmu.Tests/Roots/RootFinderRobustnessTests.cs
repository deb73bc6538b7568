using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using ShadowMmu.Dumps;
using ShadowMmu.Roots;
using ShadowMmu.Tests.Dumps;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Roots;

/// <summary>
/// Dumps with no page tables find nothing to be confident about, and no input makes the finder fail: seeded,
/// reproducible fuzzing of real tables with bits flipped, entries overwritten and lengths cut, and of pages filled with
/// entries that look plausible. A failure names the seed and the case.
/// </summary>
public sealed class RootFinderRobustnessTests
{
    private const int Cases = 300;

    private readonly ITestOutputHelper _output;

    public RootFinderRobustnessTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void A_zero_filled_dump_has_no_candidate()
    {
        using MemoryDump dump = MemoryDump.Open(new MemorySource("zero.raw", new byte[16 << 20]), null);

        RootSearch search = RootFinder.Find(dump);

        Assert.Empty(search.Candidates);
        Assert.Null(search.Best);
        Assert.Equal(4096, search.PagesScanned);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_random_dump_has_no_confident_candidate(int seed)
    {
        var bytes = new byte[16 << 20];
        new Random(seed).NextBytes(bytes);
        using MemoryDump dump = MemoryDump.Open(new MemorySource("random.raw", bytes), null);

        RootSearch search = RootFinder.Find(dump);

        Assert.Empty(search.AtLeast(RootConfidence.Medium));
        _output.WriteLine($"seed {seed}: {search.Sightings} root-shaped pages, {search.Candidates.Count} low candidates");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4095)]
    [InlineData(4097)]
    [InlineData(12345)]
    public void Dumps_smaller_than_or_not_a_multiple_of_a_page_are_scanned_whole_pages_only(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        using MemoryDump dump = MemoryDump.Open(new MemorySource("small.raw", bytes), null);

        RootSearch search = RootFinder.Find(dump);

        Assert.Equal(length / 4096, search.PagesScanned);
        Assert.All(search.Candidates, c => Assert.True(c.Root + 32 <= (ulong)length));
    }

    [Fact]
    public void Mutated_page_tables_never_break_the_finder()
    {
        string[] modes = { "long4", "long5", "pae", "legacy32" };
        var seeds = modes.ToDictionary(m => m, m => SyntheticGuest.Build(m, processes: 2).Image.AsSpan(0, 0x280000).ToArray());
        int found = 0;
        for (int @case = 0; @case < Cases; @case++)
        {
            var random = new Random(@case);
            string mode = modes[@case % modes.Length];
            byte[] bytes = Mutate(seeds[mode], random);
            found += Check($"case {@case} ({mode}, {bytes.Length} bytes)", bytes);
        }

        _output.WriteLine($"{Cases} mutated guests, {found} candidates in all");
    }

    [Fact]
    public void Pages_of_plausible_looking_entries_never_break_the_finder()
    {
        for (int @case = 0; @case < Cases / 3; @case++)
        {
            var random = new Random(1000 + @case);
            int pages = random.Next(16, 512);
            var bytes = new byte[pages * 4096];
            int entryBytes = random.Next(2) == 0 ? 4 : 8;
            for (int at = 0; at + entryBytes <= bytes.Length; at += entryBytes)
            {
                if (random.Next(4) != 0)
                {
                    continue;
                }

                // A frame inside the dump (or now and then anywhere), flags that look like a kernel's.
                ulong frame = random.Next(8) == 0 ? (ulong)random.NextInt64() : (ulong)random.Next(pages) << 12;
                ulong entry = (frame & ~0xFFFUL) | new ulong[] { 0x1, 0x3, 0x7, 0x21, 0x63, 0x67, 0xe3, 0x163, 0x25 }[random.Next(9)];
                if (entryBytes == 8)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), entry | (random.Next(3) == 0 ? 1UL << 63 : 0));
                }
                else
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), (uint)entry);
                }
            }

            Check($"case {@case} ({pages} pages of {entryBytes}-byte entries)", bytes);
        }
    }

    // Flips bits in the tables, overwrites entries with others from the image or with plausible ones, cuts or grows the length.
    private static byte[] Mutate(byte[] seed, Random random)
    {
        byte[] bytes = (byte[])seed.Clone();
        int tables = 0x100000, tablesEnd = 0x200000;
        int flips = random.Next(1, 64);
        for (int i = 0; i < flips; i++)
        {
            int at = random.Next(tables, tablesEnd);
            bytes[at] ^= (byte)(1 << random.Next(8));
        }

        int overwrites = random.Next(0, 16);
        for (int i = 0; i < overwrites; i++)
        {
            int at = random.Next(tables, tablesEnd) & ~7;
            ulong value = random.Next(3) switch
            {
                0 => BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(random.Next(tables, tablesEnd) & ~7)),
                1 => ((ulong)random.Next(bytes.Length) & ~0xFFFUL) | 0x67,
                _ => (ulong)random.NextInt64(),
            };
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), value);
        }

        switch (random.Next(4))
        {
            case 0:
                return bytes.AsSpan(0, random.Next(1, bytes.Length)).ToArray();
            case 1:
                var longer = new byte[bytes.Length + random.Next(1, 0x3000)];
                bytes.CopyTo(longer, 0);
                random.NextBytes(longer.AsSpan(bytes.Length));
                return longer;
            default:
                return bytes;
        }
    }

    private static int Check(string what, byte[] bytes)
    {
        RootSearch search;
        using (MemoryDump dump = MemoryDump.Open(new MemorySource("fuzz.raw", bytes), null))
        {
            try
            {
                search = RootFinder.Find(dump);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"{what}: {e}");
            }
        }

        var roots = new HashSet<ulong>();
        foreach (RootCandidate candidate in search.Candidates)
        {
            Assert.True(roots.Add(candidate.Root), $"{what}: 0x{candidate.Root:x} listed twice");
            Assert.True(candidate.Root < (ulong)bytes.Length, $"{what}: 0x{candidate.Root:x} lies outside the dump");
            Assert.InRange(candidate.Score, 0, 100);
            Assert.NotEmpty(candidate.Evidence);
            Assert.True(candidate.PagesMapped > 0 || candidate.Cpus.Count > 0 || candidate.FromVmcoreinfo, $"{what}: {candidate}");
        }

        return search.Candidates.Count;
    }
}
