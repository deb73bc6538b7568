using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using ShadowMmu.Dumps;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Dumps;

/// <summary>
/// Seeded, reproducible mutation fuzzing of every reader: valid files of each format (real QEMU output where it is
/// small enough, else files built from it), opened from memory, get bit flips (anywhere and in the headers), truncations, header fields
/// overwritten with boundary values, and random bytes appended; opening each must either succeed or throw
/// DumpFormatException, allocate no huge amounts, and leave a usable dump. A failure names the seed and the case.
/// </summary>
public sealed class DumpFuzzTests
{
    private const int CasesPerFormat = 1000;
    private static readonly ulong[] Boundary = { 0, 1, 0x7f, 0x80, 0xff, 0xfff, 0x1000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000, 1UL << 46, 1UL << 60, long.MaxValue, ulong.MaxValue };

    private readonly ITestOutputHelper _output;

    public DumpFuzzTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> Seeds() => new(SeedFiles.Keys);

    private static readonly Dictionary<string, Func<byte[]>> SeedFiles = new()
    {
        ["elf64"] = () => SmallElf(true),
        ["elf32"] = () => SmallElf(false),
        ["elf-flattened"] = () => DumpWriters.Flatten(SmallElf(true), 4096, reverse: false),
        ["kdump-zlib-flat"] = () => File.ReadAllBytes(DumpFixtures.Path("pae", "kdump-zlib-flat")),
        ["kdump-zlib"] = () => File.ReadAllBytes(DumpFixtures.Path("pae", "kdump-zlib")),
        ["kdump-lzo-flat"] = () => File.ReadAllBytes(DumpFixtures.Path("long4", "kdump-lzo-flat")),
        ["kdump-snappy"] = () => File.ReadAllBytes(DumpFixtures.Path("long4", "kdump-snappy")),
        ["lime"] = () =>
        {
            byte[] raw = File.ReadAllBytes(DumpFixtures.Path("long4", "raw"));
            return DumpWriters.Lime(new[] { DerivedDumpTests.Range(raw, 0, 0x3000), DerivedDumpTests.Range(raw, 0x300000, 0x306000) });
        },
    };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void MutatedDumpsOpenOrFailWithDumpFormatException(string seedName)
    {
        byte[] seed = SeedFiles[seedName]();
        using (MemoryDump valid = MemoryDump.Open(DerivedDumpTests.Write(seedName, seed)))
        {
            Assert.NotEmpty(valid.PresentRanges);   // the seed itself is a good dump
        }

        int opened = 0, refused = 0;
        var clock = Stopwatch.StartNew();
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        for (int @case = 0; @case < CasesPerFormat; @case++)
        {
            var random = new Random(HashCode.Combine(seedName.Length, seedName[^1], @case));
            byte[] mutated = Mutate(seed, random, seedName.StartsWith("kdump", StringComparison.Ordinal));
            long allocated = GC.GetTotalAllocatedBytes(precise: false);
            try
            {
                using MemoryDump dump = MemoryDump.Open(new MemorySource($"{seedName}-{@case}", mutated), progress: null);
                Touch(dump);
                opened++;
            }
            catch (DumpFormatException e)
            {
                Assert.DoesNotContain('\n', e.Message);
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{seedName} case {@case}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }

            long used = GC.GetTotalAllocatedBytes(precise: false) - allocated;
            Assert.True(used < 256L << 20, $"{seedName} case {@case} allocated {used:#,0} bytes");
        }

        _output.WriteLine($"{seedName}: {CasesPerFormat} cases, {opened} opened, {refused} refused, {clock.ElapsedMilliseconds} ms ({(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds:0} ms of CPU)");
        Assert.True(refused > 0, "no mutation was refused: the fuzzer does not reach the checks");
    }

    private static byte[] Mutate(byte[] seed, Random random, bool kdump)
    {
        byte[] file = (byte[])seed.Clone();
        int headerSpan = Math.Min(file.Length, kdump ? 0x3000 + 24 * 64 : 0x400);
        switch (random.Next(6))
        {
            case 0:   // bit flips anywhere
                for (int i = random.Next(1, 9); i > 0; i--)
                {
                    file[random.Next(file.Length)] ^= (byte)(1 << random.Next(8));
                }

                return file;
            case 1:   // bit flips in the headers
                for (int i = random.Next(1, 5); i > 0; i--)
                {
                    file[random.Next(headerSpan)] ^= (byte)(1 << random.Next(8));
                }

                return file;
            case 2:   // truncation
                return file.AsSpan(0, random.Next(file.Length)).ToArray();
            case 3:   // a header field overwritten with a boundary value, or a random one
            {
                int width = new[] { 1, 2, 4, 8 }[random.Next(4)];
                int at = random.Next(Math.Max(1, headerSpan - width));
                ulong value = random.Next(3) == 0 ? (ulong)random.NextInt64() : Boundary[random.Next(Boundary.Length)];
                if (random.Next(4) == 0)
                {
                    value = (ulong)file.Length + (ulong)random.Next(-64, 64);
                }

                Span<byte> field = file.AsSpan(at, width);
                Span<byte> bytes = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
                if (random.Next(2) == 0 && kdump)
                {
                    BinaryPrimitives.WriteUInt64BigEndian(bytes, value << (8 * (8 - width)));   // flattened records are big-endian
                }

                bytes[..width].CopyTo(field);
                return file;
            }

            case 4:   // random bytes appended
            {
                var tail = new byte[random.Next(1, 5000)];
                random.NextBytes(tail);
                return file.Concat(tail).ToArray();
            }

            default:   // a run of random bytes somewhere
            {
                int length = random.Next(1, 64);
                int at = random.Next(Math.Max(1, file.Length - length));
                random.NextBytes(file.AsSpan(at, Math.Min(length, file.Length - at)));
                return file;
            }
        }
    }

    /// <summary>What a user of a dump does first: read around its ranges and ask about pages.</summary>
    private static void Touch(MemoryDump dump)
    {
        Assert.True(dump.Memory.Size <= 1UL << 46);
        foreach (PhysicalRange range in dump.PresentRanges.Take(8))
        {
            Assert.True(dump.IsPresent(range.Start));
            dump.Memory.TryReadUInt64(range.Start & ~7UL, out _);
            dump.Memory.TryReadUInt64((range.End - 1) & ~7UL, out _);
        }

        dump.GetPageState(0);
        dump.GetPageState(dump.Memory.Size);
        _ = dump.Cpus.Count + dump.Description.Length + (dump.VmcoreInfo?.Entries.Count ?? 0);
    }

    private static byte[] SmallElf(bool is64)
    {
        byte[] notes = DumpWriters.ElfNotes(File.ReadAllBytes(DumpFixtures.Path(is64 ? "long4" : "pae", "elf")));
        byte[] raw = File.ReadAllBytes(DumpFixtures.Path(is64 ? "long4" : "pae", "raw"));
        return DumpWriters.Elf(is64, (ushort)(is64 ? 62 : 3), notes,
            new[] { DerivedDumpTests.Range(raw, 0, 0x2000), DerivedDumpTests.Range(raw, 0x200000, 0x204000), DerivedDumpTests.Range(raw, 0x300000, 0x302000) }, false);
    }
}
