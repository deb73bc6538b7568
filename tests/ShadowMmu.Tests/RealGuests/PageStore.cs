using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Threading;

namespace ShadowMmu.Tests.RealGuests;

/// <summary>
/// Every distinct non-zero 4 KiB page of every fixture memory, by id (1-based; 0 is the zero page, never stored).
/// A page file is decompressed the first time one of its pages is asked for, and kept for the test run.
/// </summary>
internal sealed class PageStore
{
    public const int PageSize = 4096;

    private readonly string _directory;
    private readonly IReadOnlyList<PageFileEntry> _files;
    private readonly Lazy<byte[]>[] _loaded;

    public PageStore(string directory, IReadOnlyList<PageFileEntry> files)
    {
        _directory = directory;
        _files = files;
        _loaded = new Lazy<byte[]>[files.Count];
        for (int i = 0; i < files.Count; i++)
        {
            int index = i;
            _loaded[i] = new Lazy<byte[]>(() => LoadFile(index), LazyThreadSafetyMode.ExecutionAndPublication);
        }
    }

    /// <summary>The bytes of page <paramref name="id"/> (not 0).</summary>
    public ReadOnlySpan<byte> Page(uint id)
    {
        for (int i = 0; i < _files.Count; i++)
        {
            PageFileEntry file = _files[i];
            if (id >= file.FirstId && id < (uint)(file.FirstId + file.Count))
            {
                return _loaded[i].Value.AsSpan((int)(id - file.FirstId) * PageSize, PageSize);
            }
        }

        throw new InvalidDataException($"page {id} is in no page file");
    }

    /// <summary>Reads a Brotli file of the fixture store whole.</summary>
    public static byte[] ReadBrotli(string path)
    {
        using FileStream file = File.OpenRead(path);
        using var brotli = new BrotliStream(file, CompressionMode.Decompress);
        using var memory = new MemoryStream();
        brotli.CopyTo(memory);
        return memory.ToArray();
    }

    /// <summary>A page map: one page id per 4 KiB frame of a region.</summary>
    public static uint[] ReadPageMap(string path)
    {
        byte[] bytes = ReadBrotli(path);
        if (bytes.Length % 4 != 0)
        {
            throw new InvalidDataException(path + ": not a page map");
        }

        var ids = new uint[bytes.Length / 4];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4 * i));
        }

        return ids;
    }

    private byte[] LoadFile(int index)
    {
        PageFileEntry file = _files[index];
        byte[] pages = ReadBrotli(Path.Combine(_directory, file.File));
        if (pages.Length != file.Count * PageSize)
        {
            throw new InvalidDataException($"{file.File}: {pages.Length} bytes, the manifest says {file.Count} pages");
        }

        return pages;
    }
}
