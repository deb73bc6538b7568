using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using ShadowMmu.Dumps;

namespace ShadowMmu.Cli;

/// <summary>
/// The options that name one guest address space in a memory image, shared by <c>translate</c>, <c>maps</c> and
/// <c>read</c>: the image (any dump format, read from its content), and the registers, either given (<c>--cr3</c> and
/// the others), taken from the dump's note for a CPU (<c>--cpu N</c>, or by default CPU 0 when no register is given
/// and the dump has notes) or from a root <c>shadowmmu roots</c> finds (<c>--root ADDR|best</c>), each given register
/// replacing the note's or the root's; and where PAE's PDPTE registers come from.
/// </summary>
internal sealed class AddressSpaceOptions
{
    public AddressSpaceOptions()
    {
        Image = new Option<string>("--image")
        {
            Description = "A guest's memory: a raw image (QEMU's pmemsave, byte N at guest-physical N), an ELF core (QEMU's dump-guest-memory, virsh dump --memory-only), QEMU's kdump-compressed format (zlib, lzo, snappy) or LiME, told apart by content. Never written.",
            HelpName = "FILE",
        };
        Cpu = new Option<int?>("--cpu")
        {
            Description = "Take the registers from the dump's note for this CPU (ELF and kdump dumps; 0 by default when no register is given). EFER is not in the note: long mode follows the dump's machine and CS, NXE is assumed with PAE; --efer overrides.",
            HelpName = "N",
            CustomParser = result => ParseCpu(result),
        };
        Root = new Option<string>("--root")
        {
            Description = "Take the address space from the roots 'shadowmmu roots' finds in the image: ADDR, one of the roots it lists (CR3 becomes ADDR; CR0, CR4 and EFER select the paging mode it found: PAE, LA57, LME and NXE as that mode needs), or 'best', the first it lists. Registers given with it (--cr0, --cr4, --efer, --pkru, --maxphyaddr) replace what the root implies. Not with --cr3 or --cpu.",
            HelpName = "ADDR|best",
        };
        Cr3 = Numbers.HexOption("--cr3", "CR3: the physical address of the root table (PAE: of the PDPT). Required unless the dump has CPU notes or --root is given.");
        Cr0 = Numbers.HexOption("--cr0", "CR0 (PG 0x80000000, WP 0x10000, PE 0x1).", TranslateDefaults.Cr0);
        Cr4 = Numbers.HexOption("--cr4", "CR4 (PSE 0x10, PAE 0x20, LA57 0x1000, SMEP 0x100000, SMAP 0x200000, PKE 0x400000).", TranslateDefaults.Cr4);
        Efer = Numbers.HexOption("--efer", "IA32_EFER (LME 0x100, LMA 0x400, NXE 0x800).", TranslateDefaults.Efer);
        Pkru = Numbers.HexOption("--pkru", "PKRU: access- and write-disable bits, 2 per protection key.", TranslateDefaults.Pkru, uint.MaxValue);
        MaxPhysAddr = new Option<int?>("--maxphyaddr")
        {
            Description = $"MAXPHYADDR, 32 to 52: physical-address bits at or above it are reserved in entries. [default: {TranslateDefaults.MaxPhysAddr.ToString(CultureInfo.InvariantCulture)}]",
            HelpName = "N",
        };
        Pdptes = new Option<string>("--pdptes")
        {
            Description = "PAE: the four PDPTE registers as the CPU held them (A,B,C,D). By default they are the image's PDPTEs without the reserved bits 2:1 and 8:5, which QEMU sets as it walks.",
            HelpName = "A,B,C,D",
        };
        StrictPae = new Option<bool>("--strict-pae")
        {
            Description = "PAE: load the PDPTE registers from the image as the SDM's MOV to CR3 does: a present PDPTE with a reserved bit set makes every access #GP(0).",
        };
    }

    public Option<string> Image { get; }

    public Option<int?> Cpu { get; }

    public Option<string> Root { get; }

    public Option<ulong?> Cr3 { get; }

    public Option<ulong?> Cr0 { get; }

    public Option<ulong?> Cr4 { get; }

    public Option<ulong?> Efer { get; }

    public Option<ulong?> Pkru { get; }

    public Option<int?> MaxPhysAddr { get; }

    public Option<string> Pdptes { get; }

    public Option<bool> StrictPae { get; }

