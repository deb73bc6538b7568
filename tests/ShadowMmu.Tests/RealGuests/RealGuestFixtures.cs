using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;

namespace ShadowMmu.Tests.RealGuests;

/// <summary>
/// The real-guest fixtures (tests/fixtures/real-guests, see its README): four Debian 12 guests under
/// qemu-system-x86_64 7.2 TCG, one per paging mode (long4, long5, pae, legacy32), each stopped twice with two vCPUs.
/// Files are rebuilt on first use into a folder of this test run (deleted when the process exits) and kept for the run;
/// or, with SHADOWMMU_REAL_GUESTS_DIR set, into that folder for good.
/// </summary>
internal static class RealGuestFixtures
{
    private static readonly Lazy<string> Data = new(FindDataDirectory);
    private static readonly Lazy<FixtureManifest> LoadedManifest = new(() => FixtureManifest.Load(Path.Combine(DataDirectory, "manifest.json")));
    private static readonly Lazy<PageStore> Store = new(() => new PageStore(DataDirectory, Manifest.PageFiles));
    private static readonly Lazy<IReadOnlyList<RealGuest>> AllGuests = new(() => Manifest.Modes.Select(m => new RealGuest(m)).ToArray());
    private static readonly Lazy<string> Cache = new(CreateCache);
    private static readonly ConcurrentDictionary<string, Lazy<string>> Rebuilt = new(StringComparer.Ordinal);

    /// <summary>tests/fixtures/real-guests/data.</summary>
    public static string DataDirectory => Data.Value;

    public static FixtureManifest Manifest => LoadedManifest.Value;

    internal static PageStore Pages => Store.Value;

    /// <summary>Every guest, in the manifest's order.</summary>
    public static IReadOnlyList<RealGuest> Guests => AllGuests.Value;

    /// <summary>The guest of one paging mode: "long4", "long5", "pae" or "legacy32".</summary>
    public static RealGuest Guest(string mode) => Guests.Single(g => g.Mode == mode);

    /// <summary>The stop <paramref name="stop"/> (1 or 2) of <paramref name="mode"/>'s guest.</summary>
    public static GuestStop Stop(string mode, int stop) => Guest(mode).Stops.Single(s => s.Number == stop);

