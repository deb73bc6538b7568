using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace ShadowMmu.Cli;

/// <summary>A page the example maps (or leaves unmapped), for the table shown to people.</summary>
/// <param name="Va">Its linear address.</param>
/// <param name="Pa">The physical address it maps to (ignored when not present).</param>
/// <param name="Size">Page size.</param>
/// <param name="What">What it is meant to show.</param>
/// <param name="Present">False for the address left unmapped.</param>
internal sealed record ExamplePage(ulong Va, ulong Pa, ulong Size, string What, bool Present = true);

/// <summary>One <c>shadowmmu translate</c> command of the example: an access kind and CPL, and the addresses.</summary>
/// <param name="Access">Read, write or fetch.</param>
/// <param name="Cpl">0 or 3.</param>
/// <param name="Vas">Addresses to translate.</param>
internal sealed record ExampleQuery(AccessKind Access, int Cpl, ulong[] Vas);

/// <summary>An example memory image's page tables: the mode, the registers that select it, the pages and the commands.</summary>
/// <param name="Mode">The mode of the tables.</param>
/// <param name="Cpu">The registers that select it (for a guest walked through EPT: its registers and the EPTP).</param>
/// <param name="Pages">What the tables map.</param>
/// <param name="Queries">The translate commands to show.</param>
/// <param name="Guest">For an EPT example: a guest's own page tables in the memory the EPT tables map, walked in two dimensions.</param>
internal sealed record ExampleLayout(PagingModeInfo Mode, CpuState Cpu, IReadOnlyList<ExamplePage> Pages, IReadOnlyList<ExampleQuery> Queries,
    ExampleLayout? Guest = null)
{
    /// <summary>The root table: CR3's, or EPTP's for an EPT example.</summary>
    public ulong Root => Mode.IsEpt ? Cpu.Eptp & ~0xFFFUL : Cpu.Cr3;

    /// <summary>True for a guest's tables walked through EPT: its addresses go guest-virtual to guest-physical to host-physical.</summary>
    public bool TwoDimensional => !Mode.IsEpt && Cpu.Eptp != 0;
}

/// <summary>
/// Builds a small physical-memory image for a paging mode with <see cref="PageTableBuilder"/>: page tables from
/// 0x1000 (CR3), four 4 KiB data frames at 0x100000, user and supervisor pages, a read-only one, a no-execute one
/// (modes with NX), one not present, and large pages. Used by <c>example-image</c> and <c>translate --demo</c>.
/// </summary>
internal static class ExampleImage
{
    /// <summary>Bytes of physical memory in an example image.</summary>
    public const ulong Size = 4 << 20;

    /// <summary>The modes an example can be built for, in the order <c>--demo</c> shows them.</summary>
    public static readonly string[] ModeNames = PagingModes.All
        .OrderBy(m => m.IsEpt).ThenBy(m => m.RootLevel).ThenBy(m => m.Name, StringComparer.Ordinal)
        .Select(m => m.Name).ToArray();

    private const ulong Writable = 1UL << 1;
    private const ulong User = 1UL << 2;
    private const ulong NoExecute = 1UL << 63;
    private const ulong UserBase = 0x0804_8000;

    /// <summary>Writes the page tables of <paramref name="modeName"/> into <paramref name="memory"/> (zeroed, <see cref="Size"/> bytes).</summary>
    public static ExampleLayout Build(GuestMemory memory, string modeName)
    {
        PagingModeInfo mode = PagingModes.All.FirstOrDefault(m => m.Name == modeName)
            ?? throw new CliUsageException($"no example for mode '{modeName}' (one of {string.Join(", ", ModeNames)})");
        if (mode.IsEpt)
        {
            return BuildEpt(memory, mode);
        }

        // The registers that select the mode, as a kernel runs it (translate's default CR0: PG, WP, NE, ET, MP, PE).
        CpuState cpu = PagingModeFacts.Of(mode).SelectingState(0);
        cpu = cpu with { Cr0 = cpu.Cr0 | TranslateDefaults.Cr0 };
        bool longMode = cpu.LongModeActive;
        bool nx = (cpu.Efer & Efer.NXE) != 0;
        ulong kernelBase = longMode ? 0xFFFF_FFFF_8000_0000UL : 0xC000_0000UL;

        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x10_0000);
        cpu = cpu with { Cr3 = builder.Root };
        var pages = new List<ExamplePage>();

