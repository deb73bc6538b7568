using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace ShadowMmu.Tests.Cli;

/// <summary>What one in-process run of the tool printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Stdout split into lines (no trailing empty line).</summary>
    public string[] Lines => Stdout.Length == 0 ? Array.Empty<string>() : Stdout.TrimEnd('\n').Split('\n');

    /// <summary>Asserts the run failed as bad input does: exit 2, nothing on stdout, one line on stderr, no stack trace.</summary>
    public void AssertUsageError(string? containing = null)
    {
        Assert.True(ExitCode == 2, $"exit code {ExitCode}; stderr: {Stderr}; stdout: {Stdout}");
        Assert.Equal(string.Empty, Stdout);
        Assert.EndsWith("\n", Stderr, StringComparison.Ordinal);
        Assert.Single(Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("shadowmmu: error: ", Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ShadowMmu", Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", Stderr, StringComparison.Ordinal);
        if (containing != null)
        {
            Assert.Contains(containing, Stderr, StringComparison.Ordinal);
        }
    }
}

/// <summary>Runs <c>shadowmmu</c> in-process through <c>Program.Run</c>.</summary>
internal static class CliHarness
{
    public static CliResult Run(params string[] args) => RunWithInput(string.Empty, args);

    public static CliResult RunWithInput(string stdin, params string[] args)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        int exitCode = global::ShadowMmu.Cli.Program.Run(args, stdout, stderr, new StringReader(stdin));
        return new CliResult(exitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Splits a POSIX shell command line as the tool prints it (plain words and single-quoted ones).</summary>
    public static string[] ShellWords(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '\'')
            {
                int end = line.IndexOf('\'', i + 1);
                Assert.True(end > i, "unterminated quote in: " + line);
                word.Append(line, i + 1, end - i - 1);
                i = end;
                inWord = true;
            }
            else if (c == '\\' && i + 1 < line.Length)
            {
                word.Append(line[++i]);
                inWord = true;
            }
            else if (c == ' ')
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words.ToArray();
    }
}

/// <summary>A temporary folder, deleted with everything in it.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir(string? suffix = null)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "shadowmmu-cli-" + Guid.NewGuid().ToString("N")[..12] + (suffix ?? string.Empty));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// A physical-memory image written to a file, with page tables built by <see cref="PageTableBuilder"/>, and the
/// bytes it was written with (to read the entries tests expect).
/// </summary>
internal sealed class TestImage
{
    public const ulong Size = 4 << 20;
    public const ulong User = 1UL << 2;
    public const ulong Writable = 1UL << 1;
    public const ulong NoExecute = 1UL << 63;

    private readonly Dictionary<(ulong Va, int Level), ulong> _entryGpa = new();

    private TestImage(string path, PagingModeInfo mode, ulong cr3, byte[] bytes)
    {
        Path = path;
        Mode = mode;
        Cr3 = cr3;
        Bytes = bytes;
    }

    public string Path { get; }

    public PagingModeInfo Mode { get; }

    public ulong Cr3 { get; }

    public byte[] Bytes { get; }

    /// <summary>Builds an image for <paramref name="modeName"/>; <paramref name="map"/> adds mappings; the VAs named in <paramref name="remember"/> get their entry addresses recorded.</summary>
    public static TestImage Build(string path, string modeName, Action<PageTableBuilder, GuestMemory> map, params ulong[] remember)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        using GuestMemory memory = GuestMemory.Allocate(Size);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x10_0000);
        map(builder, memory);
        byte[] bytes = new byte[Size];
        memory.Read(0, bytes);
        System.IO.File.WriteAllBytes(path, bytes);
        var image = new TestImage(path, mode, builder.Root, bytes);
        foreach (ulong va in remember)
        {
            for (int level = 1; level <= mode.RootLevel; level++)
            {
                if (builder.EntryAddress(va, level) is ulong gpa)
                {
                    image._entryGpa[(va, level)] = gpa;
                }
            }
        }

        return image;
    }

    /// <summary>The 4 MiB long4 image most tests use: see the constants of <see cref="Long4"/>.</summary>
    public static TestImage BuildLong4(string path) => Build(path, "long4", (b, _) =>
    {
        b.Map(Long4.UserRw, 0x12_3000, 0x1000, User | Writable);
        b.Map(Long4.UserRo, 0x12_4000, 0x1000, User);
        b.Map(Long4.UserNx, 0x12_5000, 0x1000, User | Writable | NoExecute);
        b.Map(Long4.Kernel, 0x12_6000, 0x1000, Writable);
        b.Map(Long4.Large, 0x20_0000, 0x20_0000, User | Writable);
    }, Long4.UserRw, Long4.UserRo, Long4.Kernel, Long4.Large);

    public ulong EntryGpa(ulong va, int level) => _entryGpa[(va, level)];

    public ulong Entry(ulong gpa) => Mode.EntryBytes == 4
        ? BinaryPrimitives.ReadUInt32LittleEndian(Bytes.AsSpan((int)gpa))
        : BinaryPrimitives.ReadUInt64LittleEndian(Bytes.AsSpan((int)gpa));

    public static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(System.IO.File.ReadAllBytes(path)));

    /// <summary>Addresses and registers of <see cref="BuildLong4"/>.</summary>
    public static class Long4
    {
        public const ulong UserRw = 0x7FFF_0000;
        public const ulong UserRo = 0x7FFF_1000;
        public const ulong UserNx = 0x7FFF_2000;
        public const ulong NotPresent = 0x7FFF_3000;
        public const ulong Kernel = 0xFFFF_FFFF_8000_0000;
        public const ulong Large = 0x4000_0000;
        public const string Cr4 = "0x20";
        public const string Efer = "0xd00";
    }
}
