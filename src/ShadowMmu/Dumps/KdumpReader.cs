using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Numerics;
using System.Text;
using System.Threading.Tasks;

namespace ShadowMmu.Dumps;

/// <summary>
/// The kdump-compressed format (makedumpfile's diskdump layout; QEMU's dump-guest-memory -z/-l/-s): block 0 the
/// disk_dump_header ("KDUMP   "), block 1 the kdump_sub_header with the notes and VMCOREINFO, then two bitmaps of
/// bitmap_blocks/2 blocks each (the second says which pfns are dumped), then one 24-byte page descriptor (offset,
/// size, flags, page_flags) per dumped pfn in pfn order, then the pages. Header and sub-header come in a 64-bit
/// layout and a 32-bit one (QEMU picks by ELF class, which is 64 for every PC guest: its firmware ROM ends at
/// 4 GiB); both are read. Pages decompress on every core; a page that does not decompress is unreadable, not fatal.
/// </summary>
internal static class KdumpReader
{
    private const int PageSize = 4096;
    private const int DescriptorSize = 24;
    private const int PagesPerChunk = 8192;
    private const uint StatusIncomplete = 0x8;
    private const int MaxNotesBytes = 64 << 20;
    private static readonly byte[] Signature = "KDUMP   "u8.ToArray();

    public static bool Matches(ReadOnlySpan<byte> head) => head.Length >= 8 && head[..8].SequenceEqual(Signature);