    /// <summary>Rebuilds a file once per test run; returns its path.</summary>
    internal static string Rebuild(string key, Action<string> write) =>
        Rebuilt.GetOrAdd(key, k => new Lazy<string>(
            () =>
            {
                string path = Path.Combine(Cache.Value, k.Replace('/', '-'));
                write(path);
                return path;
            },
            LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private static string FindDataDirectory()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "fixtures", "real-guests", "data");
            if (File.Exists(Path.Combine(candidate, "manifest.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/fixtures/real-guests/data/manifest.json not found above " + AppContext.BaseDirectory);
    }

    // SHADOWMMU_REAL_GUESTS_DIR: rebuild the files there and keep them (the README's examples run on them), e.g.
    // SHADOWMMU_REAL_GUESTS_DIR=$PWD/guests dotnet test tests/ShadowMmu.Tests --filter RealGuestReconstructionTests
    private static string CreateCache()
    {
        if (Environment.GetEnvironmentVariable("SHADOWMMU_REAL_GUESTS_DIR") is { Length: > 0 } kept)
        {
            Directory.CreateDirectory(kept);
            return kept;
        }

        string path = Path.Combine(Path.GetTempPath(), "shadowmmu-real-guests-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(path, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return path;
    }
}

/// <summary>One guest: a paging mode, its kernel and command line, its console and the program's printout, its stops.</summary>
internal sealed class RealGuest
{
    private readonly Lazy<IReadOnlyDictionary<string, string>> _texts;
    private readonly Lazy<MmtestLog> _mmtest;

    public RealGuest(ModeEntry entry)
    {
        Entry = entry;
        _texts = new Lazy<IReadOnlyDictionary<string, string>>(() => ReadTexts(Path.Combine(RealGuestFixtures.DataDirectory, entry.Texts)));
        _mmtest = new Lazy<MmtestLog>(() => MmtestLog.Parse(Console));
        Stops = entry.Stops.Select(s => new GuestStop(this, s)).ToArray();
    }

    public ModeEntry Entry { get; }

    /// <summary>"long4", "long5", "pae" or "legacy32": the paging mode the guest ran in (the walker's name for it).</summary>
    public string Mode => Entry.Mode;

    public IReadOnlyList<GuestStop> Stops { get; }

    /// <summary>The serial console: kernel messages and mmtest's "MMTEST ..." lines.</summary>
    public string Console => Text("console.log");

    public MmtestLog Mmtest => _mmtest.Value;

    /// <summary>A text of the mode: "console.log" or "stopN/cpuK-{registers,tlb,mem,gva2gpa}.txt".</summary>
    public string Text(string name) => _texts.Value[name];

    public override string ToString() => Mode;

    private static IReadOnlyDictionary<string, string> ReadTexts(string path)
    {
        byte[] bytes = PageStore.ReadBrotli(path);
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        int at = 0;
        while (at < bytes.Length)
        {
            int newline = Array.IndexOf(bytes, (byte)'\n', at);
            string[] header = Encoding.ASCII.GetString(bytes, at, newline - at).Split(' ');
            if (header.Length != 3 || header[0] != "==")
            {
                throw new InvalidDataException(path + ": bad text header");
            }

            int length = int.Parse(header[2], CultureInfo.InvariantCulture);
            texts[header[1]] = Encoding.UTF8.GetString(bytes, newline + 1, length);
            at = newline + 1 + length;
        }

        return texts;
    }
}

/// <summary>One stop of a guest: the files QEMU wrote there (rebuilt on demand) and what the monitor said per vCPU.</summary>
internal sealed class GuestStop
{
    public const string Raw = "memory.raw", Elf = "memory.elf", KdumpZlib = "memory.kdump-zlib";

    private readonly Lazy<StopMemory> _memory;
    private readonly Lazy<IReadOnlyList<VcpuRecord>> _cpus;

    public GuestStop(RealGuest guest, StopEntry entry)
    {
        Guest = guest;
        Entry = entry;
        _memory = new Lazy<StopMemory>(() => new StopMemory(
            RealGuestFixtures.Pages,
            entry.Regions.Select(r => (r.Paddr, PageStore.ReadPageMap(Path.Combine(RealGuestFixtures.DataDirectory, r.PageMap))))));
        _cpus = new Lazy<IReadOnlyList<VcpuRecord>>(() => entry.Cpus.Select(c => new VcpuRecord(this, c.Cpu)).ToArray());
    }

    public RealGuest Guest { get; }

    public StopEntry Entry { get; }

    /// <summary>1: both vCPUs in mmtest at CPL 3; 2: after munmap/mprotect/fork, vCPU 0 at CPL 3, vCPU 1 halted in the kernel.</summary>
    public int Number => Entry.Stop;

    /// <summary>The guest's RAM size: the raw image's length.</summary>
    public long MemorySize => Entry.Files[Raw].Size;

    /// <summary>Names of the files recorded at this stop ("memory.raw", "memory.elf", "memory.kdump-zlib").</summary>
    public IEnumerable<string> FileNames => Entry.Files.Keys;

    /// <summary>pmemsave 0 SIZE: rebuilt (sparse) on first use.</summary>
    public string RawPath => FilePath(Raw);

    /// <summary>dump-guest-memory (ELF): rebuilt on first use.</summary>
    public string ElfPath => FilePath(Elf);

    /// <summary>dump-guest-memory -z (makedumpfile's flattened kdump format, zlib pages): rebuilt on first use.</summary>
    public string KdumpZlibPath => FilePath(KdumpZlib);

    public IReadOnlyList<VcpuRecord> Cpus => _cpus.Value;

    internal StopMemory Memory => _memory.Value;

    /// <summary>QEMU's SHA-256 of a file, recorded when it was written (lower-case hex).</summary>
    public string RecordedSha256(string name) => Entry.Files[name].Sha256;

    /// <summary>The path of a rebuilt file.</summary>
    public string FilePath(string name)
    {
        FileEntry file = Entry.Files[name];
        return RealGuestFixtures.Rebuild($"{Guest.Mode}/stop{Number}/{name}", path =>
        {
            if (file.Recipe == null)
            {
                Memory.WriteRaw(path, 0);
            }
            else
            {
                FileRecipe.Load(Path.Combine(RealGuestFixtures.DataDirectory, file.Recipe)).Write(path, file.Size, Memory);
            }
        });
    }

    public override string ToString() => $"{Guest.Mode} stop {Number}";
}

/// <summary>What the monitor printed for one vCPU at a stop, parsed, with the texts kept for diffs.</summary>
internal sealed class VcpuRecord
{
    private readonly GuestStop _stop;
    private readonly Lazy<QemuRegisters> _registers;
    private readonly Lazy<IReadOnlyList<QemuTlbEntry>> _tlb;
    private readonly Lazy<IReadOnlyList<QemuMemRange>> _mem;
    private readonly Lazy<IReadOnlyList<Gva2GpaSample>> _gva2gpa;

    public VcpuRecord(GuestStop stop, int index)
    {
        _stop = stop;
        Index = index;
        _registers = new Lazy<QemuRegisters>(() => QemuRegisters.Parse(Text("registers")));
        _tlb = new Lazy<IReadOnlyList<QemuTlbEntry>>(() => QemuTlbEntry.ParseAll(TlbText));
        _mem = new Lazy<IReadOnlyList<QemuMemRange>>(() => QemuMemRange.ParseAll(MemText));
        _gva2gpa = new Lazy<IReadOnlyList<Gva2GpaSample>>(() => Gva2GpaSample.ParseAll(Text("gva2gpa")));
    }

    /// <summary>The vCPU's index (the monitor's <c>cpu N</c>).</summary>
    public int Index { get; }

    public QemuRegisters Registers => _registers.Value;

    /// <summary><c>info tlb</c> as printed.</summary>
    public string TlbText => Text("tlb");

    /// <summary><c>info mem</c> as printed (empty for the 5-level guest: QEMU 7.2's bug).</summary>
    public string MemText => Text("mem");

    public IReadOnlyList<QemuTlbEntry> Tlb => _tlb.Value;

    public IReadOnlyList<QemuMemRange> Mem => _mem.Value;

    public IReadOnlyList<Gva2GpaSample> Gva2Gpa => _gva2gpa.Value;

    public override string ToString() => $"{_stop} cpu {Index}";

    private string Text(string what) => _stop.Guest.Text($"stop{_stop.Number}/cpu{Index}-{what}.txt");
}
