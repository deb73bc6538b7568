using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;

namespace ShadowMmu.Tests.Dumps;

/// <summary>Writes small dumps for the tests: ELF32/ELF64 cores, LiME files, makedumpfile's flattened layout.</summary>
internal static class DumpWriters
{
    public readonly record struct Range(ulong Gpa, byte[] Bytes);

    /// <summary>
    /// An ELF core with one PT_NOTE (<paramref name="notes"/>) and a PT_LOAD per range. With
    /// <paramref name="pageAligned"/>, each segment's file offset is page aligned (as /proc/vmcore's are), else
    /// the data follows the notes directly (as QEMU writes it).
    /// </summary>
    public static byte[] Elf(bool is64, ushort machine, byte[] notes, IReadOnlyList<Range> ranges, bool pageAligned)
    {
        int ehsize = is64 ? 64 : 52, phsize = is64 ? 56 : 32;
        int phnum = 1 + ranges.Count;
        long notesOffset = ehsize + (phnum * phsize);
        long dataOffset = notesOffset + notes.Length;
        var offsets = new long[ranges.Count];
        for (int i = 0; i < ranges.Count; i++)
        {
            if (pageAligned)
            {
                dataOffset = (dataOffset + 4095) & ~4095L;
            }

            offsets[i] = dataOffset;
            dataOffset += ranges[i].Bytes.Length;
        }

        var file = new byte[dataOffset];
        Span<byte> h = file;
        h[0] = 0x7f; h[1] = (byte)'E'; h[2] = (byte)'L'; h[3] = (byte)'F';
        h[4] = (byte)(is64 ? 2 : 1); h[5] = 1; h[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], 4);
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], machine);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        if (is64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(h[32..], (ulong)ehsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[52..], (ushort)ehsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[54..], (ushort)phsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[56..], (ushort)phnum);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(h[28..], (uint)ehsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[40..], (ushort)ehsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[42..], (ushort)phsize);
            BinaryPrimitives.WriteUInt16LittleEndian(h[44..], (ushort)phnum);
        }

        WritePhdr(file.AsSpan(ehsize, phsize), is64, 4, notesOffset, 0, (ulong)notes.Length);
        notes.CopyTo(file, notesOffset);
        for (int i = 0; i < ranges.Count; i++)
        {
            WritePhdr(file.AsSpan(ehsize + ((i + 1) * phsize), phsize), is64, 1, offsets[i], ranges[i].Gpa, (ulong)ranges[i].Bytes.Length);
            ranges[i].Bytes.CopyTo(file, offsets[i]);
        }

        return file;
    }

    /// <summary>The offset of program header <paramref name="index"/> (0 is the PT_NOTE) in a file from <see cref="Elf"/>.</summary>
    public static int PhdrOffset(bool is64, int index) => (is64 ? 64 : 52) + (index * (is64 ? 56 : 32));

    /// <summary>LiME: per range a 32-byte header (magic, version 1, start, inclusive end, reserved) and its bytes.</summary>
    public static byte[] Lime(IReadOnlyList<Range> ranges)
    {
        var output = new MemoryStream();
        var header = new byte[32];
        foreach (Range range in ranges)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header, 0x4C694D45);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 1);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), range.Gpa);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), range.Gpa + (ulong)range.Bytes.Length - 1);
            output.Write(header);
            output.Write(range.Bytes);
        }

        return output.ToArray();
    }

    /// <summary>makedumpfile's flattened layout of <paramref name="plain"/>: records of at most <paramref name="chunk"/> bytes, in reverse order when asked (a reader must not depend on the order).</summary>
    public static byte[] Flatten(byte[] plain, int chunk, bool reverse)
    {
        var output = new MemoryStream();
        var header = new byte[4096];
        "makedumpfile"u8.CopyTo(header);
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(16), 1);
        BinaryPrimitives.WriteInt64BigEndian(header.AsSpan(24), 1);
        output.Write(header);
        var starts = new List<int>();
        for (int offset = 0; offset < plain.Length; offset += chunk)
        {
            starts.Add(offset);
        }

        if (reverse)
        {
            starts.Reverse();
        }

        var record = new byte[16];
        foreach (int offset in starts)
        {
            int size = Math.Min(chunk, plain.Length - offset);
            BinaryPrimitives.WriteInt64BigEndian(record, offset);
            BinaryPrimitives.WriteInt64BigEndian(record.AsSpan(8), size);
            output.Write(record);
            output.Write(plain, offset, size);
        }

        BinaryPrimitives.WriteInt64BigEndian(record, -1);
        BinaryPrimitives.WriteInt64BigEndian(record.AsSpan(8), -1);
        output.Write(record);
        return output.ToArray();
    }

    /// <summary>The notes (PT_NOTE contents) of an ELF64 core as QEMU writes it.</summary>
    public static byte[] ElfNotes(byte[] elf64)
    {
        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(elf64.AsSpan(32));
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(elf64.AsSpan(56));
        for (int i = 0; i < phnum; i++)
        {
            ReadOnlySpan<byte> p = elf64.AsSpan((int)phoff + (i * 56), 56);
            if (BinaryPrimitives.ReadUInt32LittleEndian(p) == 4)
            {
                int offset = (int)BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
                int size = (int)BinaryPrimitives.ReadUInt64LittleEndian(p[32..]);
                return elf64.AsSpan(offset, size).ToArray();
            }
        }

        throw new InvalidDataException("no PT_NOTE");
    }

    private static void WritePhdr(Span<byte> p, bool is64, uint type, long offset, ulong gpa, ulong size)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(p, type);
        if (is64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(p[8..], (ulong)offset);
            BinaryPrimitives.WriteUInt64LittleEndian(p[16..], gpa);
            BinaryPrimitives.WriteUInt64LittleEndian(p[24..], gpa);
            BinaryPrimitives.WriteUInt64LittleEndian(p[32..], size);
            BinaryPrimitives.WriteUInt64LittleEndian(p[40..], size);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(p[4..], (uint)offset);
            BinaryPrimitives.WriteUInt32LittleEndian(p[8..], (uint)gpa);
            BinaryPrimitives.WriteUInt32LittleEndian(p[12..], (uint)gpa);
            BinaryPrimitives.WriteUInt32LittleEndian(p[16..], (uint)size);
            BinaryPrimitives.WriteUInt32LittleEndian(p[20..], (uint)size);
        }
    }
}
