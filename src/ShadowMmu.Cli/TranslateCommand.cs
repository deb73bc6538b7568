using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.IO;
using System.Linq;
using System.Text;
using ShadowMmu.Dumps;

namespace ShadowMmu.Cli;

/// <summary>
/// <c>shadowmmu translate</c>: translates linear addresses through the page tables in a raw physical-memory image
/// (as QEMU's <c>pmemsave 0 SIZE FILE</c> writes it), one address at a time for people (<c>--image</c>), many at a
/// time as JSON Lines (<c>--batch</c>), or on built-in example tables (<c>--demo</c>).
/// </summary>
internal static class TranslateCommand
{
    /// <summary>What a <c>translate</c> command line asks for.</summary>
    private enum Input
    {
        /// <summary>Linear addresses in an image (<c>--image</c> and VAs); with <c>--eptp</c>, walked in two dimensions.</summary>
        Addresses,

        /// <summary>Guest-physical addresses through EPT alone (<c>--gpa</c> with <c>--eptp</c>).</summary>
        GuestPhysical,

        /// <summary>A JSON Lines batch (<c>--batch</c>).</summary>
        Batch,

        /// <summary>Example tables built in memory (<c>--demo</c>).</summary>
        Demo,
    }

    public static Command Create(CliContext context)
    {
        var space = new AddressSpaceOptions();
        var batch = new Option<string>("--batch")
        {
            Description = "Translate the cases of a JSON Lines file ('-' for stdin), one JSON answer per line on stdout. Registers come from each case (or a dump's CPU note).",
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
        var ac = new Option<bool>("--ac") { Description = "EFLAGS.AC is set (supervisor accesses to user pages pass SMAP)." };
        var cpl = new Option<int>("--cpl")
        {
            Description = "Current privilege level, 0 to 3: 3 is user mode, 0 to 2 are supervisor mode.",
            HelpName = "0-3",
            DefaultValueFactory = _ => (int)TranslateDefaults.Cpl,
            CustomParser = result => ParseCpl(result),
        };
        var access = new Option<string>("--access")
        {
            Description = "The kind of access.",
            HelpName = "read|write|fetch",
            DefaultValueFactory = _ => TranslateDefaults.Name(TranslateDefaults.Access),
        };
        access.AcceptOnlyFromAmong("read", "write", "fetch");
        var vas = new Argument<ulong[]>("VA")
        {
            Description = "Linear addresses to translate (hex with 0x, or decimal).",
            Arity = ArgumentArity.ZeroOrMore,
            CustomParser = result => ParseVas(result),
        };
        Option<ulong?> eptp = Numbers.HexOption("--eptp", "EPT pointer: root table in bits 51:12, page-walk length - 1 in bits 5:3 (3: ept4, 4: ept5), A/D flags enabled by bit 6, memory type 0 or 6 in bits 2:0. With --gpa: walk EPT alone.");
        var mbec = new Option<bool>("--mbec") { Description = "Mode-based execute control for EPT: bit 2 of an EPT entry allows execution from supervisor-mode linear addresses, bit 10 from user-mode ones." };
        var user = new Option<bool>("--user") { Description = "With --gpa: the access is to a user-mode linear address (the guest's U/S view; selects bit 10 under --mbec)." };
        var gpas = new Option<ulong[]>("--gpa")
        {
            Description = "Guest-physical addresses to translate through the EPT tables EPTP names (needs --eptp).",
            HelpName = "GPA",
            AllowMultipleArgumentsPerToken = true,
            CustomParser = result => ParseVas(result),
        };

        var command = new Command("translate", "Translate linear addresses through the page tables in a guest's memory image, as the CPU that ran the guest did. The paging mode follows from CR0, CR4 and EFER as on hardware; the registers are given, or taken from a dump's CPU note. Each address starts from the image as it is on disk. Exit code 0 when every address was walked (a #PF or #GP is a result), 2 for bad input.");
        foreach (Option option in space.All)
        {
            command.Add(option);
        }

        foreach (Option option in new Option[] { ac, cpl, access, eptp, mbec, user, gpas, batch, failOnError, demo })
        {
            command.Add(option);
        }

        command.Add(vas);
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

            bool hasImage = result.GetResult(space.Image) != null;
            bool hasBatch = result.GetResult(batch) != null;
            bool hasDemo = result.GetValue(demo);
            bool hasVas = result.GetResult(vas) is { Tokens.Count: > 0 };
            bool hasGpas = result.GetResult(gpas) is { Tokens.Count: > 0 };
            bool hasEptp = result.GetResult(eptp) != null;
            // --maxphyaddr applies to an EPT walk too; the guest's other registers do not.
            Option[] guest = space.Registers.Where(o => o != space.MaxPhysAddr).Concat(new Option[] { ac, cpl }).ToArray();
            bool hasRegisters = hasEptp || AddressSpaceOptions.Given(result, space.All.Skip(1).Concat(new Option[] { ac, cpl, access, mbec, user }).ToArray());
            string? error =
                (hasImage ? 1 : 0) + (hasBatch ? 1 : 0) + (hasDemo ? 1 : 0) > 1 ? "use one of --image, --batch and --demo"
                : hasBatch && (hasRegisters || hasVas || hasGpas) ? "--batch takes registers and addresses from each case; give no other options or VAs with it"
                : hasDemo && (hasRegisters || hasVas || hasGpas) ? "--demo takes no other options or VAs"
                : !hasImage && !hasBatch && !hasDemo ? (hasVas || hasGpas || hasRegisters ? "--image is required" : "give --image FILE [--cr3 X] VA..., --batch FILE.jsonl or --demo")
                : !hasBatch && AddressSpaceOptions.Given(result, failOnError) ? "--fail-on-error is for --batch"
                : space.Validate(result)
                ?? (hasGpas && !hasEptp ? "--gpa walks EPT tables: give --eptp"
                : hasGpas && hasVas ? "give either --gpa GPA... (EPT alone) or VAs, not both"
                : hasGpas && AddressSpaceOptions.Given(result, guest)
                    ? "--gpa walks EPT alone: --cr0, --cr3, --cr4, --efer, --pkru, --cpu, --root, --ac and --cpl do not apply (use --user for the guest's U/S view)"
                : !hasEptp && AddressSpaceOptions.Given(result, mbec, user) ? "--mbec and --user are EPT options: give --eptp and --gpa"
                : hasEptp && !hasGpas && AddressSpaceOptions.Given(result, user) ? "--user is for --gpa: in the two-dimensional walk the guest's own tables say whether an address is user-mode"
                : (hasGpas || hasEptp) && AddressSpaceOptions.Given(result, space.Pdptes, space.StrictPae) ? "--pdptes and --strict-pae are for a PAE guest's own walk; through EPT its PDPTEs are loaded as the SDM says"
                : hasImage && !hasVas && !hasGpas ? "give at least one VA to translate"
                : null);
            if (error != null)
            {
                result.AddError(error);
            }
        });

