using System;
using System.Globalization;
using System.IO;
using System.Text;
using BenchmarkDotNet.Attributes;
using ShadowMmu.Dumps;

namespace ShadowMmu.Benchmarks.RealGuests;

/// <summary>
/// <c>shadowmmu maps</c> on a real guest's raw image: the enumeration of the address space alone (every mapped page,
/// absent subtrees skipped; the 4- and 5-level guests map 65,842 and 73,976 pages, most of them Linux's espfix), and the
/// whole command in process for each format, its output written as the tool writes it to a null stream. Per run.
/// </summary>
[MemoryDiagnoser]
[AllocatesByDesign("each print is one maps command: its writer and 64 KiB output block are made per run (about one byte per page); the enumeration alone allocates nothing, AddressSpaceAllocationTests")]
public class MapsBenchmarks
{
    private RealGuestImage _guest = null!;
    private MemoryDump _dump = null!;
    private AddressSpace _space = null!;
    private string[] _arguments = Array.Empty<string>();
    private TextWriter _null = null!;

    [Params("long4", "long5", "pae", "legacy32")]
    public string Guest { get; set; } = "long4";

    [GlobalSetup]
    public void Setup()
    {
        _guest = RealGuestImage.Get(Guest);
        _dump = MemoryDump.Open(_guest.RawPath);
        CpuState s = _guest.State;
        _space = new AddressSpace(PagingModes.Select(s)!, _dump.Memory, s, LenientPdptes(_dump.Memory, s));
        _arguments = new[]
        {
            "maps", "--image", _guest.RawPath, "--cr0", Hex(s.Cr0), "--cr3", Hex(s.Cr3), "--cr4", Hex(s.Cr4), "--efer", Hex(s.Efer), "--format",
        };
        _null = new StreamWriter(Stream.Null, new UTF8Encoding(false), 1 << 16);
        long pages = Enumerate();
        if (pages < _guest.TlbLines || pages > _guest.TlbLines + 64)
        {
            throw new InvalidOperationException($"{_guest}: {pages} pages enumerated, QEMU's info tlb has {_guest.TlbLines} lines");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _dump.Dispose();

    /// <summary>Every mapped page of the address space, counted.</summary>
    [Benchmark(OperationsPerInvoke = 1)]
    public long Enumerate()
    {
        var count = default(PageCounter);
        return _space.Enumerate(ref count).Pages;
    }

    /// <summary><c>maps --format table</c>, the whole command: the image opened, the runs printed.</summary>
    [Benchmark(OperationsPerInvoke = 1)]
    public int Table() => Maps("table");

    /// <summary><c>maps --format tlb</c>: a line per page, as QEMU's <c>info tlb</c>.</summary>
    [Benchmark(OperationsPerInvoke = 1)]
    public int Tlb() => Maps("tlb");

    /// <summary><c>maps --format mem</c>: QEMU's <c>info mem</c> runs.</summary>
    [Benchmark(OperationsPerInvoke = 1)]
    public int Mem() => Maps("mem");

    /// <summary><c>maps --format json</c>.</summary>
    [Benchmark(OperationsPerInvoke = 1)]
    public int Json() => Maps("json");

    private int Maps(string format)
    {
        int exit = ShadowMmu.Cli.Program.Run([.. _arguments, format], _null, Console.Error);
        return exit == 0 ? exit : throw new InvalidOperationException($"maps --format {format} exited {exit}");
    }

    // PAE: the image's PDPTEs as the registers held them (QEMU's TCG set bit 5, reserved, after the load), as maps reads them.
    private static ulong[] LenientPdptes(GuestMemory memory, in CpuState cpu)
    {
        PagingModeFacts facts = PagingModeFacts.Of(PagingModes.Select(cpu)!);
        var registers = new ulong[facts.RootRegisters];
        for (int i = 0; i < registers.Length; i++)
        {
            ulong entry = memory.ReadEntry((cpu.Cr3 & facts.RootMask) + (ulong)(8 * i), 8);
            registers[i] = (entry & 1) != 0 ? entry & ~facts.RootRegisterFlagsReserved : entry;
        }

        return registers;
    }

    private static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    private struct PageCounter : IMappingVisitor
    {
        public void Page(in MappedPage page)
        {
        }
    }
}
