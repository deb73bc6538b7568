using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace ShadowMmu.Dumps;

/// <summary>
/// LiME (what the LiME module and AVML's uncompressed mode write): ranges, each a 32-byte header (magic
/// 0x4C694D45 "EMiL", version 1, start and end guest-physical addresses with end inclusive, 8 reserved bytes)
/// followed by its end - start + 1 bytes. Ranges must ascend without overlapping (as Volatility3 requires too).
/// </summary>
internal static class LimeReader
{
    private const uint Magic = 0x4C694D45;
    private const int HeaderSize = 32;

    public static bool Matches(ReadOnlySpan<byte> head) =>
        head.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(head) == Magic;

    public static unsafe MemoryDump Read(DumpSource source, Action<long, long>? progress)
    {
        var ranges = new List<(ulong Start, ulong Length, long Offset)>();
        Span<byte> header = stackalloc byte[HeaderSize];
        long position = 0;
        ulong previousEnd = 0;
        while (position < source.Length)
        {
            if (source.Length - position < HeaderSize)
            {
                throw source.Problem($"LiME range {ranges.Count} at offset 0x{position:x} has a truncated header");
            }

            source.ReadExactly(position, header, "a LiME header");
            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(header);
            uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            ulong start = BinaryPrimitives.ReadUInt64LittleEndian(header[8..]);
            ulong end = BinaryPrimitives.ReadUInt64LittleEndian(header[16..]);
            if (magic != Magic)
            {
                throw source.Problem($"LiME range {ranges.Count} at offset 0x{position:x} has magic 0x{magic:x8}, not 0x{Magic:x8}");
            }

            if (version != 1)
            {
                throw source.Problem($"LiME range {ranges.Count} at offset 0x{position:x} has version {version}; only version 1 exists");
            }

            if (end < start || end == ulong.MaxValue)
            {
                throw source.Problem($"LiME range {ranges.Count} at offset 0x{position:x} runs from 0x{start:x} to 0x{end:x}");
            }

            if (ranges.Count > 0 && start < previousEnd)
            {
                throw source.Problem($"LiME range {ranges.Count} (0x{start:x}-0x{end:x}) starts below the end of the range before it (0x{previousEnd:x})");
            }

            ulong length = end - start + 1;
            position += HeaderSize;
            if (length > (ulong)(source.Length - position))
            {
                throw source.Problem($"LiME range {ranges.Count} (0x{start:x}-0x{end:x}) holds 0x{length:x} bytes, past the end of the file: the dump is truncated");
            }

            ranges.Add((start, length, position));
            position += (long)length;
            previousEnd = end + 1;
        }

        NativeRegion region = NativeRegion.ReserveFor(source, previousEnd, "its last LiME range");
        try
        {
            var opening = new OpenProgress(progress, source.Length);
            var present = new RangeSetBuilder();
            foreach ((ulong start, ulong length, long offset) in ranges)
            {
                SegmentCopier.Copy(source, offset, region, start, length, opening);
                present.Add(start, start + length);
            }

            opening.Finish();
            string description = ranges.Count == 1 ? "LiME, 1 range" : $"LiME, {ranges.Count} ranges";
            return new MemoryDump(source.Path, DumpFormat.Lime, description, GuestMemory.FromRegion(region.Start, previousEnd, region),
                present.Build(), Array.Empty<ulong>(), Array.Empty<DumpCpuState>(), DumpMachine.Unknown, null,
                KdumpCompression.None, Array.Empty<string>());
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }
}