    public static unsafe MemoryDump Read(DumpSource source, string layout, Action<long, long>? progress)
    {
        Header header = ReadHeader(source);
        long bitmapOffset = (1L + header.SubHeaderBlocks) * PageSize;
        long bitmapBytes = (long)header.BitmapBlocks * PageSize;
        long descriptorsOffset = bitmapOffset + bitmapBytes;
        if (header.BitmapBlocks == 0 || header.BitmapBlocks % 2 != 0)
        {
            throw source.Problem($"kdump header has bitmap_blocks {header.BitmapBlocks}; it must be a positive even number (two bitmaps)");
        }

        if (descriptorsOffset > source.Length)
        {
            throw source.Problem($"kdump header places the bitmaps at 0x{bitmapOffset:x}..0x{descriptorsOffset:x}, past the end of the file (0x{source.Length:x} bytes)");
        }

        // The second bitmap says which pfns the file holds.
        long half = bitmapBytes / 2;
        ulong pfnLimit = Math.Min(header.MaxMapnr, (ulong)half * 8);
        var dumpable = new byte[(pfnLimit + 7) / 8];
        source.ReadExactly(bitmapOffset + half, dumpable, "the kdump dump bitmap");
        if (pfnLimit % 8 != 0)
        {
            dumpable[^1] &= (byte)((1 << (int)(pfnLimit % 8)) - 1);
        }

        if (header.Split)
        {
            // One file of makedumpfile --split: it holds the descriptors of its pfn range only.
            KeepOnly(dumpable, header.SplitStartPfn, header.SplitEndPfn);
        }

        (long dumped, ulong lastPfn, List<ulong> chunkStarts) = Survey(dumpable);
        if (dumped == 0)
        {
            throw source.Problem("kdump dump bitmap lists no page");
        }

        if (dumped > (source.Length - descriptorsOffset) / DescriptorSize)
        {
            throw source.Problem($"kdump file lists {dumped} pages but their descriptors at 0x{descriptorsOffset:x} run past the end of the file (0x{source.Length:x} bytes): the dump is truncated");
        }

        ElfNotes.Result notes = ReadNotes(source, header);
        VmcoreInfo? vmcoreInfo = ReadVmcoreInfo(source, header) ?? notes.VmcoreInfo;
        ulong span = (lastPfn + 1) * PageSize;
        NativeRegion region = NativeRegion.ReserveFor(source, span, "its highest dumped page");
        try
        {
            var opening = new OpenProgress(progress, dumped * PageSize);
            var results = new ChunkResult[chunkStarts.Count];
            var context = new Context(source, region, dumpable, descriptorsOffset, dumped, opening);
            if (chunkStarts.Count == 1)
            {
                results[0] = DecompressChunk(context, new PageDecompressor(PageSize), 0, chunkStarts[0]);
            }
            else
            {
                Parallel.For(0, chunkStarts.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
                    () => new PageDecompressor(PageSize),
                    (chunk, _, decompressor) =>
                    {
                        results[chunk] = DecompressChunk(context, decompressor, chunk, chunkStarts[chunk]);
                        return decompressor;
                    },
                    _ => { });
            }
            opening.Finish();

            var present = new RangeSetBuilder();
            var unreadable = new List<ulong>();
            foreach (ChunkResult result in results)
            {
                foreach (PhysicalRange range in result.Present)
                {
                    present.Add(range.Start, range.End);
                }

                unreadable.AddRange(result.Unreadable);
            }

            var warnings = new List<string>();
            if (unreadable.Count > 0)
            {
                warnings.Add($"{unreadable.Count} of {dumped} pages could not be read (they did not decompress or point past the file): reported unreadable");
            }

            if ((header.Status & StatusIncomplete) != 0)
            {
                warnings.Add("the kdump header marks the dump incomplete (its writer stopped early)");
            }

            DumpMachine machine = notes.PrStatusMachine != DumpMachine.Unknown ? notes.PrStatusMachine : header.UtsMachine;
            var compression = (KdumpCompression)(header.Status & 0x27);
            string description = $"kdump-compressed ({layout}, {CompressionName(compression)}, header version {header.Version}, {(header.Is64 ? 64 : 32)}-bit layout), {DumpDescription.Machine(machine)}, {DumpDescription.Cpus(notes.Cpus.Count)}";
            return new MemoryDump(source.Path, DumpFormat.Kdump, description, GuestMemory.FromRegion(region.Start, span, region),
                present.Build(), unreadable.ToArray(), notes.Cpus, machine, vmcoreInfo, compression, warnings);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    private static string CompressionName(KdumpCompression compression) => compression switch
    {
        KdumpCompression.None => "uncompressed",
        _ => compression.ToString().ToLowerInvariant().Replace(", ", "+", StringComparison.Ordinal),
    };

    private static Header ReadHeader(DumpSource source)
    {
        var block = new byte[Math.Min(PageSize, source.Length)];
        source.ReadExactly(0, block, "the kdump header");
        if (block.Length < 464)
        {
            throw source.Problem($"kdump header is truncated (the file has 0x{source.Length:x} bytes)");
        }

        // disk_dump_header: 64-bit layout (timeval of 16 bytes, 8-aligned) or 32-bit (8 bytes, 4-aligned).
        bool is64 = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(428)) == PageSize;
        bool is32 = BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(416)) == PageSize;
        if (!is64 && !is32)
        {
            throw source.Problem($"kdump header has block size {BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(428))} (64-bit layout) or {BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(416))} (32-bit); only 4096-byte pages (x86) are read");
        }

        int at = is64 ? 424 : 412;
        uint U32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(block.AsSpan(offset));
        var header = new Header
        {
            Is64 = is64,
            Version = U32(8),
            Status = U32(at),
            SubHeaderBlocks = U32(at + 8),
            BitmapBlocks = U32(at + 12),
            MaxMapnr = U32(at + 16),
            UtsMachine = Machine(block.AsSpan(12 + (4 * 65), 65)),
        };
        if (header.SubHeaderBlocks > int.MaxValue / PageSize || header.BitmapBlocks > int.MaxValue)
        {
            throw source.Problem($"kdump header has sub_hdr_size {header.SubHeaderBlocks} and bitmap_blocks {header.BitmapBlocks} blocks, more than any file holds");
        }

        if ((header.Status & PageDecompressor.FlagZstd) != 0)
        {
            throw source.Problem("kdump pages are zstd-compressed (makedumpfile -z), which this tool cannot decompress");
        }

        // kdump_sub_header (block 1): packed, the same in makedumpfile's natural alignment on either word size.
        var sub = new byte[is64 ? 104 : 80];
        if (source.Length < PageSize + sub.Length)
        {
            throw source.Problem($"kdump sub-header at 0x{PageSize:x} lies past the end of the file (0x{source.Length:x} bytes)");
        }

        source.ReadExactly(PageSize, sub, "the kdump sub-header");
        ulong U64(int offset) => BinaryPrimitives.ReadUInt64LittleEndian(sub.AsSpan(offset));
        uint S32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(sub.AsSpan(offset));
        if (is64)
        {
            (header.VmcoreInfoOffset, header.VmcoreInfoSize, header.NoteOffset, header.NoteSize) = (U64(32), U64(40), U64(48), U64(56));
            header.Split = header.Version >= 2 && S32(12) != 0;
            (header.SplitStartPfn, header.SplitEndPfn) = header.Version >= 6 ? (U64(80), U64(88)) : (U64(16), U64(24));
            if (header.Version >= 6)
            {
                header.MaxMapnr = U64(96);
            }
        }
        else
        {
            (header.VmcoreInfoOffset, header.VmcoreInfoSize, header.NoteOffset, header.NoteSize) = (U64(20), S32(28), U64(32), S32(40));
            header.Split = header.Version >= 2 && S32(8) != 0;
            (header.SplitStartPfn, header.SplitEndPfn) = header.Version >= 6 ? (U64(56), U64(64)) : (S32(12), S32(16));
            if (header.Version >= 6)
            {
                header.MaxMapnr = U64(72);
            }
        }

        return header;
    }

