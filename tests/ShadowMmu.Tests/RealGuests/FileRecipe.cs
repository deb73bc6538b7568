using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;

namespace ShadowMmu.Tests.RealGuests;

/// <summary>Guest-physical memory of one stop: regions (the pmemsave image at 0, the BIOS ROM the ELF dump adds), page by page.</summary>
internal sealed class StopMemory
{
    private readonly PageStore _store;
    private readonly (ulong Base, uint[] Ids)[] _regions;

    public StopMemory(PageStore store, IEnumerable<(ulong Base, uint[] Ids)> regions)
    {
        _store = store;
        _regions = regions.ToArray();
    }

    /// <summary>The page id of the frame holding <paramref name="paddr"/> (0: a zero page).</summary>
    public uint PageId(ulong paddr)
    {
        foreach ((ulong start, uint[] ids) in _regions)
        {
            if (paddr >= start && paddr - start < (ulong)ids.Length * PageStore.PageSize)
            {
                return ids[(paddr - start) / PageStore.PageSize];
            }
        }

        throw new InvalidDataException($"0x{paddr:x} is in no region of the fixture");
    }

    /// <summary>Copies the page at <paramref name="paddr"/> (page aligned) into <paramref name="page"/>.</summary>
    public void ReadPage(ulong paddr, Span<byte> page)
    {
        uint id = PageId(paddr);
        if (id == 0)
        {
            page.Clear();
        }
        else
        {
            _store.Page(id).CopyTo(page);
        }
    }

    /// <summary>Writes the region at <paramref name="regionBase"/> as a raw image: zero pages are left as holes.</summary>
    public void WriteRaw(string path, ulong regionBase)
    {
        (ulong _, uint[] ids) = _regions.Single(r => r.Base == regionBase);
        using SafeFileHandle file = File.OpenHandle(path, FileMode.Create, FileAccess.Write);
        RandomAccess.SetLength(file, (long)ids.Length * PageStore.PageSize);
        for (int frame = 0; frame < ids.Length; frame++)
        {
            if (ids[frame] != 0)
            {
                RandomAccess.Write(file, _store.Page(ids[frame]), (long)frame * PageStore.PageSize);
            }
        }
    }
}

/// <summary>
/// A file as pack.py keeps it: pieces that are literal bytes, a slice of guest memory, or a slice of the zlib blob
/// of one page (QEMU's <c>compress2(page, Z_BEST_SPEED)</c>), then the literal bytes. Format: "SMRECIPE1\n",
/// varint piece count, each piece (kind byte, varints: 0 length | 1 paddr length | 2 paddr skip length), varint
/// literal length, the literals.
/// </summary>
internal sealed class FileRecipe
{
    private const int Literal = 0, Memory = 1, Deflated = 2;
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("SMRECIPE1\n");

    private static readonly ConcurrentDictionary<uint, byte[]> BlobsByPageId = new();

    private readonly List<(int Kind, ulong A, ulong B, ulong C)> _pieces = new();
    private readonly byte[] _bytes;
    private readonly int _literalStart;

    private FileRecipe(byte[] bytes)
    {
        _bytes = bytes;
        if (!bytes.AsSpan().StartsWith(Magic))
        {
            throw new InvalidDataException("not a fixture recipe");
        }

        int at = Magic.Length;
        ulong count = ReadVarint(bytes, ref at);
        for (ulong i = 0; i < count; i++)
        {
            int kind = bytes[at++];
            switch (kind)
            {
                case Literal:
                    _pieces.Add((kind, ReadVarint(bytes, ref at), 0, 0));
                    break;
                case Memory:
                    _pieces.Add((kind, ReadVarint(bytes, ref at), ReadVarint(bytes, ref at), 0));
                    break;
                case Deflated:
                    _pieces.Add((kind, ReadVarint(bytes, ref at), ReadVarint(bytes, ref at), ReadVarint(bytes, ref at)));
                    break;
                default:
                    throw new InvalidDataException($"recipe piece kind {kind}");
            }
        }

        ulong literalLength = ReadVarint(bytes, ref at);
        if ((ulong)(bytes.Length - at) != literalLength)
        {
            throw new InvalidDataException("recipe literals do not match their length");
        }

        _literalStart = at;
    }

    public static FileRecipe Load(string path) => new(PageStore.ReadBrotli(path));

    /// <summary>Writes the file; zero memory is left as holes in the pre-sized file.</summary>
    public void Write(string path, long size, StopMemory memory)
    {
        IReadOnlyDictionary<ulong, byte[]> blobs = DeflatePages(memory);
        using SafeFileHandle file = File.OpenHandle(path, FileMode.Create, FileAccess.Write);
        RandomAccess.SetLength(file, size);
        long offset = 0;
        int literal = _literalStart;
        var page = new byte[PageStore.PageSize];
        foreach ((int kind, ulong a, ulong b, ulong c) in _pieces)
        {
            switch (kind)
            {
                case Literal:
                    RandomAccess.Write(file, _bytes.AsSpan(literal, (int)a), offset);
                    literal += (int)a;
                    offset += (long)a;
                    break;
                case Memory:
                    for (ulong done = 0; done < b;)
                    {
                        ulong paddr = a + done;
                        ulong inPage = paddr % PageStore.PageSize;
                        int take = (int)Math.Min(b - done, PageStore.PageSize - inPage);
                        if (memory.PageId(paddr - inPage) != 0)
                        {
                            memory.ReadPage(paddr - inPage, page);
                            RandomAccess.Write(file, page.AsSpan((int)inPage, take), offset);
                        }

                        offset += take;
                        done += (ulong)take;
                    }

                    break;
                default:
                    RandomAccess.Write(file, blobs[a].AsSpan((int)b, (int)c), offset);
                    offset += (long)c;
                    break;
            }
        }

        if (offset != size)
        {
            throw new InvalidDataException($"the recipe wrote {offset} bytes, the file has {size}");
        }
    }

    /// <summary>
    /// Every page the recipe wants deflated, compressed on all cores (a deflater per thread). A page's blob depends
    /// on its bytes only, so blobs are kept by page id for the test run: the two stops of a guest share most pages.
    /// </summary>
    private IReadOnlyDictionary<ulong, byte[]> DeflatePages(StopMemory memory)
    {
        ulong[] pages = _pieces.Where(p => p.Kind == Deflated).Select(p => p.A).Distinct().ToArray();
        var blobs = new ConcurrentDictionary<ulong, byte[]>();
        Parallel.ForEach(
            pages,
            () => (Deflater: new ZlibLevel1Deflater(), Page: new byte[PageStore.PageSize]),
            (paddr, _, local) =>
            {
                blobs[paddr] = BlobsByPageId.GetOrAdd(memory.PageId(paddr), _ =>
                {
                    memory.ReadPage(paddr, local.Page);
                    return local.Deflater.Compress(local.Page);
                });
                return local;
            },
            _ => { });
        return blobs;
    }

    private static ulong ReadVarint(byte[] bytes, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = bytes[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }
}
