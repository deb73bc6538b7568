using System;
using System.Buffers;
using System.Threading.Tasks;

namespace ShadowMmu.Dumps;

/// <summary>
/// Copies file ranges into a region, a chunk at a time: holes of a sparse file are skipped without reading, and
/// pages that read as zero are not written, so they stay uncommitted (a multi-GB dump of a mostly idle guest
/// costs what its used pages cost).
/// </summary>
internal static unsafe class SegmentCopier
{
    private const int ChunkSize = 1 << 20;
    private const int Block = 4096;
    private const ulong PieceSize = 64UL << 20;

    /// <summary>Copies <paramref name="length"/> bytes from <paramref name="fileOffset"/> to <paramref name="gpa"/>, in 64 MiB pieces on every core.</summary>
    public static void Copy(DumpSource source, long fileOffset, NativeRegion region, ulong gpa, ulong length, OpenProgress progress)
    {
        if (length <= PieceSize)
        {
            CopyPiece(source, fileOffset, region, gpa, length, progress);
            return;
        }

        long pieces = (long)((length + PieceSize - 1) / PieceSize);
        Parallel.For(0L, pieces, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, piece =>
        {
            ulong start = (ulong)piece * PieceSize;
            CopyPiece(source, fileOffset + (long)start, region, gpa + start, Math.Min(PieceSize, length - start), progress);
        });
    }

    private static void CopyPiece(DumpSource source, long fileOffset, NativeRegion region, ulong gpa, ulong length, OpenProgress progress)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            ulong done = 0;
            while (done < length)
            {
                long at = fileOffset + (long)done;
                long data = source.NextData(at);
                if (data > at)
                {
                    ulong skip = Math.Min(length - done, (ulong)(data - at));
                    progress.Add((long)skip);
                    done += skip;
                    continue;
                }

                int count = (int)Math.Min((ulong)ChunkSize, length - done);
                Span<byte> chunk = buffer.AsSpan(0, count);
                source.ReadExactly(at, chunk, "segment data");
                for (int offset = 0; offset < count; offset += Block)
                {
                    ReadOnlySpan<byte> block = chunk.Slice(offset, Math.Min(Block, count - offset));
                    if (block.IndexOfAnyExcept((byte)0) >= 0)
                    {
                        block.CopyTo(new Span<byte>(region.Start + gpa + done + (ulong)offset, block.Length));
                    }
                }

                progress.Add(count);
                done += (ulong)count;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
