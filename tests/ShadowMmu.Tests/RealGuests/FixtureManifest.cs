using System.Collections.Generic;
using System.IO;
using System.Text.Json;

namespace ShadowMmu.Tests.RealGuests;

/// <summary>
/// tests/fixtures/real-guests/data/manifest.json as capture/pack.py writes it: the page files, and per mode and stop
/// the page maps, the files that can be rebuilt (with QEMU's SHA-256 of each) and the monitor texts.
/// </summary>
internal sealed record FixtureManifest(int Format, int PageSize, IReadOnlyList<PageFileEntry> PageFiles, IReadOnlyList<ModeEntry> Modes)
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static FixtureManifest Load(string path) =>
        JsonSerializer.Deserialize<FixtureManifest>(File.ReadAllText(path), Options)
        ?? throw new InvalidDataException(path + " is empty");
}

/// <summary>A Brotli file of pages (4 KiB each) with ids <see cref="FirstId"/> .. FirstId + Count - 1.</summary>
internal sealed record PageFileEntry(string File, int FirstId, int Count);

/// <summary>One guest: its paging mode's name (long4, long5, pae, legacy32), kernel and stops.</summary>
internal sealed record ModeEntry(string Mode, string Kernel, string KernelCmdline, long MemorySize, string Capture, string Texts, IReadOnlyList<StopEntry> Stops);

/// <summary>One stop of a guest: its memory regions, the files recorded there, the monitor texts per vCPU.</summary>
internal sealed record StopEntry(int Stop, IReadOnlyList<RegionEntry> Regions, IReadOnlyDictionary<string, FileEntry> Files, IReadOnlyList<string> Monitor, IReadOnlyList<CpuEntry> Cpus);

/// <summary>Guest-physical memory from <see cref="Paddr"/>: the pmemsave image (at 0), or a range only the ELF dump has.</summary>
internal sealed record RegionEntry(ulong Paddr, long Size, string PageMap, int NonZeroPages);

/// <summary>A file QEMU wrote: its SHA-256 and size, and the recipe that rebuilds it (none for the raw image).</summary>
internal sealed record FileEntry(string Sha256, long Size, string? Recipe);

/// <summary>What the capture saw of a vCPU when it stopped the guest.</summary>
internal sealed record CpuEntry(int Cpu, int Cpl, bool Halted, int Samples, int Unmapped);
