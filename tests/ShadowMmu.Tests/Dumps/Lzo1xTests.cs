using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using ShadowMmu.Dumps;
using Xunit;

namespace ShadowMmu.Tests.Dumps;

/// <summary>
/// The LZO1X decompressor on liblzo2's own output (the pages of the LZO capture): each page decompresses to what
/// the ELF holds, and seeded mutations of them (bit flips, truncations, random runs, random streams) end in -1 or
/// a length within the output, never an exception or a write outside it.
/// </summary>
public sealed class Lzo1xTests
{
    [Fact]
    public void LiblzoPagesDecompressToTheGuestsBytes()
    {
        List<(ulong Pfn, byte[] Stored)> pages = LzoPages();
        using MemoryDump elf = MemoryDump.Open(DumpFixtures.Path("long4", "elf"));
        var page = new byte[4096];
        var expected = new byte[4096];
        Assert.True(pages.Count > 10);
        foreach ((ulong pfn, byte[] stored) in pages)
        {
            Assert.Equal(4096, Lzo1x.Decompress(stored, page));
            elf.Memory.Read(pfn * 4096, expected);
            Assert.Equal(expected, page);
            Assert.Equal(-1, Lzo1x.Decompress(stored, page.AsSpan(0, 4095)));   // one byte short of room
        }
    }

    [Fact]
    public void MutatedStreamsFailCleanly()
    {
        List<(ulong Pfn, byte[] Stored)> pages = LzoPages();
        var output = new byte[4096 + 64];
        int failed = 0;
        for (int @case = 0; @case < 20000; @case++)
        {
            var random = new Random(@case);
            byte[] stream = (byte[])pages[random.Next(pages.Count)].Stored.Clone();
            switch (random.Next(4))
            {
                case 0:
                    for (int i = random.Next(1, 6); i > 0; i--)
                    {
                        stream[random.Next(stream.Length)] ^= (byte)(1 << random.Next(8));
                    }

                    break;
                case 1:
                    stream = stream.AsSpan(0, random.Next(stream.Length)).ToArray();
                    break;
                case 2:
                    random.NextBytes(stream.AsSpan(random.Next(stream.Length)));
                    break;
                default:
                    stream = new byte[random.Next(1, 300)];
                    random.NextBytes(stream);
                    break;
            }

            output.AsSpan(4096).Fill(0xEE);
            int written = Lzo1x.Decompress(stream, output.AsSpan(0, 4096));
            Assert.InRange(written, -1, 4096);
            Assert.All(output[4096..], b => Assert.Equal(0xEE, b));
            failed += written < 0 ? 1 : 0;
        }

        Assert.True(failed > 10000, $"only {failed} of 20000 mutated streams were refused");
    }

    /// <summary>Every page the LZO capture stores compressed (flags 2), with its pfn.</summary>
    private static List<(ulong Pfn, byte[] Stored)> LzoPages()
    {
        byte[] flat = File.ReadAllBytes(DumpFixtures.Path("long4", "kdump-lzo-flat"));
        var source = new MemorySource("lzo", flat);
        DumpSource plainSource = FlattenedSource.Open(source);
        var plain = new byte[plainSource.Length];
        plainSource.ReadExactly(0, plain, "the plain file");
        int sub = BinaryPrimitives.ReadInt32LittleEndian(plain.AsSpan(432));
        int bitmapBlocks = BinaryPrimitives.ReadInt32LittleEndian(plain.AsSpan(436));
        int half = bitmapBlocks * 4096 / 2;
        int bitmap = (1 + sub) * 4096 + half;
        int descriptors = (1 + sub + bitmapBlocks) * 4096;
        var pages = new List<(ulong, byte[])>();
        int index = 0;
        for (ulong pfn = 0; pfn < (ulong)half * 8; pfn++)
        {
            if ((plain[bitmap + (int)(pfn / 8)] & (1 << (int)(pfn % 8))) == 0)
            {
                continue;
            }

            ReadOnlySpan<byte> d = plain.AsSpan(descriptors + (24 * index++), 24);
            if (BinaryPrimitives.ReadUInt32LittleEndian(d[12..]) == 2)
            {
                int offset = (int)BinaryPrimitives.ReadUInt64LittleEndian(d);
                int size = BinaryPrimitives.ReadInt32LittleEndian(d[8..]);
                pages.Add((pfn, plain.AsSpan(offset, size).ToArray()));
            }
        }

        return pages;
    }
}
