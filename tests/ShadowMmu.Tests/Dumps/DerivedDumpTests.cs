using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using ShadowMmu.Dumps;
using Xunit;

namespace ShadowMmu.Tests.Dumps;

/// <summary>
/// Formats and variants QEMU 7.2 does not write, built here from its captures: LiME (QEMU cannot write it), ELF32
/// (QEMU picks ELF64 for every PC guest, whose firmware ROM ends at 4 GiB), page-aligned ELF (as /proc/vmcore is),
/// flattened ELF and flattened records out of order (makedumpfile -F), and VMCOREINFO in both places it can be.
/// </summary>
public sealed class DerivedDumpTests
{
    private static readonly string RawPath = DumpFixtures.Path("pae", "raw");

    [Fact]
    public void LimeBuiltFromTheRawCaptureHoldsItsRangesAndBytes()
    {
        byte[] raw = File.ReadAllBytes(RawPath);
        var ranges = new[] { Range(raw, 0, 0xA0000), Range(raw, 0x100000, raw.Length) };
        string path = Write("dump.lime", DumpWriters.Lime(ranges));

        using MemoryDump raw_ = MemoryDump.Open(RawPath);
        using MemoryDump lime = MemoryDump.Open(path);

        Assert.Equal(DumpFormat.Lime, lime.Format);
        Assert.Equal(new[] { new PhysicalRange(0, 0xA0000), new PhysicalRange(0x100000, (ulong)raw.Length) }, lime.PresentRanges);
        Assert.Equal((ulong)raw.Length, lime.Memory.Size);
        Assert.Equal(DumpPageState.Absent, lime.GetPageState(0xA0000));
        Assert.Empty(lime.Cpus);
        QemuCaptureTests.AssertSameBytes(raw_, lime, lime.PresentRanges);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void AnElfWrittenFromTheCaptureReadsAsQemusElf(bool is64, bool pageAligned)
    {
        using MemoryDump qemu = MemoryDump.Open(DumpFixtures.Path("pae", "elf"));
        byte[] notes = DumpWriters.ElfNotes(File.ReadAllBytes(DumpFixtures.Path("pae", "elf")));
        var ranges = qemu.PresentRanges.Select(r => ReadRange(qemu, r)).ToArray();
        string path = Write("dump.elf", DumpWriters.Elf(is64, 3, notes, ranges, pageAligned));

        using MemoryDump elf = MemoryDump.Open(path);

        Assert.Equal(DumpFormat.Elf, elf.Format);
        Assert.StartsWith(is64 ? "ELF64" : "ELF32", elf.Description, StringComparison.Ordinal);
        Assert.Equal(qemu.PresentRanges, elf.PresentRanges);
        Assert.Equal(qemu.Cpus.Select(c => c.ToString()), elf.Cpus.Select(c => c.ToString()));
        Assert.Equal(qemu.Cpus[0].Cs, elf.Cpus[0].Cs);
        QemuCaptureTests.AssertSameBytes(qemu, elf, qemu.PresentRanges);
    }

    [Fact]
    public void SegmentBytesPastFilesizeAreAbsentNotZeros()
    {
        byte[] raw = File.ReadAllBytes(RawPath);
        byte[] file = DumpWriters.Elf(true, 62, Array.Empty<byte>(), new[] { Range(raw, 0, 0x3000) }, pageAligned: false);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(DumpWriters.PhdrOffset(true, 1) + 40), 0x5000);   // p_memsz
        using MemoryDump elf = MemoryDump.Open(Write("memsz.elf", file));

        Assert.Equal(new[] { new PhysicalRange(0, 0x3000) }, elf.PresentRanges);
        Assert.Equal(DumpPageState.Absent, elf.GetPageState(0x4000));
        Assert.Contains(elf.Warnings, w => w.Contains("0x2000 bytes of PT_LOAD segments lie past their p_filesz", StringComparison.Ordinal));
    }

