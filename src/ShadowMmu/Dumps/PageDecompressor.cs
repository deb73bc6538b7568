using System;
using System.IO;
using System.IO.Compression;

namespace ShadowMmu.Dumps;

/// <summary>Turns one stored kdump page back into its bytes; one per thread (it keeps its buffers).</summary>
internal sealed class PageDecompressor
{
    public const uint FlagZlib = 0x1;
    public const uint FlagLzo = 0x2;
    public const uint FlagSnappy = 0x4;
    public const uint FlagZstd = 0x20;

    private readonly int _pageSize;

    public PageDecompressor(int pageSize) => _pageSize = pageSize;

    /// <summary>
    /// Fills <paramref name="page"/> (one page) from <paramref name="stored"/> as the descriptor's
    /// <paramref name="flags"/> say; false when it does not decompress to exactly one page.
    /// </summary>
    public bool TryDecompress(uint flags, ReadOnlySpan<byte> stored, Span<byte> page)
    {
        try
        {
            if ((flags & FlagZlib) != 0)
            {
                return Zlib(stored, page);
            }

            if ((flags & FlagLzo) != 0)
            {
                return Lzo1x.Decompress(stored, page) == _pageSize;
            }

            if ((flags & FlagSnappy) != 0)
            {
                return Snappier.Snappy.GetUncompressedLength(stored) == _pageSize
                    && Snappier.Snappy.Decompress(stored, page) == _pageSize;
            }

            if ((flags & FlagZstd) != 0 || stored.Length != _pageSize)
            {
                return false;
            }

            stored.CopyTo(page);
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;   // whatever a decoder throws on a corrupt page is that page's problem, not the dump's
        }
    }

    private unsafe bool Zlib(ReadOnlySpan<byte> stored, Span<byte> page)
    {
        fixed (byte* input = stored)
        {
            using var memory = new UnmanagedMemoryStream(input, stored.Length);
            using var zlib = new ZLibStream(memory, CompressionMode.Decompress);
            int read = zlib.ReadAtLeast(page, page.Length, throwOnEndOfStream: false);
            Span<byte> extra = stackalloc byte[1];
            return read == _pageSize && zlib.Read(extra) == 0;
        }
    }
}
