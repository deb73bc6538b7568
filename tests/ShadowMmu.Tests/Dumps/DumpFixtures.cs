using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using ShadowMmu.Tests.Packaging;

namespace ShadowMmu.Tests.Dumps;

/// <summary>
/// The QEMU captures in tests/fixtures/dumps (see capture.sh there), unpacked once per test run into a scratch
/// folder: NAME.FORMAT.gz files are gunzipped, NAME.FORMAT.sparse.gz descriptions become sparse files.
/// </summary>
internal static class DumpFixtures
{
    public static readonly string[] Guests = { "long4", "pae", "legacy32" };
    public static readonly string[] KdumpFormats = { "kdump-zlib-flat", "kdump-zlib", "kdump-lzo-flat", "kdump-snappy" };

    private static readonly string Scratch = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "shadowmmu-dumps-" + Guid.NewGuid().ToString("N")[..8]);
    private static readonly ConcurrentDictionary<string, Lazy<string>> Unpacked = new();

    static DumpFixtures() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        try
        {
            Directory.Delete(Scratch, recursive: true);   // the unpacked captures (and a 4 GiB sparse file) go with the run
        }
        catch (IOException)
        {
        }
    };

    public static string Folder => System.IO.Path.Combine(PackagingHarness.RepositoryRoot, "tests", "fixtures", "dumps");

    /// <summary>The path of the unpacked capture NAME.FORMAT (e.g. "long4", "elf").</summary>
    public static string Path(string guest, string format) =>
        Unpacked.GetOrAdd($"{guest}.{format}", file => new Lazy<string>(() => Unpack(file))).Value;

    public static string Registers(string guest) => File.ReadAllText(System.IO.Path.Combine(Folder, guest + ".registers.txt"));

    /// <summary>A scratch file path for a test to write a dump of its own.</summary>
    public static string NewFile(string name)
    {
        Directory.CreateDirectory(Scratch);
        return System.IO.Path.Combine(Scratch, Guid.NewGuid().ToString("N")[..8] + "-" + name);
    }

    private static string Unpack(string file)
    {
        Directory.CreateDirectory(Scratch);
        string target = System.IO.Path.Combine(Scratch, file);
        string gz = System.IO.Path.Combine(Folder, file + ".gz");
        string sparse = System.IO.Path.Combine(Folder, file + ".sparse.gz");
        if (File.Exists(gz))
        {
            using var input = new GZipStream(File.OpenRead(gz), CompressionMode.Decompress);
            using FileStream output = File.Create(target);
            input.CopyTo(output);
        }
        else
        {
            UnpackSparse(sparse, target);
        }

        return target;
    }

    /// <summary>sparsepack.py's description: "SPARSE01", u64 length, (u64 offset, u32 length, bytes)..., u64 max.</summary>
    private static void UnpackSparse(string packed, string target)
    {
        using var input = new BinaryReader(new GZipStream(File.OpenRead(packed), CompressionMode.Decompress));
        if (new string(input.ReadChars(8)) != "SPARSE01")
        {
            throw new InvalidDataException(packed + " is not a sparse description");
        }

        using FileStream output = File.Create(target);
        output.SetLength(input.ReadInt64());
        while (true)
        {
            ulong offset = input.ReadUInt64();
            if (offset == ulong.MaxValue)
            {
                return;
            }

            int length = input.ReadInt32();
            output.Position = (long)offset;
            output.Write(input.ReadBytes(length));
        }
    }
}

/// <summary>One CPU's `info registers` as qemu-system-x86_64 7.2 prints it (64-bit or 32-bit form).</summary>
internal sealed class InfoRegisters
{
    public ulong[] Gpr { get; } = new ulong[18];   // rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags
    public (uint Selector, ulong Base, uint Limit, uint Flags)[] Segments { get; } = new (uint, ulong, uint, uint)[10];
    public ulong Cr0 { get; private set; }
    public ulong Cr2 { get; private set; }
    public ulong Cr3 { get; private set; }
    public ulong Cr4 { get; private set; }
    public ulong Efer { get; private set; }

    /// <summary>Every CPU in the text, in CPU order.</summary>
    public static InfoRegisters[] ParseAll(string text)
    {
        string[] parts = text.Split("CPU#", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var cpus = new InfoRegisters[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            cpus[i] = Parse(parts[i]);
        }

        return cpus;
    }

    private static InfoRegisters Parse(string text)
    {
        var r = new InfoRegisters();
        string[] names = { "AX", "BX", "CX", "DX", "SI", "DI", "SP", "BP", "8", "9", "10", "11", "12", "13", "14", "15", "IP", "FL" };
        string[] segments = { "CS", "DS", "ES", "FS", "GS", "SS", "LDT", "TR", "GDT", "IDT" };
        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine.TrimEnd().Replace("R8 =", "R8=", StringComparison.Ordinal).Replace("R9 =", "R9=", StringComparison.Ordinal);
            foreach (string token in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                int equals = token.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0 || equals == token.Length - 1)
                {
                    continue;
                }

                string name = token[..equals];
                string value = token[(equals + 1)..];
                if (!ulong.TryParse(value, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong number))
                {
                    continue;
                }

                string bare = name.Length > 1 && (name[0] == 'R' || name[0] == 'E') ? name[1..] : name;
                int gpr = Array.IndexOf(names, bare);
                if (gpr >= 0 && name != "EFER" && !name.StartsWith("CR", StringComparison.Ordinal))
                {
                    r.Gpr[gpr] = number;
                }

                switch (name)
                {
                    case "CR0": r.Cr0 = number; break;
                    case "CR2": r.Cr2 = number; break;
                    case "CR3": r.Cr3 = number; break;
                    case "CR4": r.Cr4 = number; break;
                    case "EFER": r.Efer = number; break;
                }
            }

            // "CS =0008 0000000000000000 ffffffff 00af9b00 ...", "GDT=     0000000000100218 00000017"
            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                int segment = Array.IndexOf(segments, line[..eq].Trim());
                if (segment >= 0)
                {
                    string[] fields = line[(eq + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    ulong Hex(int i) => ulong.Parse(fields[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    r.Segments[segment] = segment >= 8
                        ? (0, Hex(0), (uint)Hex(1), 0)
                        : ((uint)Hex(0), Hex(1), (uint)Hex(2), (uint)Hex(3));
                }
            }
        }

        return r;
    }
}