        void Map(ulong va, ulong pa, ulong size, ulong flags, string what)
        {
            builder.Map(va, pa, size, flags);
            pages.Add(new ExamplePage(va, pa, size, what));
        }

        Map(UserBase, 0x10_0000, 0x1000, User | Writable, "user data, read/write");
        Map(UserBase + 0x1000, 0x10_1000, 0x1000, User, "user, read-only");
        if (nx)
        {
            Map(UserBase + 0x2000, 0x10_2000, 0x1000, User | Writable | NoExecute, "user data, no-execute");
        }

        pages.Add(new ExamplePage(UserBase + 0x3000, 0, 0x1000, "not present (its PTE is 0)", Present: false));
        Map(kernelBase, 0x10_3000, 0x1000, Writable, "kernel, supervisor only");
        if (mode.Name == "legacy32")
        {
            Map(kernelBase + 0x40_0000, 0, 0x40_0000, Writable, "kernel, a 4 MiB page (CR4.PSE)");
        }
        else
        {
            Map(kernelBase + 0x20_0000, 0x20_0000, 0x20_0000, Writable, "kernel, a 2 MiB page");
        }

        const ulong directMap = 0xFFFF_8880_0000_0000UL;
        if (longMode)
        {
            Map(directMap, 0, 0x4000_0000, Writable | NoExecute, "direct map of physical memory, a 1 GiB page");
        }

        var reads = new List<ulong> { UserBase + 0x123, UserBase + 0x1000 };
        if (nx)
        {
            reads.Add(UserBase + 0x2000);
        }

        reads.Add(UserBase + 0x3000);
        reads.Add(kernelBase + 0x10);
        reads.Add(mode.Name == "legacy32" ? kernelBase + 0x41_2345 : kernelBase + 0x21_2345);
        if (longMode)
        {
            reads.Add(directMap + 0x1000);
            // Not canonical: bit 47 (4-level) or bit 56 (5-level) is not copied into the bits above it.
            reads.Add(mode.Name == "long5" ? 0x0100_0000_0000_0000UL : 0x0000_8000_0000_0000UL);
        }

        var queries = new List<ExampleQuery>
        {
            new(AccessKind.Read, 0, reads.ToArray()),
            new(AccessKind.Write, 3, new[] { UserBase + 0x123, UserBase + 0x1000, kernelBase + 0x10 }),
            new(AccessKind.Fetch, 3, nx ? new[] { UserBase + 0x1000, UserBase + 0x2000 } : new[] { UserBase + 0x1000 }),
        };