        command.SetAction(parsed =>
        {
            Input input = parsed.GetValue(demo) ? Input.Demo
                : parsed.GetValue(batch) != null ? Input.Batch
                : parsed.GetValue(gpas) is { Length: > 0 } ? Input.GuestPhysical
                : Input.Addresses;
            TranslateDefaults.TryParseAccess(parsed.GetValue(access), out AccessKind kind);
            switch (input)
            {
                case Input.Demo:
                    return Demo(context.Out);
                case Input.Batch:
                    return Batch(parsed.GetValue(batch)!, parsed.GetValue(failOnError), context);
                case Input.GuestPhysical:
                    var ept = new CpuState(0, 0, 0, 0, 0, parsed.GetValue(space.MaxPhysAddr) ?? CpuState.DefaultMaxPhysAddr, TranslateDefaults.Features,
                        parsed.GetValue(eptp)!.Value, parsed.GetValue(mbec));
                    return SingleGpa(parsed.GetValue(space.Image)!, ept, kind, parsed.GetValue(user), parsed.GetValue(gpas)!, context);
                default:
                    var request = new TranslateRequest(default, 0, kind, parsed.GetValue(cpl), parsed.GetValue(ac), Pdptes: space.PdptesOf(parsed));
                    return Addresses(parsed, space, request, parsed.GetValue(eptp), parsed.GetValue(mbec), parsed.GetValue(vas) ?? Array.Empty<ulong>(), context);
            }
        });