    /// <summary>Every option, in the order help shows them.</summary>
    public Option[] All => new Option[] { Image, Cpu, Root, Cr3, Cr0, Cr4, Efer, Pkru, MaxPhysAddr, Pdptes, StrictPae };

    /// <summary>The guest's registers and where they come from (not the image, not PDPTE sources).</summary>
    public Option[] Registers => new Option[] { Cpu, Root, Cr3, Cr0, Cr4, Efer, Pkru, MaxPhysAddr };

    /// <summary>True when any of <paramref name="options"/> was written on the command line.</summary>
    public static bool Given(CommandResult result, params Option[] options)
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

    /// <summary>The first problem with these options alone, or null (the command checks how they combine with its own).</summary>
    public string? Validate(CommandResult result)
    {
        if (Given(result, Root) && Given(result, Cr3, Cpu))
        {
            return "give either --root or --cr3/--cpu: each says where CR3 comes from";
        }

        if (Given(result, Root) && RootChoice.Parse(result.GetValue(Root)!) == null)
        {
            return $"--root: '{result.GetValue(Root)}' is neither a root address ({Numbers.Expected}) nor 'best'";
        }

        if (Given(result, Pdptes) && Given(result, StrictPae))
        {
            return "give either --pdptes or --strict-pae: both say where the PDPTE registers come from";
        }

        if (Given(result, Pdptes) && PdpteChoice.Parse(result.GetValue(Pdptes)!, out string? pdpteError) == null)
        {
            return "--pdptes: " + pdpteError;
        }

        return null;
    }

    /// <summary>The registers given on the command line.</summary>
    public GivenRegisters GivenRegisters(ParseResult parsed) => new(
        parsed.GetValue(Cr0), parsed.GetValue(Cr3), parsed.GetValue(Cr4), parsed.GetValue(Efer), parsed.GetValue(Pkru), parsed.GetValue(MaxPhysAddr));

    /// <summary>Where PAE's PDPTE registers come from.</summary>
    public PdpteChoice PdptesOf(ParseResult parsed) =>
        parsed.GetValue(Pdptes) is { } given ? PdpteChoice.Parse(given, out _)!.Value
        : parsed.GetValue(StrictPae) ? new PdpteChoice(PdpteSource.Strict)
        : PdpteChoice.FromImage;

    /// <summary>
    /// Opens the image and works out the registers; throws <see cref="CliUsageException"/> (one line, exit code 2) when
    /// the image cannot be read or the registers cannot be known. <paramref name="scanProgress"/> hears the search for
    /// roots that <c>--root</c> starts.
    /// </summary>
    public (MemoryDump Dump, CpuState Cpu) Resolve(ParseResult parsed, WalkSession session, Action<long, long>? scanProgress = null)
    {
        MemoryDump dump = session.TryOpenDump(parsed.GetValue(Image)!, out string? error) ?? throw new CliUsageException(error!);
        if (parsed.GetValue(Root) is { } root)
        {
            return (dump, RootChoice.Parse(root)!.Value.Resolve(dump, GivenRegisters(parsed), scanProgress));
        }

        CpuState? cpu = ResolveRegisters(dump, parsed.GetValue(Cpu), GivenRegisters(parsed), out error);
        return (dump, cpu ?? throw new CliUsageException(error!));
    }

    /// <summary>
    /// The registers for <paramref name="dump"/>: CPU <paramref name="cpu"/>'s note under the given registers; with no
    /// CPU named, the given registers when CR3 is among them, else CPU 0's note. Null with an error when they cannot be known.
    /// </summary>
    public static CpuState? ResolveRegisters(MemoryDump dump, int? cpu, in GivenRegisters given, out string? error)
    {
        if (cpu == null && given.Cr3 is ulong cr3)
        {
            error = null;
            return given.WithDefaults(cr3);
        }

        if (cpu == null && dump.Cpus.Count == 0)
        {
            error = $"give --cr3 (the image '{System.IO.Path.GetFileName(dump.Path)}' holds no CPU notes to take the registers from)";
            return null;
        }

        return DumpRegisters.Resolve(dump, cpu ?? 0, given, out error);
    }

    private static int? ParseCpu(ArgumentResult result)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        string text = result.Tokens[0].Value;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int cpu))
        {
            return cpu;
        }

        result.AddError($"--cpu: '{text}' is not a CPU number (0, 1, ...)");
        return null;
    }
}
