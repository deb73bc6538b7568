using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using ShadowMmu.Dumps;

namespace ShadowMmu.Benchmarks.RealGuests;

/// <summary>
/// The library's batch translation (<see cref="AddressTranslator.Translate"/>: a debugger's view, nothing stored) on a
/// real guest's raw image, per address: the addresses QEMU's gva2gpa was asked about (shuffled; a third of them
/// unmapped), or one address in every page the guest maps (shuffled: every table of the address space is read).
/// memflow publishes about 69 ns an address for its batched translation. PAE is left out: its QEMU images need the
/// tool's lenient PDPTE reading, which the library's MOV to CR3 does not do.
/// </summary>
[MemoryDiagnoser]
public class TranslatorBenchmarks
{
    private const int Addresses = 1 << 16;

    private MemoryDump _dump = null!;
    private AddressTranslator _translator = null!;
    private ulong[] _vas = Array.Empty<ulong>();
    private AddressTranslation[] _results = Array.Empty<AddressTranslation>();

    [Params("long4", "long5", "pae", "legacy32")]
    public string Guest { get; set; } = "long4";

    /// <summary>Which addresses: QEMU's samples, or one in every mapped page.</summary>
    [Params("samples", "pages")]
    public string Set { get; set; } = "samples";

    [GlobalSetup]
    public void Setup()
    {
        RealGuestImage guest = RealGuestImage.Get(Guest);
        _dump = MemoryDump.Open(guest.RawPath);
        _translator = new AddressTranslator(_dump.Memory, guest.State);
        var random = new Random(15);
        ulong[] source = Set == "samples" ? guest.Samples : MappedPages(_dump.Memory, guest.State, random);
        random.Shuffle(source);
        _vas = new ulong[Addresses];
        for (int i = 0; i < Addresses; i++)
        {
            _vas[i] = source[i % source.Length];
        }

        _results = new AddressTranslation[Addresses];
    }

    [GlobalCleanup]
    public void Cleanup() => _dump.Dispose();

    /// <summary>A batch of addresses, each a supervisor read.</summary>
    [Benchmark(OperationsPerInvoke = Addresses)]
    public int Translate() => _translator.Translate(_vas, _results);

    /// <summary>One address at a time (<see cref="AddressTranslator.TryTranslate"/>).</summary>
    [Benchmark(OperationsPerInvoke = Addresses)]
    public ulong TranslateOneByOne()
    {
        ulong sum = 0;
        foreach (ulong va in _vas)
        {
            _translator.TryTranslate(va, out ulong pa);
            sum += pa;
        }

        return sum;
    }

    // One address in every page the address space maps, at a random offset in it.
    internal static ulong[] MappedPages(GuestMemory memory, in CpuState cpu, Random random)
    {
        var pages = new Collector(new List<ulong>(), random);
        PagingModeInfo mode = PagingModes.Select(cpu)!;
        ulong[] registers = new ulong[PagingModeFacts.Of(mode).RootRegisters];
        PagingModes.ReadRootRegistersAsLoaded(memory, cpu, registers);   // PAE: the image's PDPTEs as the registers held them
        new AddressSpace(mode, memory, cpu, registers).Enumerate(ref pages);
        return pages.Vas.ToArray();
    }

    private readonly struct Collector(List<ulong> vas, Random random) : IMappingVisitor
    {
        public List<ulong> Vas => vas;

        public void Page(in MappedPage page) => vas.Add(page.Va + (ulong)random.NextInt64((long)page.Size));
    }
}
