using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using ShadowMmu.Dumps;
using Xunit;

namespace ShadowMmu.Tests.Dumps;

/// <summary>Bad dumps end in one DumpFormatException whose one-line message names the file and its problem.</summary>
public sealed class DumpErrorTests
{
    [Fact]
    public void AnEmptyFileIsNotADump() => AssertProblem(Array.Empty<byte>(), "the file is empty");

    [Fact]
    public void ATruncatedElfSaysSo()
    {
        byte[] elf = File.ReadAllBytes(DumpFixtures.Path("long4", "elf"));
        AssertProblem(elf.AsSpan(0, elf.Length / 2).ToArray(), "runs past the end of the file (0x", "truncated");
    }

    [Fact]
    public void ElfSegmentsThatHoldTheSameAddressFromDifferentBytesContradictEachOther()
    {
        byte[] raw = File.ReadAllBytes(DumpFixtures.Path("long4", "raw"));
        byte[] elf = DumpWriters.Elf(true, 62, Array.Empty<byte>(),
            new[] { DerivedDumpTests.Range(raw, 0, 0x2000), new DumpWriters.Range(0x1000, raw.AsSpan(0x300000, 0x1000).ToArray()) }, false);
        AssertProblem(elf, "PT_LOAD segments 1 and 2 both hold guest-physical 0x1000, with different bytes");
    }

    [Fact]
    public void ElfSegmentsThatHoldTheSameBytesTwiceAgree()
    {
        // As a kernel's /proc/vmcore does: a PT_LOAD for the kernel text over the RAM one, with its own copy.
        byte[] raw = File.ReadAllBytes(DumpFixtures.Path("long4", "raw"));
        byte[] elf = DumpWriters.Elf(true, 62, Array.Empty<byte>(),
            new[] { DerivedDumpTests.Range(raw, 0, 0x400000), DerivedDumpTests.Range(raw, 0x2ff800, 0x301800) }, false);
        using MemoryDump dump = MemoryDump.Open(DerivedDumpTests.Write("twice.elf", elf));
        Assert.Equal(new[] { new PhysicalRange(0, 0x400000) }, dump.PresentRanges);
        var bytes = new byte[0x2000];
        dump.Memory.Read(0x2ff800, bytes);
        Assert.Equal(raw.AsSpan(0x2ff800, 0x2000).ToArray(), bytes);
    }

    [Fact]
    public void SegmentsThatDescribeTheFileManyTimesOverAreRefused()
    {
        // Four segments at different addresses, each the same 16 KiB of the file: 64 KiB to load from ~16 KiB.
        byte[] raw = File.ReadAllBytes(DumpFixtures.Path("long4", "raw"));
        var ranges = Enumerable.Range(0, 4).Select(i => DerivedDumpTests.Range(raw, 0x300000 + (i * 0x1000), 0x301000 + (i * 0x1000))).ToArray();
        byte[] elf = DumpWriters.Elf(true, 62, Array.Empty<byte>(), ranges, false);
        ulong first = BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(DumpWriters.PhdrOffset(true, 1) + 8));
        for (int i = 1; i <= 4; i++)
        {
            Span<byte> phdr = elf.AsSpan(DumpWriters.PhdrOffset(true, i), 56);
            BinaryPrimitives.WriteUInt64LittleEndian(phdr[8..], first);
            BinaryPrimitives.WriteUInt64LittleEndian(phdr[24..], 0x100000UL * (ulong)i);
            BinaryPrimitives.WriteUInt64LittleEndian(phdr[32..], 0x4000);
            BinaryPrimitives.WriteUInt64LittleEndian(phdr[40..], 0x4000);
        }

