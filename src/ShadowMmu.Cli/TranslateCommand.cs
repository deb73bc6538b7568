using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.IO;
using System.Text;

namespace ShadowMmu.Cli;

/// <summary>
/// <c>shadowmmu translate</c>: translates linear addresses through the page tables in a raw physical-memory image
/// (as QEMU's <c>pmemsave 0 SIZE FILE</c> writes it), one address at a time for people (<c>--image</c>), many at a
/// time as JSON Lines (<c>--batch</c>), or on built-in example tables (<c>--demo</c>).
/// </summary>
internal static class TranslateCommand
{
    public static Command Create(CliContext context)
    {
        var image = new Option<string>("--image")
        {
            Description = "Raw physical-memory image: byte N of the file is guest-physical address N (QEMU: pmemsave 0 SIZE FILE). Mapped copy-on-write; never written.",
            HelpName = "FILE",
        };
        var batch = new Option<string>("--batch")
        {
            Description = "Translate the cases of a JSON Lines file ('-' for stdin), one JSON answer per line on stdout. Registers come from each case.",
            HelpName = "FILE.jsonl",
        };
        var failOnError = new Option<bool>("--fail-on-error")
        {
            Description = "With --batch: exit with code 2 (and say how many on stderr) when any case was answered with an error; without it the exit code is 0 once every line is answered.",
        };
        var demo = new Option<bool>("--demo")
        {
            Description = "Build example page tables in memory for every mode and show how their addresses translate (no file needed).",
        };
        Option<ulong?> cr3 = Numbers.HexOption("--cr3", "CR3: the physical address of the root table (PAE: of the PDPT). Required with --image.");
        Option<ulong?> cr0 = Numbers.HexOption("--cr0", "CR0 (PG 0x80000000, WP 0x10000, PE 0x1).", TranslateDefaults.Cr0);
        Option<ulong?> cr4 = Numbers.HexOption("--cr4", "CR4 (PSE 0x10, PAE 0x20, LA57 0x1000, SMEP 0x100000, SMAP 0x200000, PKE 0x400000).", TranslateDefaults.Cr4);
        Option<ulong?> efer = Numbers.HexOption("--efer", "IA32_EFER (LME 0x100, LMA 0x400, NXE 0x800).", TranslateDefaults.Efer);
        Option<ulong?> pkru = Numbers.HexOption("--pkru", "PKRU: access- and write-disable bits, 2 per protection key.", TranslateDefaults.Pkru, uint.MaxValue);
        var ac = new Option<bool>("--ac") { Description = "EFLAGS.AC is set (supervisor accesses to user pages pass SMAP)." };
        var cpl = new Option<int>("--cpl")
        {
            Description = "Current privilege level, 0 to 3: 3 is user mode, 0 to 2 are supervisor mode.",
            HelpName = "0-3",
            DefaultValueFactory = _ => (int)TranslateDefaults.Cpl,
        };
        cpl.CustomParser = result => ParseCpl(result);
        var access = new Option<string>("--access")
        {
            Description = "The kind of access.",
            HelpName = "read|write|fetch",
            DefaultValueFactory = _ => TranslateDefaults.Name(TranslateDefaults.Access),
        };
        access.AcceptOnlyFromAmong("read", "write", "fetch");
        var maxPhysAddr = new Option<int>("--maxphyaddr")
        {
            Description = "MAXPHYADDR, 32 to 52: physical-address bits at or above it are reserved in entries.",
            HelpName = "N",
            DefaultValueFactory = _ => (int)TranslateDefaults.MaxPhysAddr,
        };
        var vas = new Argument<ulong[]>("VA")
        {
            Description = "Linear addresses to translate (hex with 0x, or decimal).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        vas.CustomParser = result => ParseVas(result);
        var pdptes = new Option<string>("--pdptes")
        {
            Description = "PAE: the four PDPTE registers as the CPU held them (A,B,C,D). By default they are the image's PDPTEs without the reserved bits 2:1 and 8:5, which QEMU sets as it walks.",
            HelpName = "A,B,C,D",
        };
        var strictPae = new Option<bool>("--strict-pae") { Description = "PAE: load the PDPTE registers from the image as the SDM's MOV to CR3 does: a present PDPTE with a reserved bit set makes every access #GP(0)." };
        Option<ulong?> eptp = Numbers.HexOption("--eptp", "EPT pointer: root table in bits 51:12, page-walk length - 1 in bits 5:3 (3: ept4, 4: ept5), A/D flags enabled by bit 6, memory type 0 or 6 in bits 2:0. With --gpa: walk EPT alone.");
        var mbec = new Option<bool>("--mbec") { Description = "Mode-based execute control for EPT: bit 2 of an EPT entry allows execution from supervisor-mode linear addresses, bit 10 from user-mode ones." };
        var user = new Option<bool>("--user") { Description = "With --gpa: the access is to a user-mode linear address (the guest's U/S view; selects bit 10 under --mbec)." };
        var gpas = new Option<ulong[]>("--gpa")
        {
            Description = "Guest-physical addresses to translate through the EPT tables EPTP names (needs --eptp).",
            HelpName = "GPA",
            AllowMultipleArgumentsPerToken = true,
        };
        gpas.CustomParser = result => ParseVas(result);

        var command = new Command("translate", "Translate linear addresses through the page tables in a raw physical-memory image. The paging mode follows from CR0, CR4 and EFER as on hardware. Each address starts from the image as it is on disk. Exit code 0 when every address was walked (a #PF or #GP is a result), 2 for bad input.")
        {
            image, cr3, cr0, cr4, efer, pkru, ac, cpl, access, maxPhysAddr, pdptes, strictPae, eptp, mbec, user, gpas, batch, failOnError, demo, vas,
        };

        command.Validators.Add(result =>
        {
            // A bad VA (or a misspelt option taken for one) is the error to report, not what it makes look missing.
            if (result.GetResult(vas) is { } vaResult)
            {
                foreach (Token token in vaResult.Tokens)
                {
                    if (VaError(token.Value) is { } bad)
                    {
                        result.AddError(bad);
                        return;
                    }
                }
            }

            bool hasImage = result.GetResult(image) != null;
            bool hasBatch = result.GetResult(batch) != null;
            bool hasDemo = result.GetValue(demo);
            bool hasVas = result.GetResult(vas) is { Tokens.Count: > 0 };
            bool hasGpas = result.GetResult(gpas) is { Tokens.Count: > 0 };
            bool hasEptp = result.GetResult(eptp) != null;
            bool hasRegisters = result.GetResult(cr3) != null || hasEptp || Given(result, cr0, cr4, efer, pkru, ac, cpl, access, maxPhysAddr, mbec, user, pdptes, strictPae);
            hasVas |= hasGpas;
            if ((hasImage ? 1 : 0) + (hasBatch ? 1 : 0) + (hasDemo ? 1 : 0) > 1)
            {
                result.AddError("use one of --image, --batch and --demo");
            }
            else if (!hasBatch && Given(result, failOnError))
            {
                result.AddError("--fail-on-error is for --batch");
            }
            else if (hasBatch && (hasRegisters || hasVas))
            {
                result.AddError("--batch takes registers and addresses from each case; give no other options or VAs with it");
            }
            else if (hasDemo && (hasRegisters || hasVas))
            {
                result.AddError("--demo takes no other options or VAs");
            }
            else if (!hasImage && !hasBatch && !hasDemo)
            {
                result.AddError(hasVas || hasRegisters ? "--image is required" : "give --image FILE --cr3 X VA..., --batch FILE.jsonl or --demo");
            }
            else if (hasGpas && !hasEptp)
            {
                result.AddError("--gpa walks EPT tables: give --eptp");
            }
            else if (hasGpas && result.GetResult(vas) is { Tokens.Count: > 0 })
            {
                result.AddError("give either --gpa GPA... (EPT alone) or VAs, not both");
            }
            else if (hasGpas && (result.GetResult(cr3) != null || Given(result, cr0, cr4, efer, pkru, ac, cpl)))
            {
                result.AddError("--gpa walks EPT alone: --cr0, --cr3, --cr4, --efer, --pkru, --ac and --cpl do not apply (use --user for the guest's U/S view)");
            }
            else if (!hasEptp && Given(result, mbec, user))
            {
                result.AddError("--mbec and --user are EPT options: give --eptp and --gpa");
            }
            else if (hasEptp && !hasGpas && Given(result, user))
            {
                result.AddError("--user is for --gpa: in the two-dimensional walk the guest's own tables say whether an address is user-mode");
            }
            else if (Given(result, pdptes) && Given(result, strictPae))
            {
                result.AddError("give either --pdptes or --strict-pae: both say where the PDPTE registers come from");
            }
            else if (Given(result, pdptes) && PdpteChoice.Parse(result.GetValue(pdptes)!, out string? pdpteError) == null)
            {
                result.AddError("--pdptes: " + pdpteError);
            }
            else if ((hasGpas || hasEptp) && Given(result, pdptes, strictPae))
            {
                result.AddError("--pdptes and --strict-pae are for a PAE guest's own walk; through EPT its PDPTEs are loaded as the SDM says");
            }
            else if (hasImage && !hasGpas && result.GetResult(cr3) == null)
            {
                result.AddError("--cr3 is required with --image");
            }
            else if (hasImage && !hasVas)
            {
                result.AddError("give at least one VA to translate");
            }
        });

        command.SetAction(parsed =>
        {
            if (parsed.GetValue(demo))
            {
                return Demo(context.Out);
            }

            string? batchFile = parsed.GetValue(batch);
            if (batchFile != null)
            {
                return Batch(batchFile, parsed.GetValue(failOnError), context);
            }

            TranslateDefaults.TryParseAccess(parsed.GetValue(access), out AccessKind kind);
            if (parsed.GetValue(gpas) is { Length: > 0 } addresses)
            {
                var ept = new CpuState(0, 0, 0, 0, 0, parsed.GetValue(maxPhysAddr), TranslateDefaults.Features, parsed.GetValue(eptp)!.Value, parsed.GetValue(mbec));
                return SingleGpa(parsed.GetValue(image)!, ept, kind, parsed.GetValue(user), addresses, context.Out);
            }

            var cpu = new CpuState(
                parsed.GetValue(cr0) ?? TranslateDefaults.Cr0,
                parsed.GetValue(cr3)!.Value,
                parsed.GetValue(cr4) ?? TranslateDefaults.Cr4,
                parsed.GetValue(efer) ?? TranslateDefaults.Efer,
                (uint)(parsed.GetValue(pkru) ?? TranslateDefaults.Pkru),
                parsed.GetValue(maxPhysAddr),
                TranslateDefaults.Features,
                parsed.GetValue(eptp) ?? 0,
                parsed.GetValue(mbec));
            PdpteChoice pdpteChoice = parsed.GetValue(pdptes) is { } given ? PdpteChoice.Parse(given, out _)!.Value
                : parsed.GetValue(strictPae) ? new PdpteChoice(PdpteSource.Strict) : PdpteChoice.FromImage;
            return Single(parsed.GetValue(image)!, cpu, kind, parsed.GetValue(cpl), parsed.GetValue(ac), pdpteChoice, parsed.GetValue(vas) ?? Array.Empty<ulong>(), context.Out);
        });

        return command;
    }

    /// <summary>Translates each VA in the image and prints one result per VA (and its details, indented).</summary>
    private static int Single(string imagePath, CpuState cpu, AccessKind access, int cpl, bool ac, PdpteChoice pdptes, ulong[] vas, TextWriter output)
    {
        // Registers first: they say whether there is anything to walk, whatever the image holds. With EPTP: two dimensions.
        bool nested = cpu.Eptp != 0;
        string? error;
        if (nested && WalkSession.TrySelectEptMode(cpu, out error) == null)
        {
            throw new CliUsageException(error!);
        }

        PagingModeInfo mode = WalkSession.TrySelectMode(cpu, out error) ?? throw new CliUsageException(error!);
        PagingModeFacts facts = PagingModeFacts.Of(mode);
        foreach (ulong va in vas)
        {
            if (!facts.Fits(va))
            {
                throw new CliUsageException($"VA {Numbers.Hex(va)} does not fit the {mode.LinearBits}-bit linear addresses of {mode.Name}");
            }
        }

        using var session = new WalkSession();
        GuestMemory memory = session.TryOpenImage(imagePath, out error) ?? throw new CliUsageException(error!);
        var translation = default(Translation);
        bool noted = false;
        foreach (ulong va in vas)
        {
            if (!session.TryTranslate(memory, new TranslateRequest(cpu, va, access, cpl, ac, Nested: nested, Pdptes: pdptes), ref translation, out error))
            {
                throw new CliUsageException(error!);
            }

            if (!noted && TranslationFormat.PdpteNote(translation) is { } note)
            {
                output.WriteLine(note);
            }

            noted = true;
            TranslationFormat.WriteText(output, translation);
        }

        return 0;
    }

    /// <summary>Translates each GPA through EPT alone and prints one result per GPA (and its details, indented).</summary>
    private static int SingleGpa(string imagePath, CpuState cpu, AccessKind access, bool user, ulong[] gpas, TextWriter output)
    {
        // EPTP and the addresses first: they say whether there is anything to walk, whatever the image holds.
        PagingModeInfo mode = WalkSession.TrySelectEptMode(cpu, out string? error) ?? throw new CliUsageException(error!);
        foreach (ulong gpa in gpas)
        {
            if ((gpa >> mode.LinearBits) != 0)
            {
                throw new CliUsageException($"GPA {Numbers.Hex(gpa)} does not fit the {mode.LinearBits}-bit guest-physical addresses {mode.Name} translates");
            }
        }

        using var session = new WalkSession();
        GuestMemory memory = session.TryOpenImage(imagePath, out error) ?? throw new CliUsageException(error!);
        var translation = default(Translation);
        foreach (ulong gpa in gpas)
        {
            if (!session.TryTranslate(memory, new TranslateRequest(cpu, gpa, access, 0, false, Gpa: true, User: user), ref translation, out error))
            {
                throw new CliUsageException(error!);
            }

            TranslationFormat.WriteText(output, translation);
        }

        return 0;
    }

    /// <summary>
    /// Answers a JSON Lines batch; image paths are relative to the batch file's folder (stdin: the current one). Exit
    /// code 0, or with <paramref name="failOnError"/> 2 when a case was answered with an error (and one line on stderr).
    /// </summary>
    private static int Batch(string batchFile, bool failOnError, CliContext context)
    {
        TextReader reader;
        string folder;
        try
        {
            if (batchFile == "-")
            {
                (reader, folder) = (context.In, Directory.GetCurrentDirectory());
            }
            else
            {
                string full = Path.GetFullPath(batchFile);
                if (Directory.Exists(full))
                {
                    throw new CliUsageException($"cannot read batch file '{batchFile}': it is a directory");
                }

                reader = new StreamReader(full, Encoding.UTF8, true, new FileStreamOptions { Access = FileAccess.Read, Share = FileShare.ReadWrite, BufferSize = 1 << 16 });
                folder = Path.GetDirectoryName(full) ?? Directory.GetCurrentDirectory();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"cannot read batch file '{batchFile}': {e.Message}");
        }

        using var translator = new BatchTranslator(folder, context.Out);
        int cases;
        try
        {
            cases = translator.Run(reader);
        }
        finally
        {
            if (batchFile != "-")
            {
                reader.Dispose();
            }
        }

        if (failOnError && translator.Errors > 0)
        {
            CommandLineHost.WriteError(context, $"{translator.Errors} of {cases} cases could not be run (the first: {translator.FirstError})");
            return CommandLineHost.UsageExitCode;
        }

        return 0;
    }

    /// <summary>For every mode: example page tables built in memory, and how their addresses translate.</summary>
    private static int Demo(TextWriter output)
    {
        foreach (string name in ExampleImage.ModeNames)
        {
            using GuestMemory memory = GuestMemory.Allocate(ExampleImage.Size);
            ExampleLayout layout = ExampleImage.Build(memory, name);
            output.WriteLine($"== {layout.Mode.Name}: {layout.Mode.Title} ({ExampleImage.RegisterOptions(layout.Cpu)})");
            output.WriteLine($"Page tables at {Numbers.Hex(layout.Root)} map, in {TranslationFormat.SizeText(ExampleImage.Size)} of memory:");
            ExampleImage.WritePages(output, layout);
            output.WriteLine($"With IMAGE written by 'shadowmmu example-image IMAGE --mode {layout.Mode.Name}', these commands print:");
            output.WriteLine();
            ExampleImage.WriteWalkthrough(output, memory, layout, "IMAGE");
            ExampleImage.WriteGuestWalkthrough(output, memory, layout, "IMAGE");
        }

        return 0;
    }

    private static bool Given(CommandResult result, params Option[] options)
    {
        foreach (Option option in options)
        {
            if (result.GetResult(option) is { Implicit: false })
            {
                return true;
            }
        }

        return false;
    }

    private static int ParseCpl(ArgumentResult result)
    {
        if (result.Tokens.Count == 0)
        {
            return (int)TranslateDefaults.Cpl;
        }

        string text = result.Tokens[0].Value;
        if (text is "0" or "1" or "2" or "3")
        {
            return text[0] - '0';
        }

        result.AddError($"--cpl: '{text}' is not a privilege level (0 to 3; 3 is user mode)");
        return 0;
    }

    private static string? VaError(string text)
    {
        if (text.StartsWith('-'))
        {
            return $"Unrecognized option '{text}'.";
        }

        return Numbers.TryParse(text, out _) ? null
            : Numbers.IsTooBig(text) ? $"VA '{text}' is too big for 64 bits"
            : $"VA '{text}' is not an address ({Numbers.Expected})";
    }

    private static ulong[] ParseVas(ArgumentResult result)
    {
        var values = new ulong[result.Tokens.Count];
        for (int i = 0; i < values.Length; i++)
        {
            string text = result.Tokens[i].Value;
            if (VaError(text) is { } error)
            {
                result.AddError(error);
                return Array.Empty<ulong>();
            }

            Numbers.TryParse(text, out values[i]);
        }

        return values;
    }
}
