using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.IO;
using ShadowMmu.Dumps;

namespace ShadowMmu.Cli;

/// <summary>
/// <c>shadowmmu read</c>: the bytes of a linear range, read through one address space's translation as a debugger
/// reads them (rights are not checked: a supervisor read with SMAP, SMEP and protection keys out of the way), across
/// pages of any size. A page that is not mapped, or whose frame the dump does not hold, is said so, never read as
/// zeros: a hexdump prints a line in its place; a raw copy (<c>-o</c>) gets zeros there and stderr lists the ranges.
/// Exit code 0 when every byte was read, 1 when some could not be, 2 for bad input.
/// </summary>
internal static class ReadCommand
{
    /// <summary>Exit code when part of the range is not mapped or not in the dump.</summary>
    public const int PartlyUnreadableExitCode = 1;

    /// <summary>The most a hexdump prints (a raw copy with -o has no limit).</summary>
    private const ulong MaxHexdump = 64UL << 20;

    public static Command Create(CliContext context)
    {
        var space = new AddressSpaceOptions();
        var va = new Argument<ulong>("VA") { Description = "The first linear address (hex with 0x, or decimal).", CustomParser = r => Number(r, "VA") };
        var length = new Argument<ulong>("LENGTH") { Description = "How many bytes (hex with 0x, or decimal).", CustomParser = r => Number(r, "LENGTH") };
        var output = new Option<string>("-o", "--output")
        {
            Description = "Write the bytes to this file instead of a hexdump (unreadable pages as zeros there, listed on stderr).",
            HelpName = "FILE",
        };

        var command = new Command("read", "Read a linear range of a guest's memory through its page tables, as a debugger does (no rights checked), across pages of any size. Pages that are not mapped or not in the dump are reported, never read as zeros. Exit code 0 when every byte was read, 1 when some could not be, 2 for bad input.");
        foreach (Option option in space.All)
        {
            command.Add(option);
        }

        command.Add(output);
        command.Add(va);
        command.Add(length);
        command.Validators.Add(result =>
        {
            string? error = result.GetResult(space.Image) == null ? "--image is required" : space.Validate(result);
            if (error != null)
            {
                result.AddError(error);
            }
        });
        command.SetAction(parsed => Run(parsed, space, parsed.GetValue(va), parsed.GetValue(length), parsed.GetValue(output), context));
        return command;
    }

    private static int Run(ParseResult parsed, AddressSpaceOptions space, ulong va, ulong length, string? outputPath, CliContext context)
    {
        if (outputPath == null && length > MaxHexdump)
        {
            throw new CliUsageException($"LENGTH: a hexdump prints at most {TranslationFormat.SizeText(MaxHexdump)}; use -o FILE for more");
        }

        using var session = new WalkSession(context.Progress);
        (MemoryDump dump, CpuState cpu) = space.Resolve(parsed, session, context.ScanProgress);
        var reader = new LinearReader(session, dump, cpu, space.PdptesOf(parsed));
        if (length > 0 && va + (length - 1) < va)
        {
            throw new CliUsageException($"{Numbers.Hex(va)} + LENGTH {Numbers.Hex(length)} runs past the end of the address space");
        }

        return outputPath == null ? Hexdump(reader, va, length, context.Out) : CopyTo(reader, va, length, outputPath, context);
    }

    private static int Hexdump(LinearReader reader, ulong va, ulong length, TextWriter output)
    {
        var dump = new HexdumpWriter(output);
        bool complete = true;
        byte[] buffer = new byte[1 << 16];
        ulong done = 0;
        while (done < length)
        {
            LinearChunk chunk = reader.Next(va + done, length - done);
            if (chunk.Problem != null)
            {
                dump.Gap(chunk.Va, chunk.Length, chunk.Problem);
                complete = false;
            }
            else
            {
                for (ulong at = 0; at < chunk.Length; at += (ulong)buffer.Length)
                {
                    int count = (int)Math.Min((ulong)buffer.Length, chunk.Length - at);
                    reader.Memory.Read(chunk.Pa + at, buffer.AsSpan(0, count));
                    dump.Bytes(chunk.Va + at, buffer.AsSpan(0, count));
                }
            }

            done += chunk.Length;
        }

        dump.End(va + length);
        return complete ? 0 : PartlyUnreadableExitCode;
    }

    private static int CopyTo(LinearReader reader, ulong va, ulong length, string path, CliContext context)
    {
        var gaps = new List<LinearChunk>();
        try
        {
            using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            byte[] buffer = new byte[1 << 16];
            ulong done = 0;
            while (done < length)
            {
                LinearChunk chunk = reader.Next(va + done, length - done);
                if (chunk.Problem != null)
                {
                    gaps.Add(chunk);
                    Array.Clear(buffer);
                }

                for (ulong at = 0; at < chunk.Length; at += (ulong)buffer.Length)
                {
                    int count = (int)Math.Min((ulong)buffer.Length, chunk.Length - at);
                    if (chunk.Problem == null)
                    {
                        reader.Memory.Read(chunk.Pa + at, buffer.AsSpan(0, count));
                    }

                    file.Write(buffer, 0, count);
                }

                done += chunk.Length;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"cannot write '{path}': {e.Message}");
        }

        foreach (LinearChunk gap in gaps)
        {
            context.Error.WriteLine($"shadowmmu: {Numbers.Hex(gap.Va)}-{Numbers.Hex(gap.Va + gap.Length)} ({TranslationFormat.SizeText(gap.Length)}) written as zeros: {gap.Problem}");
        }

        return gaps.Count == 0 ? 0 : PartlyUnreadableExitCode;
    }

    private static ulong Number(ArgumentResult result, string name)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (text.StartsWith('-'))
        {
            result.AddError($"Unrecognized option '{text}'.");
            return 0;
        }

        if (!Numbers.TryParse(text, out ulong value))
        {
            result.AddError($"{name}: '{text}' {Numbers.Problem(text)}");
        }

        return value;
    }
}