        AssertProblem(elf, "over twice the file's");
    }

    [Fact]
    public void ThousandsOfSegmentsOverTheSameBytesOpenAsOne()
    {
        // QEMU's paging dumps (-p) describe memory once per mapping, all from the same file bytes.
        byte[] raw = File.ReadAllBytes(DumpFixtures.Path("long4", "raw"));
        var ranges = Enumerable.Range(0, 3000).Select(_ => DerivedDumpTests.Range(raw, 0x300000, 0x300001)).ToArray();
        ranges[0] = DerivedDumpTests.Range(raw, 0x300000, 0x310000);
        byte[] elf = DumpWriters.Elf(true, 62, Array.Empty<byte>(), ranges, false);
        byte[] first = elf.AsSpan(DumpWriters.PhdrOffset(true, 1), 56).ToArray();
        for (int i = 2; i <= ranges.Length; i++)
        {
            first.CopyTo(elf.AsSpan(DumpWriters.PhdrOffset(true, i)));
        }

        using MemoryDump dump = MemoryDump.Open(DerivedDumpTests.Write("aliases.elf", elf));
        Assert.Equal(new[] { new PhysicalRange(0x300000, 0x310000) }, dump.PresentRanges);
    }

    [Fact]
    public void ACpuWithoutItsQemuNoteIsAMissingNote()
    {
        byte[] notes = DumpWriters.ElfNotes(File.ReadAllBytes(DumpFixtures.Path("long4", "elf")));
        // QEMU's order: both NT_PRSTATUS notes, then both QEMU notes; drop the last QEMU note.
        int qemuNote = 12 + 8 + ((440 + 3) & ~3);
        byte[] fewer = notes.AsSpan(0, notes.Length - qemuNote).ToArray();
        byte[] raw = File.ReadAllBytes(DumpFixtures.Path("long4", "raw"));
        AssertProblem(DumpWriters.Elf(true, 62, fewer, new[] { DerivedDumpTests.Range(raw, 0, 0x1000) }, false),
            "has 2 NT_PRSTATUS notes but 1 QEMU notes");
    }

    [Fact]
    public void ASegmentClaiming2To60BytesIsRefusedWithoutAllocatingThem()
    {
        byte[] raw = File.ReadAllBytes(DumpFixtures.Path("long4", "raw"));
        byte[] elf = DumpWriters.Elf(true, 62, Array.Empty<byte>(), new[] { new DumpWriters.Range(1UL << 60, raw.AsSpan(0, 0x1000).ToArray()) }, false);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        AssertProblem(elf, "ends at guest-physical 0x1000000000001000, past the");
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 16 << 20);
    }

    [Fact]
    public void AKdumpHeaderPointingPastTheFileSaysWhere()
    {
        byte[] kdump = File.ReadAllBytes(DumpFixtures.Path("long4", "kdump-snappy"));
        BinaryPrimitives.WriteUInt32LittleEndian(kdump.AsSpan(436), 0x10000000);   // bitmap_blocks
        AssertProblem(kdump, "kdump header places the bitmaps at 0x2000..0x10000002000, past the end of the file");
    }

    [Fact]
    public void AKdumpCutInsideItsDescriptorsIsTruncated()
    {
        byte[] kdump = File.ReadAllBytes(DumpFixtures.Path("long4", "kdump-snappy"));
        int cut = DerivedDumpTests.FirstPageDataOffset(kdump) - 100;
        AssertProblem(kdump.AsSpan(0, cut).ToArray(), "descriptors at 0x", "the dump is truncated");
    }

    [Fact]
    public void AKdumpCutInsideItsPagesOpensWithThoseUnreadable()
    {
        byte[] kdump = File.ReadAllBytes(DumpFixtures.Path("long4", "kdump-snappy"));
        string path = DerivedDumpTests.Write("cut.kdump", kdump.AsSpan(0, kdump.Length - 10000).ToArray());
        using MemoryDump dump = MemoryDump.Open(path);
        Assert.True(dump.UnreadablePageCount > 0);
        Assert.Contains(dump.Warnings, w => w.Contains("could not be read", StringComparison.Ordinal));
    }

    [Fact]
    public void AFlattenedFileWithoutItsEndMarkerIsTruncated()
    {
        byte[] flat = File.ReadAllBytes(DumpFixtures.Path("long4", "kdump-zlib-flat"));
        AssertProblem(flat.AsSpan(0, flat.Length - 16).ToArray(), "without its end marker");
    }

    [Fact]
    public void LimeRangesThatOverlapAreRefused()
    {
        var page = new byte[0x1000];
        byte[] lime = DumpWriters.Lime(new[] { new DumpWriters.Range(0x2000, page), new DumpWriters.Range(0x2800, page) });
        AssertProblem(lime, "LiME range 1 (0x2800-0x37ff) starts below the end of the range before it (0x3000)");
    }

    [Fact]
    public void ATruncatedLimeRangeSaysSo()
    {
        byte[] lime = DumpWriters.Lime(new[] { new DumpWriters.Range(0, new byte[0x1000]) });
        AssertProblem(lime.AsSpan(0, lime.Length - 1).ToArray(), "LiME range 0 (0x0-0xfff) holds 0x1000 bytes, past the end of the file");
    }

    [Fact]
    public void ALimeVersionOtherThanOneIsRefused()
    {
        byte[] lime = DumpWriters.Lime(new[] { new DumpWriters.Range(0, new byte[0x1000]) });
        lime[4] = 2;
        AssertProblem(lime, "has version 2; only version 1 exists");
    }

    [Fact]
    public void ABigEndianOrNonCoreElfIsNotADump()
    {
        byte[] elf = File.ReadAllBytes(DumpFixtures.Path("long4", "elf"));
        byte[] bigEndian = (byte[])elf.Clone();
        bigEndian[5] = 2;
        AssertProblem(bigEndian, "ELF data encoding 2 is not little-endian");
        byte[] executable = (byte[])elf.Clone();
        executable[16] = 2;
        AssertProblem(executable, "ELF type 2 is not a core file");
    }

    private static void AssertProblem(byte[] file, params string[] parts)
    {
        string path = DerivedDumpTests.Write("bad.dump", file);
        DumpFormatException e = Assert.Throws<DumpFormatException>(() => MemoryDump.Open(path).Dispose());
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        foreach (string part in parts)
        {
            Assert.Contains(part, e.Problem, StringComparison.Ordinal);
        }
    }
}