    private static DumpMachine Machine(ReadOnlySpan<byte> utsMachine)
    {
        int nul = utsMachine.IndexOf((byte)0);
        string name = Encoding.ASCII.GetString(nul < 0 ? utsMachine : utsMachine[..nul]);
        return name switch
        {
            "x86_64" => DumpMachine.X86_64,
            "i386" or "i486" or "i586" or "i686" => DumpMachine.I386,
            _ => DumpMachine.Unknown,
        };
    }

    private static ElfNotes.Result ReadNotes(DumpSource source, Header header)
    {
        if (header.Version < 4 || header.NoteSize == 0)
        {
            return new ElfNotes.Result();
        }

        byte[] notes = ReadArea(source, header.NoteOffset, header.NoteSize, "notes");
        return ElfNotes.Parse(source, notes, "the kdump notes");
    }

    private static VmcoreInfo? ReadVmcoreInfo(DumpSource source, Header header)
    {
        if (header.Version < 3 || header.VmcoreInfoSize == 0)
        {
            return null;
        }

        return VmcoreInfo.Parse(ReadArea(source, header.VmcoreInfoOffset, header.VmcoreInfoSize, "VMCOREINFO"));
    }

    private static byte[] ReadArea(DumpSource source, ulong offset, ulong size, string what)
    {
        if (size > MaxNotesBytes || offset > (ulong)source.Length || size > (ulong)source.Length - offset)
        {
            throw source.Problem($"kdump sub-header places its {what} (0x{size:x} bytes at offset 0x{offset:x}) past the end of the file (0x{source.Length:x} bytes)");
        }

        var bytes = new byte[size];
        source.ReadExactly((long)offset, bytes, $"the kdump {what}");
        return bytes;
    }

    /// <summary>Clears the bits of pfns outside [<paramref name="start"/>, <paramref name="end"/>).</summary>
    private static void KeepOnly(byte[] bitmap, ulong start, ulong end)
    {
        for (int i = 0; i < bitmap.Length; i++)
        {
            ulong first = (ulong)i * 8;
            if (first >= start && first + 8 <= end)
            {
                continue;
            }

            int keep = 0;
            for (int bit = 0; bit < 8; bit++)
            {
                if (first + (ulong)bit >= start && first + (ulong)bit < end)
                {
                    keep |= 1 << bit;
                }
            }

            bitmap[i] &= (byte)keep;
        }
    }

    /// <summary>How many pfns are dumped, the last one, and the pfn each chunk of <see cref="PagesPerChunk"/> descriptors starts at.</summary>
    private static (long Dumped, ulong LastPfn, List<ulong> ChunkStarts) Survey(byte[] bitmap)
    {
        var starts = new List<ulong>();
        long dumped = 0;
        ulong last = 0;
        for (int i = 0; i < bitmap.Length; i++)
        {
            byte bits = bitmap[i];
            while (bits != 0)
            {
                int bit = BitOperations.TrailingZeroCount(bits);
                bits &= (byte)(bits - 1);
                ulong pfn = ((ulong)i * 8) + (ulong)bit;
                if (dumped % PagesPerChunk == 0)
                {
                    starts.Add(pfn);
                }

                dumped++;
                last = pfn;
            }
        }

        return (dumped, last, starts);
    }

