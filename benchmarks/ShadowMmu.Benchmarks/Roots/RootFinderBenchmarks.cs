using System;
using BenchmarkDotNet.Attributes;
using ShadowMmu.Dumps;
using ShadowMmu.Roots;
using ShadowMmu.Tests.RealGuests;

namespace ShadowMmu.Benchmarks.Roots;

/// <summary>
/// Finding the address spaces of a real guest (tests/fixtures/real-guests, stop 1 of each mode: 128 MiB of RAM): the
/// whole search (<see cref="RootFinder.Find"/>: the scan of every page on every core, the walks, the ranking) on the
/// raw image (no notes: all four modes searched) and on QEMU's ELF dump (VMCOREINFO names the mode: one searched), and
/// the raw image's scan alone (every page tested for every root shape). The dumps are opened once, their pages in
/// memory before the first measurement.
/// </summary>
[AllocatesByDesign("a search returns its candidates and keeps a summary of every table it read")]
public class RootFinderBenchmarks
{
    private static readonly RootShape[] AllShapes = { RootShape.Wide, RootShape.Narrow, RootShape.Pdpt };

    private MemoryDump _raw = null!;
    private MemoryDump _elf = null!;
    private HeldMemory _rawHeld = null!;

    /// <summary>The guest: long4 (PTI), long5, pae or legacy32.</summary>
    [Params("long4", "long5", "pae", "legacy32")]
    public string Mode { get; set; } = "long4";

    [GlobalSetup]
    public void Setup()
    {
        GuestStop stop = RealGuestFixtures.Stop(Mode, 1);
        _raw = MemoryDump.Open(stop.RawPath);
        _elf = MemoryDump.Open(stop.ElfPath);
        _rawHeld = new HeldMemory(_raw.Memory, _raw.PresentRanges);
        if (RootFinder.Find(_raw).Best is null || RootFinder.Find(_elf).Best is null)
        {
            throw new InvalidOperationException($"{Mode}: no root found");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _raw.Dispose();
        _elf.Dispose();
    }

    /// <summary>The whole search in the raw image.</summary>
    [Benchmark]
    public int FindRaw() => RootFinder.Find(_raw).Candidates.Count;

    /// <summary>The whole search in the ELF dump.</summary>
    [Benchmark]
    public int FindElf() => RootFinder.Find(_elf).Candidates.Count;

    /// <summary>The first pass alone, in the raw image.</summary>
    [Benchmark]
    public int ScanRaw() => PageScanner.Scan(_rawHeld, AllShapes, null, default).Count;
}
