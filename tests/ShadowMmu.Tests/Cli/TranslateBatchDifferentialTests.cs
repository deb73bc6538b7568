using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using ShadowMmu.Cli;
using ShadowMmu.Tests.Cli.Oracle;
using ShadowMmu.Tests.Dumps;
using Xunit;

namespace ShadowMmu.Tests.Cli;

/// <summary>
/// The batch path (UTF-8 chunks on every core, Utf8JsonReader, answers formatted in place, a read that reuses the last
/// line's case) answers byte for byte as the path it replaced (<see cref="LegacyBatchTranslator"/>: JsonDocument,
/// Utf8JsonWriter, strings, one thread) on tens of thousands of generated lines: every mode, EPT alone and in two
/// dimensions, PAE's PDPTE choices, self-referencing tables whose A/D flags alias, dumps with CPU notes and holes, and
/// every kind of bad line (syntax, types, numbers, keys, encodings, line endings), in runs that differ only in their
/// address and in runs that differ elsewhere.
/// </summary>
public sealed class TranslateBatchDifferentialTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly List<Target> _targets = new();

    public TranslateBatchDifferentialTests()
    {
        TestImage long4 = TestImage.BuildLong4(_dir.File("long4.bin"));
        _targets.Add(new Target("long4.bin", new CpuState(0x80010033, long4.Cr3, 0x20, 0xd00), new[]
        {
            TestImage.Long4.UserRw, TestImage.Long4.UserRo, TestImage.Long4.UserNx, TestImage.Long4.NotPresent, TestImage.Long4.Kernel, TestImage.Long4.Large,
        }));
        foreach (string mode in ExampleImage.ModeNames)
        {
            using GuestMemory memory = GuestMemory.Allocate(ExampleImage.Size);
            ExampleLayout layout = ExampleImage.Build(memory, mode);
            string name = $"example-{mode}.bin";
            Save(memory, name);
            _targets.Add(new Target(name, layout.Cpu, layout.Pages.Select(p => p.Va).ToArray(), layout.Mode.IsEpt));
            if (layout.Guest is { } guest)
            {
                _targets.Add(new Target(name, guest.Cpu, guest.Pages.Select(p => p.Va).ToArray()));
            }
        }

        _targets.Add(SelfReferencing());
        _targets.Add(PaeWithAccessedPdptes());
        foreach ((string guest, string format) in new[] { ("long4", "elf"), ("pae", "kdump-snappy"), ("legacy32", "kdump-zlib"), ("hole4200", "elf") })
        {
            _targets.Add(new Target(DumpFixtures.Path(guest, format), default, new ulong[] { 0x800000, 0x801234, 0x82f008, 0x400123, 0xc0300010, 0xffffffff80300010, 0x40000000 }, Dump: true));
        }

        File.WriteAllBytes(_dir.File("empty.bin"), Array.Empty<byte>());
        Directory.CreateDirectory(_dir.File("folder.bin"));
    }

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(1, 30_000)]
    [InlineData(2, 30_000)]
    [InlineData(3, 3_000)]
    public void The_batch_answers_as_the_path_it_replaced(int seed, int lines)
    {
        byte[] batch = new BatchGenerator(new Random(seed), _targets).Generate(lines, withBom: seed == 3);
        string file = _dir.File($"cases-{seed}.jsonl");
        File.WriteAllBytes(file, batch);

        (string expected, int errors, string? firstError, int cases) = Legacy(file);
        CliResult actual = CliHarness.Run("translate", "--batch", file, "--fail-on-error");

        AssertSameLines(expected, actual.Stdout);
        Assert.Equal(errors == 0 ? 0 : 2, actual.ExitCode);
        Assert.Equal(errors == 0 ? string.Empty : $"shadowmmu: error: {CommandLineHost.OneLine($"{errors} of {cases} cases could not be run (the first: {firstError})")}\n", actual.Stderr);
        Assert.True(errors > lines / 20 && errors < lines / 2, $"{errors} of {cases} cases were errors: the generator should make some, not mostly");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Any_number_of_threads_answers_the_same(int threads)
    {
        byte[] batch = new BatchGenerator(new Random(7), _targets).Generate(20_000, withBom: false);
        string file = _dir.File("cases-threads.jsonl");
        File.WriteAllBytes(file, batch);
        (string expected, _, _, _) = Legacy(file);

        var output = new StringWriter { NewLine = "\n" };
        using (var translator = new BatchTranslator(_dir.Path, output, null, threads))
        using (Stream input = BatchInput.OpenFile(file))
        {
            translator.Run(input);
        }

        AssertSameLines(expected, output.ToString());
    }

    [Fact]
    public void Standard_input_as_text_answers_the_same()
    {
        // In-process, --batch - reads a TextReader: the lines as decoded text, U+FFFD where a byte was not UTF-8. Image
        // paths are absolute (standard input's start in the current folder, which tests must not change).
        string text = Encoding.UTF8.GetString(new BatchGenerator(new Random(11), _targets, _dir.Path).Generate(5_000, withBom: false));
        var expected = new StringWriter { NewLine = "\n" };
        using (var legacy = new LegacyBatchTranslator(Directory.GetCurrentDirectory(), expected))
        {
            legacy.Run(new StringReader(text));
        }

        CliResult actual = CliHarness.RunWithInput(text, "translate", "--batch", "-");

        AssertSameLines(expected.ToString(), actual.Stdout);
    }

    private (string Output, int Errors, string? FirstError, int Cases) Legacy(string file)
    {
        var output = new StringWriter { NewLine = "\n" };
        using var legacy = new LegacyBatchTranslator(_dir.Path, output);
        using var reader = new StreamReader(file, Encoding.UTF8, true);
        int cases = legacy.Run(reader);
        return (output.ToString(), legacy.Errors, legacy.FirstError, cases);
    }

    private static void AssertSameLines(string expected, string actual)
    {
        string[] want = expected.Split('\n');
        string[] got = actual.Split('\n');
        var differences = new List<string>();
        for (int i = 0; i < Math.Max(want.Length, got.Length) && differences.Count < 5; i++)
        {
            string w = i < want.Length ? want[i] : "(none)";
            string g = i < got.Length ? got[i] : "(none)";
            if (w != g)
            {
                differences.Add($"answer {i + 1}:\n  legacy: {w}\n  new:    {g}");
            }
        }

        Assert.True(differences.Count == 0, $"{want.Length} legacy and {got.Length} new lines; first differences:\n" + string.Join("\n", differences));
    }

    private void Save(GuestMemory memory, string name)
    {
        byte[] bytes = new byte[memory.Size];
        memory.Read(0, bytes);
        File.WriteAllBytes(_dir.File(name), bytes);
    }

    // A 4-level guest whose PML4 maps itself at slot 510 (the recursive mapping Windows uses), no A/D flags anywhere:
    // a walk through the slot reads one entry at several levels and sets its flags more than once.
    private Target SelfReferencing()
    {
        using GuestMemory memory = GuestMemory.Allocate(ExampleImage.Size);
        var builder = new PageTableBuilder(memory, PagingModes.All.Single(m => m.Name == "long4"), 0x1000, 0x10_0000);
        builder.Map(0x40_0000, 0x20_0000, 0x1000, 0x7);
        builder.Map(0x7FFF_0000, 0x20_1000, 0x1000, 0x3);
        memory.WriteUInt64(builder.Root + (510 * 8), builder.Root | 0x3);
        Save(memory, "selfref.bin");
        ulong Recursive(int l4, int l3, int l2, int l1) => 0xFFFF_0000_0000_0000UL | ((ulong)l4 << 39) | ((ulong)l3 << 30) | ((ulong)l2 << 21) | ((ulong)l1 << 12);
        return new Target("selfref.bin", new CpuState(0x80010033, builder.Root, 0x20, 0xd00), new[]
        {
            Recursive(510, 510, 510, 510), Recursive(510, 510, 510, 0), Recursive(510, 510, 0, 2), Recursive(510, 0, 2, 0), 0x40_0000UL, 0x7FFF_0000UL,
        });
    }

    // A PAE guest as QEMU's TCG leaves it: bit 5 (reserved) set in a present PDPTE.
    private Target PaeWithAccessedPdptes()
    {
        using GuestMemory memory = GuestMemory.Allocate(ExampleImage.Size);
        var builder = new PageTableBuilder(memory, PagingModes.All.Single(m => m.Name == "pae"), 0x1000, 0x10_0000);
        builder.Map(0x0804_8000, 0x10_0000, 0x1000, 0x7);
        builder.Map(0xC000_0000, 0x11_0000, 0x1000, 0x3);
        memory.WriteEntry(builder.Root, memory.ReadEntry(builder.Root, 8) | 0x20, 8);
        Save(memory, "pae-accessed.bin");
        return new Target("pae-accessed.bin", new CpuState(0x80010033, builder.Root, 0x20, 0x800), new[] { 0x0804_8123UL, 0xC000_0000UL, 0x4000_0000UL });
    }

    /// <summary>An image and the registers (or EPTP) its cases use, and addresses worth asking about.</summary>
    private sealed record Target(string Image, CpuState Cpu, ulong[] Vas, bool Ept = false, bool Dump = false);

    /// <summary>Writes batch lines: good cases of every kind, bad ones of every kind, runs that share all but the address.</summary>
    private sealed class BatchGenerator
    {
        private readonly Random _random;
        private readonly List<Target> _targets;
        private readonly MemoryStream _bytes = new();
        private readonly string? _folder;

        /// <param name="folder">When given, image names are made absolute in it.</param>
        public BatchGenerator(Random random, List<Target> targets, string? folder = null)
        {
            _random = random;
            _targets = targets;
            _folder = folder;
        }

        public byte[] Generate(int lines, bool withBom)
        {
            if (withBom)
            {
                _bytes.Write(Encoding.UTF8.GetPreamble());
            }

            int written = 0;
            while (written < lines)
            {
                int kind = _random.Next(100);
                if (kind < 25)
                {
                    written += Run();
                }
                else if (kind < 75)
                {
                    Line(Good());
                    written++;
                }
                else
                {
                    Bad();
                    written++;
                }
            }

            return _bytes.ToArray();
        }

        private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

        private bool Chance(int percent) => _random.Next(100) < percent;

        // One line and its break: mostly \n, now and then \r\n or \r.
        private void Line(string text, byte[]? raw = null)
        {
            _bytes.Write(raw ?? Encoding.UTF8.GetBytes(text));
            int ending = _random.Next(50);
            _bytes.Write(ending == 0 ? "\r\n"u8 : ending == 1 ? "\r"u8 : "\n"u8);
        }

        // A run of cases that differ in their address alone (the reader's shortcut), taking turns among up to three sets of
        // the other fields (as a batch alternates between vCPUs or kinds of access), with a few that differ in more.
        private int Run()
        {
            var shapes = new List<(Target Target, string Key, List<(string Key, string Value)> Fields, int At)>();
            for (int s = _random.Next(1, 4); s > 0; s--)
            {
                Target target = Pick(_targets);
                List<(string Key, string Value)> fields = Fields(target);
                fields.RemoveAll(f => f.Key is "va" or "gpa");
                shapes.Add((target, target.Ept ? "gpa" : "va", fields, _random.Next(fields.Count + 1)));
            }

            int count = _random.Next(2, 40);
            for (int i = 0; i < count; i++)
            {
                var shape = Pick(shapes);
                string address = Address(shape.Target);
                if (Chance(5))
                {
                    address = Pick(new[] { "\"0x1_000\"", "\"0xzz\"", "0123", "-1", "1.5", "\"\\u0030x10\"", "\"0x\"", "\"\"", "\"0X7FFF0000\"", "18446744073709551616", "\"0x00000000000000000001\"", "true", "\"12\"", "\"0x1\\n\"", "\"0x1 \"" });
                }

                var line = new List<(string Key, string Value)>(shape.Fields);
                line.Insert(shape.At, (shape.Key, address));
                Line(Join(line, Chance(3)));
            }

            return count;
        }

        private string Good()
        {
            Target target = Pick(_targets);
            return Join(Fields(target), Chance(30));
        }

        private List<(string Key, string Value)> Fields(Target target)
        {
            string image = _folder == null ? target.Image : Path.Combine(_folder, target.Image);
            var fields = new List<(string Key, string Value)> { ("image", Quote(Chance(2) && _folder == null ? "./" + image : image)) };
            CpuState cpu = target.Cpu;
            if (target.Dump)
            {
                if (Chance(50))
                {
                    fields.Add(("cpu", Pick(new[] { "0", "1", "5", "\"0x0\"" })));
                }

                if (Chance(20))
                {
                    fields.Add(("efer", Number(Pick(new ulong[] { 0xd00, 0x800, 0 }))));
                }

                if (Chance(10))
                {
                    fields.Add(("cr3", Number(Pick(new ulong[] { 0x205000, 0xd0000000, 0x1000 }))));
                }

                fields.Add(("va", Address(target)));
                Optional(fields);
                return fields;
            }

            if (target.Ept)
            {
                fields.Add(("eptp", Number(Chance(5) ? cpu.Eptp ^ (1UL << _random.Next(0, 8)) : cpu.Eptp)));
                fields.Add(("gpa", Address(target)));
                if (Chance(30))
                {
                    fields.Add(("mbec", Chance(50) ? "true" : "false"));
                }

                if (Chance(30))
                {
                    fields.Add(("user", Chance(50) ? "true" : "false"));
                }

                if (Chance(40))
                {
                    fields.Add(("access", Quote(Pick(new[] { "read", "write", "fetch" }))));
                }

                if (Chance(10))
                {
                    fields.Add(("maxphyaddr", Pick(new[] { "36", "46", "52", "31", "64" })));
                }

                return fields;
            }

            ulong cr0 = cpu.Cr0, cr4 = cpu.Cr4, efer = cpu.Efer;
            if (Chance(15))
            {
                cr4 ^= Pick(new ulong[] { Cr4.PSE, Cr4.SMEP, Cr4.SMAP, Cr4.PKE, Cr4.LA57, Cr4.PAE });
            }

            if (Chance(10))
            {
                efer ^= Pick(new ulong[] { Efer.NXE, Efer.LME });
            }

            if (Chance(5))
            {
                cr0 ^= Pick(new ulong[] { Cr0.WP, Cr0.PG, Cr0.PE });
            }

            if (Chance(90) || cr0 != TranslateDefaults.Cr0)
            {
                fields.Add(("cr0", Number(cr0)));
            }

            fields.Add(("cr3", Number(cpu.Cr3)));
            if (cr4 != 0 || Chance(50))
            {
                fields.Add(("cr4", Number(cr4)));
            }

            if (efer != 0 || Chance(50))
            {
                fields.Add(("efer", Number(efer)));
            }

            if (cpu.Eptp != 0)
            {
                fields.Add(("eptp", Number(cpu.Eptp)));
            }

            fields.Add(("va", Address(target)));
            Optional(fields);
            if ((cr4 & Cr4.PAE) != 0 && (efer & Efer.LME) == 0 && Chance(30))
            {
                fields.Add(Chance(50) ? ("strict_pae", "true") : ("pdptes", $"[{Number(0x2001)}, 0, {Number(((ulong)_random.NextInt64(0, 0x10000) << 12) | 1)}, \"0x0\"]"));
            }

            return fields;
        }

        private void Optional(List<(string Key, string Value)> fields)
        {
            if (Chance(60))
            {
                fields.Add(("access", Quote(Pick(new[] { "read", "write", "fetch" }))));
            }

            if (Chance(50))
            {
                fields.Add(("cpl", Pick(new[] { "0", "3", "1", "2", "\"3\"" })));
            }

            if (Chance(30))
            {
                fields.Add(("ac", Chance(50) ? "true" : "false"));
            }

            if (Chance(20))
            {
                fields.Add(("pkru", Number(Pick(new ulong[] { 0, 0x55555554, 0xC, 0x4 }))));
            }

            if (Chance(10))
            {
                fields.Add(("maxphyaddr", Pick(new[] { "36", "40", "46", "52", "31", "53" })));
            }

            if (Chance(5))
            {
                fields.Add((Pick(new[] { "cr4", "pkru", "cpl", "ac", "mbec" }), "null"));
            }
        }

        private string Address(Target target)
        {
            ulong va = Pick(target.Vas);
            va = _random.Next(10) switch
            {
                0 => (ulong)_random.NextInt64(),
                1 => va ^ (1UL << _random.Next(12, 48)),
                2 => 0xFFFF_0000_0000_0000UL | (ulong)_random.NextInt64(0, 1L << 48),
                3 => va + 0x1000,
                _ => va + (ulong)_random.Next(0x1000),
            };
            return Number(va);
        }

        // A number as people write them: hex strings mostly, integers, decimal strings, hex with _ and capitals.
        private string Number(ulong value) => _random.Next(20) switch
        {
            0 or 1 or 2 => value.ToString(CultureInfo.InvariantCulture),
            3 => Quote(value.ToString(CultureInfo.InvariantCulture)),
            4 => Quote("0X" + value.ToString("X", CultureInfo.InvariantCulture)),
            5 => Quote("0x" + string.Join("_", value.ToString("x16", CultureInfo.InvariantCulture).Chunk(4).Select(c => new string(c)))),
            _ => Quote("0x" + value.ToString("x", CultureInfo.InvariantCulture)),
        };

        private static string Quote(string text) => System.Text.Json.JsonSerializer.Serialize(text);

        private string Join(List<(string Key, string Value)> fields, bool shuffle)
        {
            IEnumerable<(string Key, string Value)> order = shuffle ? fields.OrderBy(_ => _random.Next()) : fields;
            string separator = Pick(new[] { ",", ", ", " ,\t" });
            string colon = Pick(new[] { ":", ": " });
            string body = string.Join(separator, order.Select(f => Quote(f.Key) + colon + f.Value));
            return Pick(new[] { "{", "{ ", " {" }) + body + Pick(new[] { "}", " }", "}  " });
        }

        // A line that cannot be run, or is no case at all.
        private void Bad()
        {
            string good = Good();
            switch (_random.Next(24))
            {
                case 0: Line(good[..(_random.Next(1, good.Length))]); break;                          // cut short
                case 1: Line(good + Pick(new[] { "x", " {}", ",", "]" })); break;                    // after the object
                case 2: Line(good.Replace("\"va\"", Pick(new[] { "\"vaa\"", "\"VA\"", "\"v\"" }), StringComparison.Ordinal)); break;
                case 3: Line(good.Replace("\"image\"", "\"imag\"", StringComparison.Ordinal)); break;
                case 4: Line(good.Insert(1, "\"frobnicate\": 1, ")); break;
                case 5: Line(good.Insert(1, "\"frobnicate\": null, ")); break;                       // null: as missing, even unknown
                case 6: Line(good.Insert(1, "\"cr4\": " + Pick(new[] { "-1", "1.5", "1e3", "18446744073709551616", "\"0xzz\"", "\"0x1_0000_0000_0000_0000\"", "[]", "{}", "{\"a\": [1, {}]}", "\"\"" }) + ", ")); break;
                case 7: Line(good.Insert(1, "\"ac\": " + Pick(new[] { "1", "\"true\"", "[true]" }) + ", ")); break;
                case 8: Line(good.Insert(1, "\"access\": " + Pick(new[] { "\"execute\"", "1", "\"READ\"", "\"\\u0072ead\"" }) + ", ")); break;
                case 9: Line(good.Insert(1, "\"pdptes\": " + Pick(new[] { "[1, 2, 3]", "[1, 2, 3, 4, 5]", "[1, null, 3, 4]", "[1, \"0xzz\", [], 4]", "\"1,2,3,4\"", "[[1], 2, 3, 4]" }) + ", ")); break;
                case 10: Line(good.Insert(1, "\"cpl\": " + Pick(new[] { "4", "99", "\"3\"", "-0" }) + ", ")); break;
                case 11: Line(Pick(new[] { "[1, 2]", "\"a case\"", "42", "null", "true", "image=mem.bin cr3=0x1000", "{", "}", "{}", "{\"image\": \"long4.bin\"}" })); break;
                case 12: Line(Pick(new[] { string.Empty, "   ", "\t", "\u00a0", " \u2028 ", "\v" })); break;  // blank: no case
                case 13: Line(good.Replace("\"va\"", "\"\\u0076a\"", StringComparison.Ordinal).Replace("\"image\"", "\"im\\u0061ge\"", StringComparison.Ordinal)); break;
                case 14: Line(good.Insert(1, "\"image\": \"d\u00fcmp.bin\", ")); break;                 // non-ASCII, and the later image wins
                case 15:
                    byte[] bytes = Encoding.UTF8.GetBytes(good.Insert(1, "\"image\": \"bad\u00e9.bin\", "));
                    int e = Array.IndexOf(bytes, (byte)0xC3);
                    bytes[e] = 0xFF;                                                                  // not UTF-8
                    Line(string.Empty, bytes);
                    break;
                case 16: Line(new string('[', 70) + new string(']', 70)); break;                          // too deep
                case 17: Line(good.Insert(1, "\"image\": " + Pick(new[] { "\"missing.bin\"", "\"empty.bin\"", "\"folder.bin\"", "\"\"", "7", "\"a\\\"b.bin\"", "\"/no/such/dir/x.bin\"" }) + ", ")); break;
                case 18: Line(good.Insert(1, "\"gpa\": \"0x1000\", ")); break;
                case 19: Line(good.Insert(1, "\"strict_pae\": true, \"pdptes\": [0, 0, 0, 0], ")); break;
                case 20: Line(good.Insert(1, "\"eptp\": " + Pick(new[] { "\"0x1e\"", "\"0x101e\"", "\"0x105e\"", "0" }) + ", ")); break;
                case 21: Line(good.Insert(1, "\"va\": \"0x1\", \"va\": ")); break;                       // the later va wins... once it parses
                case 22: Line(good.Replace(":", " : ", StringComparison.Ordinal).Replace(",", " ,\n", StringComparison.Ordinal)); break; // broken over lines
                default: Line(good.Insert(1, "\"cpu\": " + Pick(new[] { "-1", "2147483648", "\"1\"", "1" }) + ", ")); break;
            }
        }
    }
}