        return new ExampleLayout(mode, cpu, pages, queries);
    }

    // EPT tables from 0x1000 (EPTP, with A/D flags on) that map guest-physical pages of a nested guest to the data
    // frames: every kind of entry the EPT walk tells apart.
    private static ExampleLayout BuildEpt(GuestMemory memory, PagingModeInfo mode)
    {
        const ulong Read = 1, Write = 2, Execute = 4, WriteBack = 6 << 3, Base = 0x8000_0000;
        var builder = new PageTableBuilder(memory, mode, 0x1000, GuestTables);
        var cpu = new CpuState(0, 0, 0, 0, MaxPhysAddr: (int)TranslateDefaults.MaxPhysAddr, Eptp: EptPointer.Make(builder.Root, mode.RootLevel, accessedDirty: true));
        var pages = new List<ExamplePage>();

        void Map(ulong gpa, ulong hpa, ulong size, ulong flags, string what)
        {
            builder.Map(gpa, hpa, size, flags);
            pages.Add(new ExamplePage(gpa, hpa, size, what));
        }

        Map(Base, 0x10_0000, 0x1000, Read | Write | Execute | WriteBack, "read/write/execute, write-back");
        Map(Base + 0x1000, 0x10_1000, 0x1000, Read | WriteBack, "read-only");
        Map(Base + 0x2000, 0x10_2000, 0x1000, Read | Execute | WriteBack | 0x40, "read/execute, ignore PAT");
        pages.Add(new ExamplePage(Base + 0x3000, 0, 0x1000, "not present (its EPT PTE is 0)", Present: false));
        Map(Base + 0x4000, 0x10_3000, 0x1000, Read | Write | (7 << 3), "memory type 7 (reserved): misconfigured");
        Map(0x4000_0000, 0x20_0000, 0x20_0000, Read | Write | WriteBack, "a 2 MiB page");
        Map(0xC000_0000, 0, 0x4000_0000, Read | Write | Execute | WriteBack, "a 1 GiB page");
        Map(0, 0, 0x20_0000, Read | Write | Execute | WriteBack, "the guest's own tables: a 2 MiB page, identity");

        var queries = new List<ExampleQuery>
        {
            new(AccessKind.Read, 0, new[] { Base + 0x123, Base + 0x1000, Base + 0x3000, Base + 0x4000, 0x4001_2345UL, 0xC000_1000UL }),
            new(AccessKind.Write, 0, new[] { Base + 0x123, Base + 0x1000 }),
            new(AccessKind.Fetch, 0, new[] { Base + 0x2000, 0x4000_0000UL }),
        };

        return new ExampleLayout(mode, cpu, pages, queries, BuildGuest(memory, cpu.Eptp, Base));
    }

    // The first guest-physical 2 MiB are mapped to the same host-physical addresses, so a guest's tables can sit there;
    // the EPT tables stay below them.
    private const ulong GuestTables = 0x8_0000;

    // A 4-level guest whose tables (at guest-physical GuestTables, identity-mapped by EPT) map its pages to the EPT
    // example's guest-physical pages: a translation through both, an EPT violation on the final address for a write to
    // a page EPT keeps read-only and for a page EPT does not map, and the guest's own #PF.
    private static ExampleLayout BuildGuest(GuestMemory memory, ulong eptp, ulong eptBase)
    {
        PagingModeInfo mode = PagingModes.All.First(m => m.Name == "long4");
        var builder = new PageTableBuilder(memory, mode, GuestTables, 0x10_0000);
        CpuState cpu = PagingModeFacts.Of(mode).SelectingState(builder.Root);
        cpu = cpu with { Cr0 = cpu.Cr0 | TranslateDefaults.Cr0, Eptp = eptp, MaxPhysAddr = (int)TranslateDefaults.MaxPhysAddr };
        var pages = new List<ExamplePage>();

        void Map(ulong va, ulong gpa, string what)
        {
            builder.Map(va, gpa, 0x1000, User | Writable);
            pages.Add(new ExamplePage(va, gpa, 0x1000, what));
        }

        Map(UserBase, eptBase, "user read/write; EPT: read/write/execute");
        Map(UserBase + 0x1000, eptBase + 0x1000, "user read/write; EPT: read-only");
        Map(UserBase + 0x2000, eptBase + 0x3000, "user read/write; EPT: not mapped");
        pages.Add(new ExamplePage(UserBase + 0x3000, 0, 0x1000, "not present in the guest's tables", Present: false));
        var queries = new List<ExampleQuery>
        {
            new(AccessKind.Read, 3, new[] { UserBase + 0x123, UserBase + 0x2000, UserBase + 0x3000 }),
            new(AccessKind.Write, 3, new[] { UserBase + 0x123, UserBase + 0x1000 }),
        };

        return new ExampleLayout(mode, cpu, pages, queries);
    }

    /// <summary>The register options that select the example's mode: <c>--cr0 X --cr3 X --cr4 X --efer X</c>, or <c>--eptp X</c>.</summary>
    public static string RegisterOptions(in CpuState cpu)
    {
        string guest = $"--cr0 {Numbers.Hex(cpu.Cr0)} --cr3 {Numbers.Hex(cpu.Cr3)} --cr4 {Numbers.Hex(cpu.Cr4)} --efer {Numbers.Hex(cpu.Efer)}";
        return cpu.Eptp == 0 ? guest
            : cpu.Cr0 == 0 ? $"--eptp {Numbers.Hex(cpu.Eptp)}"
            : $"{guest} --eptp {Numbers.Hex(cpu.Eptp)}";
    }

    /// <summary>The arguments of the <c>translate</c> command for <paramref name="query"/> on <paramref name="image"/>.</summary>
    public static string[] TranslateArguments(string image, ExampleLayout layout, ExampleQuery query)
    {
        var args = new List<string> { "translate", "--image", image };
        args.AddRange(RegisterOptions(layout.Cpu).Split(' '));
        if (query.Cpl != 0)
        {
            args.Add("--cpl");
            args.Add(query.Cpl.ToString(CultureInfo.InvariantCulture));
        }

        if (query.Access != AccessKind.Read)
        {
            args.Add("--access");
            args.Add(TranslateDefaults.Name(query.Access));
        }

        if (layout.Mode.IsEpt)
        {
            args.Add("--gpa");
        }

        args.AddRange(query.Vas.Select(Numbers.Hex));
        return args.ToArray();
    }

    /// <summary>Writes the table of pages the example maps.</summary>
    public static void WritePages(TextWriter output, ExampleLayout layout)
    {
        int width = layout.Pages.Max(p => Numbers.Hex(p.Va).Length);
        foreach (ExamplePage page in layout.Pages)
        {
            string target = page.Present ? $"-> {Numbers.Hex(page.Pa)} ({TranslationFormat.SizeText(page.Size)})" : "-> nothing";
            output.WriteLine($"  {Numbers.Hex(page.Va).PadRight(width)}  {page.What.PadRight(45)} {target}");
        }
    }

    /// <summary>
    /// Writes each query as the command that runs it (<c>$ shadowmmu translate ...</c>, with <paramref name="image"/>
    /// for its image) followed by what that command prints, computed in <paramref name="memory"/>.
    /// </summary>
    public static void WriteWalkthrough(TextWriter output, GuestMemory memory, ExampleLayout layout, string image)
    {
        using var session = new WalkSession();
        var translation = default(Translation);
        foreach (ExampleQuery query in layout.Queries)
        {
            output.WriteLine("$ shadowmmu " + string.Join(' ', TranslateArguments(image, layout, query).Select(ShellQuote)));
            foreach (ulong va in query.Vas)
            {
                var request = new TranslateRequest(layout.Cpu, va, query.Access, query.Cpl, false, Gpa: layout.Mode.IsEpt, Nested: layout.TwoDimensional);
                if (!session.TryTranslate(memory, request, ref translation, out string? error))
                {
                    throw new InvalidOperationException("example query failed: " + error);
                }

                TranslationFormat.WriteText(output, translation);
            }

            output.WriteLine();
        }
    }

    /// <summary>
    /// For an EPT example: the guest whose own tables sit in the memory EPT maps, what they map and the two-dimensional
    /// <c>translate</c> commands (guest registers with <c>--eptp</c>) with what they print; nothing for other modes.
    /// </summary>
    public static void WriteGuestWalkthrough(TextWriter output, GuestMemory memory, ExampleLayout layout, string image)
    {
        if (layout.Guest is not { } guest)
        {
            return;
        }

        output.WriteLine($"A {guest.Mode.Title} guest ({guest.Mode.Name}) has its own page tables at guest-physical {Numbers.Hex(guest.Cpu.Cr3)}, which EPT maps; they map:");
        WritePages(output, guest);
        output.WriteLine();
        output.WriteLine("Its addresses walk in two dimensions (guest-virtual -> guest-physical -> host-physical) with its registers and --eptp:");
        output.WriteLine();
        WriteWalkthrough(output, memory, guest, image);
    }

    /// <summary><paramref name="word"/> as a POSIX shell word: unchanged when it is plain, else in single quotes.</summary>
    public static string ShellQuote(string word)
    {
        if (word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=+,@%".Contains(c, StringComparison.Ordinal)))
        {
            return word;
        }

        return "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>A batch case (one JSON line) equivalent to the first address of the write query.</summary>
    public static string BatchLine(string image, ExampleLayout layout)
    {
        ExampleQuery query = layout.Queries[1];
        var line = new StringBuilder();
        if (layout.Mode.IsEpt)
        {
            line.Append("{\"image\": ").Append(System.Text.Json.JsonSerializer.Serialize(image))
                .Append(", \"eptp\": \"").Append(Numbers.Hex(layout.Cpu.Eptp))
                .Append("\", \"access\": \"").Append(TranslateDefaults.Name(query.Access))
                .Append("\", \"gpa\": \"").Append(Numbers.Hex(query.Vas[0])).Append("\"}");
            return line.ToString();
        }

        line.Append("{\"image\": ").Append(System.Text.Json.JsonSerializer.Serialize(image))
            .Append(", \"cr0\": \"").Append(Numbers.Hex(layout.Cpu.Cr0))
            .Append("\", \"cr3\": \"").Append(Numbers.Hex(layout.Cpu.Cr3))
            .Append("\", \"cr4\": \"").Append(Numbers.Hex(layout.Cpu.Cr4))
            .Append("\", \"efer\": \"").Append(Numbers.Hex(layout.Cpu.Efer))
            .Append("\", \"cpl\": ").Append(query.Cpl.ToString(CultureInfo.InvariantCulture))
            .Append(", \"access\": \"").Append(TranslateDefaults.Name(query.Access))
            .Append("\", \"va\": \"").Append(Numbers.Hex(query.Vas[0])).Append("\"}");
        return line.ToString();
    }
}
