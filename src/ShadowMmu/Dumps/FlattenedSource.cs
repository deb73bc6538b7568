using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace ShadowMmu.Dumps;

/// <summary>
/// makedumpfile's flattened format, which QEMU up to 8.1 writes for every kdump-compressed dump (and makedumpfile -F
/// for kdump or ELF): a 4 KiB header ("makedumpfile", type 1, version 1, big-endian), then records of a big-endian
/// (offset, size) and size bytes, each to be written at offset of the plain file, ended by (-1, -1). This source
/// presents that plain file without writing it: bytes no record wrote read as zeros, a later record wins over an
/// earlier one (as writing them in order would).
/// </summary>
internal sealed class FlattenedSource : DumpSource
{
    public const int HeaderSize = 4096;
    private static readonly byte[] Signature = "makedumpfile"u8.ToArray();

    private readonly DumpSource _file;
    private readonly List<Extent> _extents;   // sorted by Start, not overlapping
    private readonly long _length;

    private FlattenedSource(DumpSource file, List<Extent> extents, long length)
        : base(file.Path)
    {
        _file = file;
        _extents = extents;
        _length = length;
    }

    public override long Length => _length;

    public static bool Matches(ReadOnlySpan<byte> head) =>
        head.Length >= 32 && head[..Signature.Length].SequenceEqual(Signature) && head[Signature.Length] == 0;

    public static FlattenedSource Open(DumpSource file)
    {
        Span<byte> header = stackalloc byte[32];
        file.ReadExactly(0, header, "the flattened header");
        long type = BinaryPrimitives.ReadInt64BigEndian(header[16..]);
        long version = BinaryPrimitives.ReadInt64BigEndian(header[24..]);
        if (type != 1 || version != 1)
        {
            throw file.Problem($"flattened makedumpfile header has type {type} and version {version}; only type 1 version 1 exists");
        }

        var extents = new List<Extent>();
        long length = 0;
        long position = HeaderSize;
        Span<byte> record = stackalloc byte[16];
        while (true)
        {
            if (position > file.Length - 16)
            {
                throw file.Problem($"flattened data ends at offset 0x{position:x} without its end marker (the file is truncated)");
            }

            file.ReadExactly(position, record, "a flattened record header");
            long offset = BinaryPrimitives.ReadInt64BigEndian(record);
            long size = BinaryPrimitives.ReadInt64BigEndian(record[8..]);
            position += 16;
            if (offset == -1 && size == -1)
            {
                break;
            }

            if (offset < 0 || size < 0 || offset > long.MaxValue - size)
            {
                throw file.Problem($"flattened record at offset 0x{position - 16:x} has offset {offset} and size {size}");
            }

            if (size > file.Length - position)
            {
                throw file.Problem($"flattened record at offset 0x{position - 16:x} holds 0x{size:x} bytes, past the end of the file");
            }

            if (size > 0)
            {
                Add(extents, new Extent(offset, size, position));
                length = Math.Max(length, offset + size);
            }

            position += size;
        }

        return new FlattenedSource(file, extents, length);
    }

    public override long NextData(long offset)
    {
        int i = FindFirstEndingAfter(offset);
        return i == _extents.Count ? _length : Math.Max(offset, _extents[i].Start);
    }

    protected override void ReadCore(long offset, Span<byte> destination)
    {
        int i = FindFirstEndingAfter(offset);
        while (!destination.IsEmpty)
        {
            if (i == _extents.Count || _extents[i].Start > offset)
            {
                long gapEnd = i == _extents.Count ? long.MaxValue : _extents[i].Start;
                int zeros = (int)Math.Min(destination.Length, gapEnd - offset);
                destination[..zeros].Clear();
                destination = destination[zeros..];
                offset += zeros;
                continue;
            }

            Extent extent = _extents[i];
            int count = (int)Math.Min(destination.Length, extent.End - offset);
            _file.ReadExactly(extent.FileOffset + (offset - extent.Start), destination[..count], "flattened data");
            destination = destination[count..];
            offset += count;
            i++;
        }
    }

    /// <summary>Adds a record, trimming or dropping what earlier records wrote where it writes.</summary>
    private static void Add(List<Extent> extents, Extent added)
    {
        if (extents.Count == 0 || extents[^1].End <= added.Start)
        {
            extents.Add(added);   // the usual case: records come in file order
            return;
        }

        // QEMU interleaves its two bitmaps' records, so records also come back to earlier offsets.
        int first = FindFirstEndingAfter(extents, added.Start);
        int last = first;
        var replacement = new List<Extent>(3);
        while (last < extents.Count && extents[last].Start < added.End)
        {
            Extent e = extents[last];
            if (e.Start < added.Start)
            {
                replacement.Add(e with { Size = added.Start - e.Start });
            }

            if (e.End > added.End)
            {
                replacement.Add(new Extent(added.End, e.End - added.End, e.FileOffset + (added.End - e.Start)));
            }

            last++;
        }

        int at = replacement.Count > 0 && replacement[0].Start < added.Start ? 1 : 0;
        replacement.Insert(at, added);
        extents.RemoveRange(first, last - first);
        extents.InsertRange(first, replacement);
    }

    private int FindFirstEndingAfter(long offset) => FindFirstEndingAfter(_extents, offset);

    private static int FindFirstEndingAfter(List<Extent> extents, long offset)
    {
        int lo = 0, hi = extents.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (extents[mid].End <= offset)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private readonly record struct Extent(long Start, long Size, long FileOffset)
    {
        public long End => Start + Size;
    }
}
