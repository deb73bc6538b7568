using System;
using System.IO;
using System.IO.Compression;
using BenchmarkDotNet.Attributes;
using ShadowMmu.Dumps;

namespace ShadowMmu.DumpBenchmarks;

/// <summary>
/// MemoryDump.Open and Dispose on each capture of tests/fixtures/dumps: the 16 MiB 4-level guest in every format,
/// and the 4200 MiB guest with the PCI hole (a sparse file here, as the tests unpack it).
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class DumpOpenBenchmarks
{
    private string _path = string.Empty;

    [Params("long4.raw", "long4.elf", "long4.kdump-zlib-flat", "long4.kdump-zlib", "long4.kdump-lzo-flat", "long4.kdump-snappy",
        "hole4200.elf", "hole4200.kdump-zlib-flat")]
    public string Fixture { get; set; } = string.Empty;

    [GlobalSetup]
    public void Setup() => _path = Unpack(Fixture);

    [Benchmark]
    public ulong Open()
    {
        using MemoryDump dump = MemoryDump.Open(_path);
        return dump.PresentBytes;
    }

    /// <summary>The fixture as a file in the temporary folder: gunzipped, or a sparse file from its description.</summary>
    private static string Unpack(string name)
    {
        string folder = FixtureFolder();
        string target = Path.Combine(Path.GetTempPath(), "shadowmmu-dump-bench-" + name);
        if (File.Exists(target))
        {
            return target;
        }

        string gz = Path.Combine(folder, name + ".gz");
        if (File.Exists(gz))
        {
            using var input = new GZipStream(File.OpenRead(gz), CompressionMode.Decompress);
            using FileStream output = File.Create(target);
            input.CopyTo(output);
            return target;
        }

        // sparsepack.py: "SPARSE01", u64 length, (u64 offset, u32 length, bytes)..., u64 max
        using var reader = new BinaryReader(new GZipStream(File.OpenRead(Path.Combine(folder, name + ".sparse.gz")), CompressionMode.Decompress));
        reader.ReadBytes(8);
        using FileStream sparse = File.Create(target);
        sparse.SetLength(reader.ReadInt64());
        for (ulong offset = reader.ReadUInt64(); offset != ulong.MaxValue; offset = reader.ReadUInt64())
        {
            int length = reader.ReadInt32();
            sparse.Position = (long)offset;
            sparse.Write(reader.ReadBytes(length));
        }

        return target;
    }

    private static string FixtureFolder()
    {
        for (string? dir = AppContext.BaseDirectory; dir != null; dir = Path.GetDirectoryName(dir))
        {
            string candidate = Path.Combine(dir, "tests", "fixtures", "dumps");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/fixtures/dumps not found above " + AppContext.BaseDirectory);
    }
}