    private static unsafe ChunkResult DecompressChunk(Context context, PageDecompressor decompressor, int chunk, ulong firstPfn)
    {
        long firstDescriptor = (long)chunk * PagesPerChunk;
        int count = (int)Math.Min(PagesPerChunk, context.Dumped - firstDescriptor);
        byte[] descriptors = ArrayPool<byte>.Shared.Rent(count * DescriptorSize);
        byte[] stored = ArrayPool<byte>.Shared.Rent(2 * PageSize);
        byte[] page = ArrayPool<byte>.Shared.Rent(PageSize);
        try
        {
            return DecompressChunk(context, decompressor, firstPfn, count, firstDescriptor, descriptors, stored.AsSpan(0, 2 * PageSize), page.AsSpan(0, PageSize));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(descriptors);
            ArrayPool<byte>.Shared.Return(stored);
            ArrayPool<byte>.Shared.Return(page);
        }
    }

    private static unsafe ChunkResult DecompressChunk(Context context, PageDecompressor decompressor, ulong firstPfn, int count,
        long firstDescriptor, byte[] descriptors, Span<byte> stored, Span<byte> page)
    {
        context.Source.ReadExactly(context.DescriptorsOffset + (firstDescriptor * DescriptorSize), descriptors.AsSpan(0, count * DescriptorSize), "kdump page descriptors");
        var present = new RangeSetBuilder();
        var unreadable = new List<ulong>();
        long zeroPageOffset = -1;   // QEMU points every zero page at one stored zero page: read it once
        ulong pfn = firstPfn;
        for (int i = 0; i < count; i++, pfn++)
        {
            pfn = NextDumped(context.Bitmap, pfn);
            ReadOnlySpan<byte> d = descriptors.AsSpan(i * DescriptorSize, DescriptorSize);
            long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(d);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(d[8..]);
            uint flags = BinaryPrimitives.ReadUInt32LittleEndian(d[12..]);
            ulong gpa = pfn * PageSize;
            bool known = offset == zeroPageOffset && flags == 0 && size == PageSize;
            if (!known)
            {
                if (size == 0 || size > stored.Length || offset < 0 || offset > context.Source.Length - size)
                {
                    unreadable.Add(gpa);
                    continue;
                }

                context.Source.ReadExactly(offset, stored[..(int)size], "a kdump page");
                if (!decompressor.TryDecompress(flags, stored[..(int)size], page))
                {
                    unreadable.Add(gpa);
                    continue;
                }

                if (page.IndexOfAnyExcept((byte)0) >= 0)
                {
                    page.CopyTo(new Span<byte>(context.Region.Start + gpa, PageSize));
                }
                else if (flags == 0)
                {
                    zeroPageOffset = offset;
                }
            }

            present.Add(gpa, gpa + PageSize);
        }

        context.Progress.Add((long)count * PageSize);
        return new ChunkResult(present.Build(), unreadable);
    }

    /// <summary>The first dumped pfn at or after <paramref name="pfn"/> (one exists: the descriptors were counted from the bitmap).</summary>
    private static ulong NextDumped(byte[] bitmap, ulong pfn)
    {
        int index = (int)(pfn / 8);
        int bits = bitmap[index] & (0xff << (int)(pfn % 8));
        while (bits == 0)
        {
            // skip a hole a word at a time: a 4 GiB PCI hole is a million clear bits
            index++;
            while (index + 8 <= bitmap.Length && BinaryPrimitives.ReadUInt64LittleEndian(bitmap.AsSpan(index)) == 0)
            {
                index += 8;
            }

            bits = bitmap[index];
        }

        return ((ulong)index * 8) + (ulong)BitOperations.TrailingZeroCount(bits);
    }

    private sealed class Header
    {
        public bool Is64;
        public uint Version;
        public uint Status;
        public uint SubHeaderBlocks;
        public uint BitmapBlocks;
        public ulong MaxMapnr;
        public DumpMachine UtsMachine;
        public ulong VmcoreInfoOffset;
        public ulong VmcoreInfoSize;
        public ulong NoteOffset;
        public ulong NoteSize;
        public bool Split;
        public ulong SplitStartPfn;
        public ulong SplitEndPfn;
    }

    private sealed record Context(DumpSource Source, NativeRegion Region, byte[] Bitmap, long DescriptorsOffset, long Dumped, OpenProgress Progress);

    private sealed record ChunkResult(PhysicalRange[] Present, List<ulong> Unreadable);
}
