using System;
using System.CommandLine;
using System.IO;

namespace ShadowMmu.Cli;

/// <summary>
/// <c>shadowmmu example-image FILE [--mode long4]</c>: writes a small physical-memory image with page tables for one
/// mode, and prints the <c>shadowmmu translate</c> commands (registers included) that translate its addresses,
/// each followed by what it prints.
/// </summary>
internal static class ExampleImageCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "Where to write the image (a raw physical-memory image, 4 MiB)." };
        var mode = new Option<string>("--mode")
        {
            Description = "The paging mode of the page tables.",
            HelpName = string.Join('|', ExampleImage.ModeNames),
            DefaultValueFactory = _ => "long4",
        };
        mode.AcceptOnlyFromAmong(ExampleImage.ModeNames);
        file.Validators.Add(result =>
        {
            // System.CommandLine takes an unknown option for the argument; a file named so is written ./-name.
            if (result.Tokens.Count > 0 && result.Tokens[0].Value.StartsWith('-'))
            {
                result.AddError($"Unrecognized option '{result.Tokens[0].Value}'.");
            }
        });
        var force = new Option<bool>("--force") { Description = "Overwrite FILE if it exists (without it an existing FILE is an error, exit code 2)." };

        var command = new Command("example-image", "Write a small example physical-memory image with page tables (user and supervisor pages, a read-only one, a no-execute one, one not present, large pages), and print the 'shadowmmu translate' commands that translate its addresses, with what they print.")
        {
            file, mode, force,
        };

        command.SetAction(parsed => Write(parsed.GetValue(file)!, parsed.GetValue(mode)!, parsed.GetValue(force), context.Out));
        return command;
    }

    private static int Write(string path, string modeName, bool force, TextWriter output)
    {
        if (!force && File.Exists(path))
        {
            throw new CliUsageException($"'{path}' exists; use --force to overwrite it");
        }

        using GuestMemory memory = GuestMemory.Allocate(ExampleImage.Size);
        ExampleLayout layout = ExampleImage.Build(memory, modeName);
        byte[] bytes = new byte[ExampleImage.Size];
        memory.Read(0, bytes);
        try
        {
            File.WriteAllBytes(path, bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"cannot write '{path}': {e.Message}");
        }

        output.WriteLine($"Wrote {path}: {TranslationFormat.SizeText(ExampleImage.Size)} of physical memory with {layout.Mode.Title} ({layout.Mode.Name}) page tables at {Numbers.Hex(layout.Root)}, mapping:");
        ExampleImage.WritePages(output, layout);
        output.WriteLine();
        output.WriteLine("Translate its addresses with these commands (each is followed by what it prints):");
        output.WriteLine();
        ExampleImage.WriteWalkthrough(output, memory, layout, path);
        ExampleImage.WriteGuestWalkthrough(output, memory, layout, path);
        output.WriteLine("The same as a batch: put cases like this one in a .jsonl file (image paths are relative to that file),");
        output.WriteLine(ExampleImage.BatchLine(Path.GetFileName(path), layout));
        output.WriteLine($"and run: shadowmmu translate --batch CASES.jsonl  (with CASES.jsonl next to {Path.GetFileName(path)})");
        return 0;
    }
}