    [Fact]
    public void PnXnumTakesTheSegmentCountFromSectionZero()
    {
        byte[] raw = File.ReadAllBytes(RawPath);
        byte[] elf = DumpWriters.Elf(true, 62, Array.Empty<byte>(), new[] { Range(raw, 0, 0x1000), Range(raw, 0x300000, 0x302000) }, false);
        // e_phnum = PN_XNUM; the real count (3 with the PT_NOTE) in sh_info of section 0, appended to the file.
        var section = new byte[64];
        BinaryPrimitives.WriteUInt32LittleEndian(section.AsSpan(44), 3);
        byte[] file = elf.Concat(section).ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(40), (ulong)elf.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(56), 0xffff);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(58), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(60), 1);
        using MemoryDump dump = MemoryDump.Open(Write("xnum.elf", file));

        Assert.Equal(new[] { new PhysicalRange(0, 0x1000), new PhysicalRange(0x300000, 0x302000) }, dump.PresentRanges);
    }

    [Fact]
    public void ProgressIsReportedUpToTheTotal()
    {
        var calls = new System.Collections.Generic.List<(long Done, long Total)>();
        using MemoryDump dump = MemoryDump.Open(DumpFixtures.Path("long4", "elf"), (done, total) => calls.Add((done, total)));

        Assert.NotEmpty(calls);
        Assert.Equal((long)dump.PresentBytes, calls[^1].Total);
        Assert.Equal(calls[^1].Total, calls[^1].Done);
        Assert.True(calls.Zip(calls.Skip(1)).All(p => p.First.Done <= p.Second.Done));
    }

    [Fact]
    public void WritesToAMappedDumpStayPrivate()
    {
        byte[] raw = File.ReadAllBytes(RawPath);
        byte[] file = DumpWriters.Elf(true, 62, Array.Empty<byte>(), new[] { Range(raw, 0, raw.Length) }, pageAligned: true);
        string path = Write("aligned.elf", file);

        using (MemoryDump elf = MemoryDump.Open(path))
        {
            elf.Memory.WriteUInt64(0x300000, 0x0123456789abcdef);
            Assert.Equal(0x0123456789abcdefUL, elf.Memory.ReadEntry(0x300000, 8));
        }

        Assert.Equal(file, File.ReadAllBytes(path));
    }

    [Fact]
    public void AFlattenedElfWithRecordsInReverseReadsAsThePlainOne()
    {
        byte[] plain = File.ReadAllBytes(DumpFixtures.Path("pae", "elf"));
        string path = Write("flat.elf", DumpWriters.Flatten(plain, 3000, reverse: true));

        using MemoryDump qemu = MemoryDump.Open(DumpFixtures.Path("pae", "elf"));
        using MemoryDump flat = MemoryDump.Open(path);

        Assert.Equal(DumpFormat.Elf, flat.Format);
        Assert.StartsWith("flattened ELF64", flat.Description, StringComparison.Ordinal);
        Assert.Equal(qemu.PresentRanges, flat.PresentRanges);
        QemuCaptureTests.AssertSameBytes(qemu, flat, qemu.PresentRanges);
    }

    [Fact]
    public void ALaterFlattenedRecordOverwritesAnEarlierOne()
    {
        byte[] plain = File.ReadAllBytes(DumpFixtures.Path("long4", "kdump-snappy"));
        byte[] flat = DumpWriters.Flatten(plain, 5000, reverse: false);
        // Append, before the end marker, a record rewriting the first page of the dump's page data with garbage.
        int pageData = FirstPageDataOffset(plain);
        var garbage = new byte[4096];
        new Random(1).NextBytes(garbage);
        var patched = new MemoryStream();
        patched.Write(flat, 0, flat.Length - 16);
        var record = new byte[16];
        BinaryPrimitives.WriteInt64BigEndian(record, pageData);
        BinaryPrimitives.WriteInt64BigEndian(record.AsSpan(8), garbage.Length);
        patched.Write(record);
        patched.Write(garbage);
        patched.Write(flat, flat.Length - 16, 16);

        using MemoryDump original = MemoryDump.Open(DumpFixtures.Path("long4", "kdump-snappy"));
        using MemoryDump rewritten = MemoryDump.Open(Write("rewritten.flat", patched.ToArray()));

        // The first stored page is QEMU's shared zero page, which every zero page's descriptor points at: after the
        // rewrite those pages hold the garbage, as the plain file the records describe would.
        ulong zeroPfn = FirstPfnStoredAt(plain, pageData);
        var expected = new byte[4096];
        original.Memory.Read(zeroPfn * 4096, expected);
        Assert.All(expected, b => Assert.Equal(0, b));
        var actual = new byte[4096];
        rewritten.Memory.Read(zeroPfn * 4096, actual);
        Assert.Equal(garbage, actual);
    }

    [Fact]
    public void VmcoreInfoIsReadFromAnElfNoteAndFromTheKdumpSubHeader()
    {
        const string text = "OSRELEASE=6.1.0-28-amd64\nPAGESIZE=4096\nSYMBOL(init_top_pgt)=ffffffff9aa0a000\nSYMBOL(swapper_pg_dir)=ffffffff9aa0a000\nNUMBER(phys_base)=-1048576\nKERNELOFFSET=19000000\nNUMBER(pgtable_l5_enabled)=0\nCONFIG_X86_PAE=y\n";
        byte[] note = Note("VMCOREINFO", 0, Encoding.ASCII.GetBytes(text));
        byte[] notes = DumpWriters.ElfNotes(File.ReadAllBytes(DumpFixtures.Path("long4", "elf"))).Concat(note).ToArray();
        byte[] raw = File.ReadAllBytes(RawPath);
        string elfPath = Write("vmcoreinfo.elf", DumpWriters.Elf(true, 62, notes, new[] { Range(raw, 0, 0x10000) }, pageAligned: false));

        // kdump: the text appended to the file, the 64-bit sub-header's offset_vmcoreinfo and size pointing at it.
        byte[] kdump = File.ReadAllBytes(DumpFixtures.Path("long4", "kdump-snappy"));
        byte[] appended = kdump.Concat(Encoding.ASCII.GetBytes(text)).ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(appended.AsSpan(4096 + 32), (ulong)kdump.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(appended.AsSpan(4096 + 40), (ulong)text.Length);
        string kdumpPath = Write("vmcoreinfo.kdump", appended);

        foreach (string path in new[] { elfPath, kdumpPath })
        {
            using MemoryDump dump = MemoryDump.Open(path);
            VmcoreInfo info = Assert.IsType<VmcoreInfo>(dump.VmcoreInfo);
            Assert.True(info.TryGetSymbol("init_top_pgt", out ulong root));
            Assert.Equal(0xffffffff9aa0a000UL, root);
            Assert.True(info.TryGetNumber("phys_base", out long physBase));
            Assert.Equal(-1048576L, physBase);
            Assert.True(info.TryGetKernelOffset(out ulong offset));
            Assert.Equal(0x19000000UL, offset);
            Assert.Equal("y", info.Entries["CONFIG_X86_PAE"]);
            Assert.False(info.TryGetSymbol("no_such_symbol", out _));
        }
    }

    [Fact]
    public void AKdumpWithThe32BitHeaderLayoutReadsAsThe64BitOne()
    {
        // What QEMU writes for an ELFCLASS32 guest (all memory below 4 GiB) and makedumpfile on i386: the
        // disk_dump_header with an 8-byte timeval, the sub-header with 32-bit phys_base, pfns and sizes.
        byte[] wide = File.ReadAllBytes(DumpFixtures.Path("pae", "kdump-zlib"));
        byte[] narrow = (byte[])wide.Clone();
        narrow.AsSpan(402, 4096 - 402).Clear();
        for (int field = 0; field < 10; field++)
        {
            // status, block_size, sub_hdr_size, bitmap_blocks, max_mapnr, total_ram_blocks, device_blocks,
            // written_blocks, current_cpu, nr_cpus: from offset 424 to offset 412
            wide.AsSpan(424 + (4 * field), 4).CopyTo(narrow.AsSpan(412 + (4 * field)));
        }

        ReadOnlySpan<byte> sub = wide.AsSpan(4096);
        Span<byte> sub32 = narrow.AsSpan(4096, 104);
        sub32.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(sub32, (uint)BinaryPrimitives.ReadUInt64LittleEndian(sub));          // phys_base
        sub.Slice(8, 4).CopyTo(sub32[4..]);                                                                              // dump_level
        sub.Slice(12, 4).CopyTo(sub32[8..]);                                                                             // split
        sub.Slice(32, 8).CopyTo(sub32[20..]);                                                                            // offset_vmcoreinfo
        BinaryPrimitives.WriteUInt32LittleEndian(sub32[28..], (uint)BinaryPrimitives.ReadUInt64LittleEndian(sub[40..])); // size_vmcoreinfo
        sub.Slice(48, 8).CopyTo(sub32[32..]);                                                                            // offset_note
        BinaryPrimitives.WriteUInt32LittleEndian(sub32[40..], (uint)BinaryPrimitives.ReadUInt64LittleEndian(sub[56..])); // note_size
        sub.Slice(80, 24).CopyTo(sub32[56..]);                                                                           // start, end pfn, max_mapnr (64-bit)

        using MemoryDump expected = MemoryDump.Open(DumpFixtures.Path("pae", "kdump-zlib"));
        using MemoryDump actual = MemoryDump.Open(Write("narrow.kdump", narrow));

        Assert.Contains("32-bit layout", actual.Description, StringComparison.Ordinal);
        Assert.Equal(expected.PresentRanges, actual.PresentRanges);
        Assert.Equal(expected.Cpus.Select(c => c.ToString()), actual.Cpus.Select(c => c.ToString()));
        Assert.Equal(DumpMachine.I386, actual.Machine);
        QemuCaptureTests.AssertSameBytes(expected, actual, expected.PresentRanges);
    }

    [Fact]
    public void OnePartOfASplitKdumpHoldsOnlyItsPfnRange()
    {
        // makedumpfile --split writes each part with split = 1 and its [start_pfn_64, end_pfn_64): here the part
        // for pfns below 0x200 (2 MiB), whose descriptors are the first ones of the whole dump's.
        byte[] kdump = File.ReadAllBytes(DumpFixtures.Path("long4", "kdump-zlib"));
        BinaryPrimitives.WriteInt32LittleEndian(kdump.AsSpan(4096 + 12), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(kdump.AsSpan(4096 + 80), 0);
        BinaryPrimitives.WriteUInt64LittleEndian(kdump.AsSpan(4096 + 88), 0x200);
        using MemoryDump part = MemoryDump.Open(Write("part1.kdump", kdump));
        using MemoryDump elf = MemoryDump.Open(DumpFixtures.Path("long4", "elf"));

        Assert.Equal(new[] { new PhysicalRange(0, 0x200000) }, part.PresentRanges);
        Assert.Equal(DumpPageState.Absent, part.GetPageState(0x200000));
        QemuCaptureTests.AssertSameBytes(elf, part, part.PresentRanges);
    }

    [Fact]
    public void ACorruptPageIsUnreadableAndTheRestOfTheDumpStillOpens()
    {
        byte[] kdump = File.ReadAllBytes(DumpFixtures.Path("long4", "kdump-zlib"));
        (ulong pfn, int offset, int size) = FirstCompressedPage(kdump, flag: 1);
        kdump.AsSpan(offset + 2, size - 2).Fill(0xA5);   // zlib header intact, the deflate data broken
        using MemoryDump dump = MemoryDump.Open(Write("corrupt.kdump", kdump));
        using MemoryDump elf = MemoryDump.Open(DumpFixtures.Path("long4", "elf"));

        Assert.Equal(1, dump.UnreadablePageCount);
        Assert.Equal(DumpPageState.Unreadable, dump.GetPageState(pfn * 4096 + 123));
        Assert.False(dump.IsPresent(pfn * 4096));
        Assert.Contains(dump.Warnings, w => w.Contains("1 of", StringComparison.Ordinal));
        QemuCaptureTests.AssertSameBytes(elf, dump, dump.PresentRanges);
    }

    internal static string Write(string name, byte[] bytes)
    {
        string path = DumpFixtures.NewFile(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    internal static DumpWriters.Range Range(byte[] raw, int start, int end) => new((ulong)start, raw.AsSpan(start, end - start).ToArray());

    internal static byte[] Note(string name, uint type, byte[] desc)
    {
        byte[] nameBytes = Encoding.ASCII.GetBytes(name + "\0");
        int nameSize = (nameBytes.Length + 3) & ~3, descSize = (desc.Length + 3) & ~3;
        var note = new byte[12 + nameSize + descSize];
        BinaryPrimitives.WriteUInt32LittleEndian(note, (uint)nameBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(4), (uint)desc.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(8), type);
        nameBytes.CopyTo(note, 12);
        desc.CopyTo(note, 12 + nameSize);
        return note;
    }

    /// <summary>In a plain 64-bit-layout kdump file, where the page data starts (after the descriptors).</summary>
    internal static int FirstPageDataOffset(byte[] plain)
    {
        (int descriptors, int count) = Descriptors(plain);
        return descriptors + (24 * count);
    }

    /// <summary>The first pfn whose descriptor points at <paramref name="offset"/>.</summary>
    internal static ulong FirstPfnStoredAt(byte[] plain, int offset) => FindPage(plain, d => (int)BinaryPrimitives.ReadUInt64LittleEndian(d) == offset).Pfn;

    /// <summary>The first page stored compressed with <paramref name="flag"/>: its pfn, data offset and size.</summary>
    internal static (ulong Pfn, int Offset, int Size) FirstCompressedPage(byte[] plain, uint flag) =>
        FindPage(plain, d => BinaryPrimitives.ReadUInt32LittleEndian(d[12..]) == flag);

    private delegate bool DescriptorTest(ReadOnlySpan<byte> descriptor);

    private static (ulong Pfn, int Offset, int Size) FindPage(byte[] plain, DescriptorTest test)
    {
        (int descriptors, int count) = Descriptors(plain);
        int bitmap = (1 + BinaryPrimitives.ReadInt32LittleEndian(plain.AsSpan(432))) * 4096;
        int half = BinaryPrimitives.ReadInt32LittleEndian(plain.AsSpan(436)) * 4096 / 2;
        ulong pfn = 0;
        for (int i = 0; i < count; i++, pfn++)
        {
            while ((plain[bitmap + half + (int)(pfn / 8)] & (1 << (int)(pfn % 8))) == 0)
            {
                pfn++;
            }

            ReadOnlySpan<byte> d = plain.AsSpan(descriptors + (24 * i), 24);
            if (test(d))
            {
                return (pfn, (int)BinaryPrimitives.ReadUInt64LittleEndian(d), BinaryPrimitives.ReadInt32LittleEndian(d[8..]));
            }
        }

        throw new InvalidDataException("no such page");
    }

    private static (int Offset, int Count) Descriptors(byte[] plain)
    {
        int sub = BinaryPrimitives.ReadInt32LittleEndian(plain.AsSpan(432));
        int bitmapBlocks = BinaryPrimitives.ReadInt32LittleEndian(plain.AsSpan(436));
        int bitmap = (1 + sub) * 4096;
        int half = bitmapBlocks * 4096 / 2;
        int count = plain.AsSpan(bitmap + half, half).ToArray().Sum(b => System.Numerics.BitOperations.PopCount(b));
        return ((1 + sub + bitmapBlocks) * 4096, count);
    }

    private static DumpWriters.Range ReadRange(MemoryDump dump, PhysicalRange range)
    {
        var bytes = new byte[range.Length];
        dump.Memory.Read(range.Start, bytes);
        return new DumpWriters.Range(range.Start, bytes);
    }
}
