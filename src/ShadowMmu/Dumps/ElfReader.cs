using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;

namespace ShadowMmu.Dumps;

/// <summary>
/// ELF core files as QEMU's dump-guest-memory (and virsh dump --memory-only, which asks QEMU), the kernel's
/// /proc/vmcore and makedumpfile -E write them: ELF32 or ELF64, little-endian, PT_LOAD segments placed by p_paddr,
/// PT_NOTE segments with the CPU notes and VMCOREINFO. e_phnum = PN_XNUM (0xffff) takes the count from section
/// header 0's sh_info, as QEMU writes it for a guest with more than 65534 segments. Bytes of a segment past p_filesz
/// (up to p_memsz) are not in the file: they are reported absent, not zeros the guest had.
/// </summary>
internal static class ElfReader
{
    private const uint PtLoad = 1;
    private const uint PtNote = 4;
    private const ushort EtCore = 4;
    private const int PnXnum = 0xffff;
    private const int MaxNotesBytes = 64 << 20;

    public static bool Matches(ReadOnlySpan<byte> head) =>
        head.Length >= 4 && head[0] == 0x7f && head[1] == (byte)'E' && head[2] == (byte)'L' && head[3] == (byte)'F';

    public static unsafe MemoryDump Read(DumpSource source, string layout, Action<long, long>? progress)
    {
        Span<byte> ident = stackalloc byte[16];
        source.ReadExactly(0, ident, "the ELF identification");
        bool is64 = ident[4] switch
        {
            1 => false,
            2 => true,
            _ => throw source.Problem($"ELF class {ident[4]} is neither ELFCLASS32 (1) nor ELFCLASS64 (2)"),
        };
        if (ident[5] != 1)
        {
            throw source.Problem($"ELF data encoding {ident[5]} is not little-endian (1): not an x86 dump");
        }

        Span<byte> header = stackalloc byte[is64 ? 64 : 52];
        source.ReadExactly(0, header, "the ELF header");
        ushort type = BinaryPrimitives.ReadUInt16LittleEndian(header[16..]);
        if (type != EtCore)
        {
            throw source.Problem($"ELF type {type} is not a core file (ET_CORE = 4)");
        }

        var machine = (DumpMachine)BinaryPrimitives.ReadUInt16LittleEndian(header[18..]);
        ulong phoff = is64 ? BinaryPrimitives.ReadUInt64LittleEndian(header[32..]) : BinaryPrimitives.ReadUInt32LittleEndian(header[28..]);
        ulong shoff = is64 ? BinaryPrimitives.ReadUInt64LittleEndian(header[40..]) : BinaryPrimitives.ReadUInt32LittleEndian(header[32..]);
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(header[(is64 ? 54 : 42)..]);
        long phnum = BinaryPrimitives.ReadUInt16LittleEndian(header[(is64 ? 56 : 44)..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(header[(is64 ? 58 : 46)..]);
        int phdrSize = is64 ? 56 : 32;
        if (phnum == PnXnum)
        {
            phnum = ReadExtendedPhnum(source, is64, shoff, shentsize);
        }

        if (phentsize < phdrSize)
        {
            throw source.Problem($"ELF program header size {phentsize} is smaller than an ELF{(is64 ? 64 : 32)} program header ({phdrSize})");
        }

        if (phoff > (ulong)source.Length || (ulong)(phnum * phentsize) > (ulong)source.Length - phoff)
        {
            throw source.Problem($"ELF program headers ({phnum} of {phentsize} bytes at offset 0x{phoff:x}) lie past the end of the file (0x{source.Length:x} bytes)");
        }

        var table = new byte[phnum * phentsize];
        source.ReadExactly((long)phoff, table, "the ELF program headers");
        var loads = new List<Segment>();
        var notes = new List<byte>();
        ulong unstoredBytes = 0;
        for (int i = 0; i < phnum; i++)
        {
            ReadOnlySpan<byte> p = table.AsSpan(i * phentsize, phdrSize);
            uint ptype = BinaryPrimitives.ReadUInt32LittleEndian(p);
            ulong offset = is64 ? BinaryPrimitives.ReadUInt64LittleEndian(p[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
            ulong paddr = is64 ? BinaryPrimitives.ReadUInt64LittleEndian(p[24..]) : BinaryPrimitives.ReadUInt32LittleEndian(p[12..]);
            ulong filesz = is64 ? BinaryPrimitives.ReadUInt64LittleEndian(p[32..]) : BinaryPrimitives.ReadUInt32LittleEndian(p[16..]);
            ulong memsz = is64 ? BinaryPrimitives.ReadUInt64LittleEndian(p[40..]) : BinaryPrimitives.ReadUInt32LittleEndian(p[20..]);
            if (ptype != PtLoad && ptype != PtNote)
            {
                continue;
            }

            if (filesz > 0 && (offset > (ulong)source.Length || filesz > (ulong)source.Length - offset))
            {
                throw source.Problem($"{Name(ptype)} segment {i} (0x{filesz:x} bytes at file offset 0x{offset:x}) runs past the end of the file (0x{source.Length:x} bytes): the dump is truncated");
            }

            if (ptype == PtNote)
            {
                if (filesz > MaxNotesBytes || notes.Count + (long)filesz > MaxNotesBytes)
                {
                    throw source.Problem($"PT_NOTE segment {i} holds 0x{filesz:x} bytes of notes, more than a dump's notes can be");
                }

                var bytes = new byte[filesz];
                source.ReadExactly((long)offset, bytes, $"PT_NOTE segment {i}");
                notes.AddRange(bytes);
                continue;
            }

            if (filesz > memsz)
            {
                throw source.Problem($"PT_LOAD segment {i} has p_filesz 0x{filesz:x} larger than p_memsz 0x{memsz:x}");
            }

            if (paddr > ulong.MaxValue - memsz)
            {
                throw source.Problem($"PT_LOAD segment {i} (p_paddr 0x{paddr:x}, p_memsz 0x{memsz:x}) wraps past the end of the address space");
            }

            unstoredBytes += memsz - filesz;
            if (filesz > 0)
            {
                loads.Add(new Segment(i, paddr, filesz, (long)offset));
            }
        }

        if (loads.Count == 0)
        {
            throw source.Problem("the ELF core has no PT_LOAD segment with data");
        }

        loads = Reconcile(source, loads);
        ElfNotes.Result noteResult = ElfNotes.Parse(source, notes.ToArray(), "the PT_NOTE segments");
        ulong span = loads.Max(s => s.Paddr + s.Length);
        NativeRegion region = NativeRegion.ReserveFor(source, span, "its highest PT_LOAD segment");
        try
        {
            var opening = new OpenProgress(progress, loads.Sum(s => (long)s.Length));
            var present = new RangeSetBuilder();
            foreach (Segment segment in loads)
            {
                Load(source, region, segment, opening);
                present.Add(segment.Paddr, segment.Paddr + segment.Length);
            }

            opening.Finish();
            var warnings = new List<string>();
            if (unstoredBytes > 0)
            {
                warnings.Add($"0x{unstoredBytes:x} bytes of PT_LOAD segments lie past their p_filesz: not in the file, reported absent");
            }

            string description = $"{layout}ELF{(is64 ? 64 : 32)} core, {DumpDescription.Machine(machine)}, {DumpDescription.Cpus(noteResult.Cpus.Count)}";
            return new MemoryDump(source.Path, DumpFormat.Elf, description, GuestMemory.FromRegion(region.Start, span, region),
                present.Build(), Array.Empty<ulong>(), noteResult.Cpus, machine, noteResult.VmcoreInfo, KdumpCompression.None, warnings);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    private static long ReadExtendedPhnum(DumpSource source, bool is64, ulong shoff, int shentsize)
    {
        int shdrSize = is64 ? 64 : 40;
        if (shoff == 0 || shentsize < shdrSize || shoff > (ulong)source.Length - (ulong)shdrSize)
        {
            throw source.Problem($"e_phnum is PN_XNUM but section header 0 (offset 0x{shoff:x}, size {shentsize}) is not in the file");
        }

        Span<byte> section = stackalloc byte[shdrSize];
        source.ReadExactly((long)shoff, section, "section header 0");
        return BinaryPrimitives.ReadUInt32LittleEndian(section[(is64 ? 44 : 28)..]);
    }

    /// <summary>
    /// Segments may describe the same guest-physical bytes twice: QEMU's paging dumps (-p) from the same file bytes
    /// (those are merged here), a kernel's /proc/vmcore (kexec-tools adds a PT_LOAD for the kernel text over the RAM
    /// one) from other bytes that hold the same. Where two segments hold different bytes for one address, the dump
    /// contradicts itself. What is left to load may not exceed twice the file, so that no header makes the opening
    /// copy or compare the same bytes without end.
    /// </summary>
    private static List<Segment> Reconcile(DumpSource source, List<Segment> loads)
    {
        loads.Sort((a, b) => a.Paddr.CompareTo(b.Paddr));
        var merged = new List<Segment> { loads[0] };
        foreach (Segment segment in loads.Skip(1))
        {
            Segment last = merged[^1];
            bool sameBytes = segment.FileOffset - (long)segment.Paddr == last.FileOffset - (long)last.Paddr;
            if (sameBytes && segment.Paddr <= last.Paddr + last.Length)
            {
                merged[^1] = last with { Length = Math.Max(last.Length, segment.Paddr + segment.Length - last.Paddr) };
            }
            else
            {
                merged.Add(segment);
            }
        }

        ulong total = 0;
        foreach (Segment segment in merged)
        {
            total += segment.Length;
            if (total > 2 * (ulong)source.Length)
            {
                throw source.Problem($"the PT_LOAD segments describe more than 0x{total:x} bytes, over twice the file's 0x{source.Length:x}: they overlap without end");
            }
        }

        Segment reach = merged[0];
        foreach (Segment segment in merged.Skip(1))
        {
            ulong reachEnd = reach.Paddr + reach.Length;
            if (segment.Paddr < reachEnd)
            {
                ulong overlapEnd = Math.Min(reachEnd, segment.Paddr + segment.Length);
                ulong differs = FirstDifference(source, reach, segment, segment.Paddr, overlapEnd);
                if (differs != overlapEnd)
                {
                    throw source.Problem($"PT_LOAD segments {reach.Index} and {segment.Index} both hold guest-physical 0x{differs:x}, with different bytes");
                }
            }

            if (segment.Paddr + segment.Length > reachEnd)
            {
                reach = segment;
            }
        }

        return merged;
    }

    /// <summary>The first address in [<paramref name="start"/>, <paramref name="end"/>) where the two segments' bytes differ, or <paramref name="end"/>.</summary>
    private static ulong FirstDifference(DumpSource source, Segment a, Segment b, ulong start, ulong end)
    {
        var left = new byte[1 << 16];
        var right = new byte[1 << 16];
        for (ulong gpa = start; gpa < end; gpa += (ulong)left.Length)
        {
            int count = (int)Math.Min((ulong)left.Length, end - gpa);
            source.ReadExactly(a.FileOffset + (long)(gpa - a.Paddr), left.AsSpan(0, count), $"PT_LOAD segment {a.Index}");
            source.ReadExactly(b.FileOffset + (long)(gpa - b.Paddr), right.AsSpan(0, count), $"PT_LOAD segment {b.Index}");
            int same = left.AsSpan(0, count).CommonPrefixLength(right.AsSpan(0, count));
            if (same < count)
            {
                return gpa + (ulong)same;
            }
        }

        return end;
    }

    private static unsafe void Load(DumpSource source, NativeRegion region, Segment segment, OpenProgress progress)
    {
        const ulong page = NativeRegion.PageSize;
        ulong start = segment.Paddr;
        ulong end = start + segment.Length;
        ulong mapStart = (start + page - 1) & ~(page - 1);
        ulong mapEnd = end & ~(page - 1);
        long delta = segment.FileOffset - (long)start;
        bool aligned = source.DirectHandle != null && ((ulong)segment.FileOffset % page) == start % page && mapEnd > mapStart
            && region.TryMapFile(source.DirectHandle, delta + (long)mapStart, mapStart, mapEnd - mapStart);
        if (!aligned)
        {
            SegmentCopier.Copy(source, segment.FileOffset, region, start, segment.Length, progress);
            return;
        }

        // The whole pages are mapped; the partial pages at either end are copied.
        SegmentCopier.Copy(source, segment.FileOffset, region, start, mapStart - start, progress);
        progress.Add((long)(mapEnd - mapStart));
        SegmentCopier.Copy(source, delta + (long)mapEnd, region, mapEnd, end - mapEnd, progress);
    }

    private static string Name(uint ptype) => ptype == PtLoad ? "PT_LOAD" : "PT_NOTE";

    private readonly record struct Segment(int Index, ulong Paddr, ulong Length, long FileOffset);
}