        return command;
    }

    /// <summary>
    /// Translates each VA in the image and prints one result per VA (and its details, indented). Given registers are
    /// checked before the image is opened (they say whether there is anything to walk, whatever the image holds);
    /// registers from a dump's note, once it is.
    /// </summary>
    private static int Addresses(ParseResult parsed, AddressSpaceOptions space, TranslateRequest request, ulong? eptp, bool mbec, ulong[] vas, CliContext context)
    {
        using var session = new WalkSession(context.Progress);
        GivenRegisters given = space.GivenRegisters(parsed);
        int? cpuIndex = parsed.GetValue(space.Cpu);
        MemoryDump? dump = null;
        CpuState cpu;
        if (cpuIndex == null && given.Cr3 is ulong cr3)
        {
            cpu = given.WithDefaults(cr3);
        }
        else
        {
            (dump, cpu) = space.Resolve(parsed, session, context.ScanProgress);
        }

        cpu = cpu with { Eptp = eptp ?? 0, ModeBasedExecute = mbec };
        bool nested = eptp != null;
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

        dump ??= session.TryOpenDump(parsed.GetValue(space.Image)!, out error) ?? throw new CliUsageException(error!);
        var translation = default(Translation);
        bool noted = false;
        foreach (ulong va in vas)
        {
            if (!session.TryTranslate(dump.Memory, request with { Cpu = cpu, Va = va, Nested = nested }, ref translation, out error)
                || (error = session.MissingTable(dump.Memory, translation)) != null)
            {
                throw new CliUsageException($"{Numbers.Hex(va)}: {error}");
            }

            if (!noted && TranslationFormat.PdpteNote(translation) is { } note)
            {
                context.Out.WriteLine(note);
            }

            noted = true;
            TranslationFormat.WriteText(context.Out, translation);
        }

        return 0;
    }

    /// <summary>Translates each GPA through EPT alone and prints one result per GPA (and its details, indented).</summary>
    private static int SingleGpa(string imagePath, CpuState cpu, AccessKind access, bool user, ulong[] gpas, CliContext context)
    {
        // EPTP and the addresses first: they say whether there is anything to walk, whatever the image holds.
        PagingModeInfo mode = WalkSession.TrySelectEptMode(cpu, out string? error) ?? throw new CliUsageException(error!);
        foreach (ulong gpa in gpas)
        {
            if ((gpa >> WalkSession.GuestPhysicalBits) != 0)
            {
                throw new CliUsageException($"GPA {Numbers.Hex(gpa)} has more than the {WalkSession.GuestPhysicalBits} bits of a guest-physical address");
            }
        }

        using var session = new WalkSession(context.Progress);
        GuestMemory memory = session.TryOpenImage(imagePath, out error) ?? throw new CliUsageException(error!);
        var translation = default(Translation);
        foreach (ulong gpa in gpas)
        {
            if (!session.TryTranslate(memory, new TranslateRequest(cpu, gpa, access, 0, false, Gpa: true, User: user), ref translation, out error))
            {
                throw new CliUsageException(error!);
            }

            TranslationFormat.WriteText(context.Out, translation);
        }

        return 0;
    }

    /// <summary>
    /// Answers a JSON Lines batch; image paths are relative to the batch file's folder (stdin: the current one). Exit
    /// code 0, or with <paramref name="failOnError"/> 2 when a case was answered with an error (and one line on stderr).
    /// </summary>
    private static int Batch(string batchFile, bool failOnError, CliContext context)
    {
        Stream input;
        string folder;
        try
        {
            if (batchFile == "-")
            {
                input = context.OpenInBytes?.Invoke() ?? new Utf8TextReaderStream(context.In);
                folder = Directory.GetCurrentDirectory();
            }
            else
            {
                string full = Path.GetFullPath(batchFile);
                if (Directory.Exists(full))
                {
                    throw new CliUsageException($"cannot read batch file '{batchFile}': it is a directory");
                }

                input = BatchInput.OpenFile(full);
                folder = Path.GetDirectoryName(full) ?? Directory.GetCurrentDirectory();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliUsageException($"cannot read batch file '{batchFile}': {e.Message}");
        }

        using var translator = new BatchTranslator(folder, context.Out, context.Progress);
        int cases;
        using (batchFile == "-" ? null : input)
        {
            cases = translator.Run(input);
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
