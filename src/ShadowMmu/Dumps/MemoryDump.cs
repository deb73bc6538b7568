using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Win32.SafeHandles;

namespace ShadowMmu.Dumps;

/// <summary>
/// A guest's memory dump, opened whatever its format (detected from its content, never its name): raw, ELF core,
/// kdump-compressed (plain or flattened; zlib, LZO, snappy) or LiME. <see cref="Memory"/> is one flat guest-physical
/// memory for the walkers, from address 0 to the end of the highest range; what the dump does not hold reads as
/// zeros there, so ask <see cref="IsPresent"/> (or <see cref="GetPageState"/>) before trusting a value. Raw dumps
/// and ELF segments at page-aligned file offsets are mapped copy-on-write; the rest is copied or decompressed into
/// reserved memory whose untouched pages cost nothing. The file is never written.
/// </summary>
public sealed class MemoryDump : IDisposable
{
    private readonly PhysicalRange[] _present;
    private readonly ulong[] _unreadable;   // page addresses, sorted

    internal MemoryDump(string path, DumpFormat format, string description, GuestMemory memory, PhysicalRange[] present,
        ulong[] unreadable, IReadOnlyList<DumpCpuState> cpus, DumpMachine machine, VmcoreInfo? vmcoreInfo,
        KdumpCompression compression, IReadOnlyList<string> warnings)
    {
        Path = path;
        Format = format;
        Description = description;
        Memory = memory;
        _present = present;
        _unreadable = unreadable;
        Cpus = cpus;
        Machine = machine;
        VmcoreInfo = vmcoreInfo;
        Compression = compression;
        Warnings = warnings;
    }

    /// <summary>The path the dump was opened from.</summary>
    public string Path { get; }

    /// <summary>The container format.</summary>
    public DumpFormat Format { get; }

    /// <summary>One line saying what was found, e.g. "ELF64 core, EM_X86_64, 2 CPUs" or "kdump-compressed (flattened, zlib)".</summary>
    public string Description { get; }

    /// <summary>Guest-physical memory from 0 to the end of the highest present range; absent bytes read as zero.</summary>
    public GuestMemory Memory { get; }

    /// <summary>The guest-physical ranges the dump holds, sorted, neither overlapping nor touching.</summary>
    public IReadOnlyList<PhysicalRange> PresentRanges => _present;

    /// <summary>Bytes the dump holds (the sum of <see cref="PresentRanges"/>).</summary>
    public ulong PresentBytes
    {
        get
        {
            ulong total = 0;
            foreach (PhysicalRange range in _present)
            {
                total += range.Length;
            }

            return total;
        }
    }

    /// <summary>Pages the dump lists but could not read (a page that did not decompress); they are not present.</summary>
    public int UnreadablePageCount => _unreadable.Length;

    /// <summary>Each CPU's registers from the dump's notes, in CPU order; empty for raw and LiME dumps.</summary>
    public IReadOnlyList<DumpCpuState> Cpus { get; }

    /// <summary>The ELF machine (kdump: inferred from its notes, else its utsname); Unknown for raw and LiME.</summary>
    public DumpMachine Machine { get; }

    /// <summary>The kernel's VMCOREINFO when the dump carries it, else null.</summary>
    public VmcoreInfo? VmcoreInfo { get; }

    /// <summary>For kdump, the compression its header declares; None otherwise.</summary>
    public KdumpCompression Compression { get; }

    /// <summary>Things the user should know that did not stop the opening, one line each (e.g. unreadable pages).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>
    /// Opens the dump at <paramref name="path"/>. <paramref name="progress"/>, when given, hears (bytes done, bytes
    /// in all) about every 1% while a dump is copied or decompressed, from any thread but never twice at once.
    /// </summary>
    /// <exception cref="DumpFormatException">The file is not a dump that can be read: empty, truncated, corrupt, or contradicting itself.</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static MemoryDump Open(string path, Action<long, long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Open(new FileSource(path, handle), progress);
    }

    /// <summary>Opens the dump whose bytes <paramref name="file"/> gives (the tests' in-memory fuzzing uses this).</summary>
    internal static MemoryDump Open(DumpSource file, Action<long, long>? progress)
    {
        if (file.Length == 0)
        {
            throw file.Problem("the file is empty");
        }

        Span<byte> head = stackalloc byte[64];
        int headLength = (int)Math.Min(file.Length, head.Length);
        file.ReadExactly(0, head[..headLength], "the header");
        head = head[..headLength];

        if (FlattenedSource.Matches(head))
        {
            FlattenedSource plain = FlattenedSource.Open(file);
            Span<byte> inner = stackalloc byte[64];
            int innerLength = (int)Math.Min(plain.Length, inner.Length);
            plain.ReadExactly(0, inner[..innerLength], "the flattened file's header");
            if (KdumpReader.Matches(inner[..innerLength]))
            {
                return KdumpReader.Read(plain, "flattened", progress);
            }

            if (ElfReader.Matches(inner[..innerLength]))
            {
                return ElfReader.Read(plain, "flattened ", progress);
            }

            throw file.Problem("the flattened file holds neither a kdump header nor an ELF header at offset 0");
        }

        if (KdumpReader.Matches(head))
        {
            return KdumpReader.Read(file, "plain", progress);
        }

        if (ElfReader.Matches(head))
        {
            return ElfReader.Read(file, string.Empty, progress);
        }

        if (LimeReader.Matches(head))
        {
            return LimeReader.Read(file, progress);
        }

        return OpenRaw(file, progress);
    }

    /// <summary>True when the dump holds the byte at <paramref name="gpa"/>.</summary>
    public bool IsPresent(ulong gpa) => RangeSetBuilder.Find(_present, gpa) >= 0;

    /// <summary>Whether the dump holds the page of <paramref name="gpa"/>, lacks it, or has it but could not read it.</summary>
    public DumpPageState GetPageState(ulong gpa)
    {
        if (IsPresent(gpa))
        {
            return DumpPageState.Present;
        }

        return Array.BinarySearch(_unreadable, gpa & ~0xFFFUL) >= 0 ? DumpPageState.Unreadable : DumpPageState.Absent;
    }

    /// <inheritdoc/>
    public void Dispose() => Memory.Dispose();

    /// <inheritdoc/>
    public override string ToString() => $"{Path}: {Description}";

    private static unsafe MemoryDump OpenRaw(DumpSource file, Action<long, long>? progress)
    {
        GuestMemory memory;
        if (file.DirectHandle != null)
        {
            memory = GuestMemory.MapImage(file.Path);   // the file as it is, copy-on-write
        }
        else
        {
            NativeRegion region = NativeRegion.ReserveFor(file, (ulong)file.Length, "the raw image");
            var opening = new OpenProgress(progress, file.Length);
            SegmentCopier.Copy(file, 0, region, 0, (ulong)file.Length, opening);
            opening.Finish();
            memory = GuestMemory.FromRegion(region.Start, (ulong)file.Length, region);
        }

        return new MemoryDump(file.Path, DumpFormat.Raw, "raw physical memory", memory,
            new[] { new PhysicalRange(0, (ulong)file.Length) }, Array.Empty<ulong>(), Array.Empty<DumpCpuState>(),
            DumpMachine.Unknown, null, KdumpCompression.None, Array.Empty<string>());
    }
}
