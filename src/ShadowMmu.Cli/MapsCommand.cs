using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using ShadowMmu.Dumps;

namespace ShadowMmu.Cli;

/// <summary>
/// <c>shadowmmu maps</c>: every page one address space maps, read from its tables (absent subtrees skipped), printed
/// as runs for people, in QEMU's <c>info tlb</c> or <c>info mem</c> format for <c>diff</c>, or as JSON.
/// </summary>
internal static class MapsCommand
{
    public static Command Create(CliContext context)
    {
        var space = new AddressSpaceOptions();
        var format = new Option<string>("--format")
        {
            Description = "table: runs with rights, execute, page size and protection key; tlb: qemu's 'info tlb' lines (one per page); mem: qemu's 'info mem' runs; json: the runs as JSON.",
            HelpName = "table|tlb|mem|json",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "tlb", "mem", "json");

        var command = new Command("maps", "List every page an address space maps, from the page tables in a guest's memory image (the registers given, or a dump's CPU note). Entries with reserved bits set map nothing (the CPU would fault on them) and are counted. Exit code 0, 2 for bad input.");
        foreach (Option option in space.All)
        {
            command.Add(option);
        }

        command.Add(format);
        command.Validators.Add(result =>
        {
            string? error = result.GetResult(space.Image) == null ? "--image is required" : space.Validate(result);
            if (error != null)
            {
                result.AddError(error);
            }
        });
        command.SetAction(parsed => Run(parsed, space, Enum.Parse<MapsFormat>(parsed.GetValue(format)!, ignoreCase: true), context));
        return command;
    }

    private static int Run(System.CommandLine.ParseResult parsed, AddressSpaceOptions space, MapsFormat format, CliContext context)
    {
        using var session = new WalkSession(context.Progress);
        (MemoryDump dump, CpuState cpu) = space.Resolve(parsed, session, context.ScanProgress);
        AddressSpace addressSpace = Open(dump, cpu, space.PdptesOf(parsed), out string? note);
        TextWriter output = context.Out;
        AddressSpaceCounts counts;
        switch (format)
        {
            case MapsFormat.Tlb:
                var tlb = new TlbLines(output, addressSpace.Mode.EntryBytes);
                counts = addressSpace.Enumerate(ref tlb);
                break;

            case MapsFormat.Mem:
                var mem = new MemRuns(output, addressSpace.Mode.LinearBits, PagingModeFacts.Of(addressSpace.Mode).Canonical);
                counts = addressSpace.Enumerate(ref mem);
                mem.Flush();
                break;

            case MapsFormat.Json:
                counts = WriteJson(output, addressSpace, cpu, note);
                break;

            default:
                if (note != null)
                {
                    output.WriteLine(note);
                }

                output.WriteLine($"{addressSpace.Mode.Name} ({addressSpace.Mode.Title}), CR3 {Numbers.Hex(cpu.Cr3)}:");
                output.WriteLine($"{"linear start",-19}{"end",-19}{"size",11}     {"physical",-16}{"rights",-15}pages");
                var table = new TableRuns(output, null);
                counts = addressSpace.Enumerate(ref table);
                table.Flush();
                output.WriteLine(Summary(counts, table.Runs, table.Bytes));
                break;
        }

        return 0;
    }

    /// <summary>
    /// The address space the registers select, with PAE's PDPTE registers as <paramref name="pdptes"/> says; throws
    /// <see cref="CliUsageException"/> when the registers select none.
    /// </summary>
    public static AddressSpace Open(MemoryDump dump, in CpuState cpu, PdpteChoice pdptes, out string? note)
    {
        PagingModeInfo mode = WalkSession.TrySelectMode(cpu, out string? error) ?? throw new CliUsageException(error!);
        IGuestPageWalker walker = PdpteRegisters.CreateWalker(dump.Memory, cpu, mode, pdptes, out ulong ignored);
        note = null;
        if (walker is PaeWalker pae)
        {
            if (pae.RegisterLoadFaulted)
            {
                throw new CliUsageException("loading the PDPTE registers from CR3 faults (#GP(0): a present PDPTE has a reserved bit set), so nothing is mapped; without --strict-pae the image's PDPTEs are read as the registers held them");
            }

            note = TranslationFormat.PdpteNote(new Translation { Pae = pae, PdpteIgnoredBits = ignored });
            return new AddressSpace(mode, dump.Memory, cpu, pae.PdpteRegisters);
        }

        return new AddressSpace(mode, dump.Memory, cpu);
    }

    private static AddressSpaceCounts WriteJson(TextWriter output, AddressSpace addressSpace, in CpuState cpu, string? note)
    {
        var utf8 = new Utf8Output(output);
        using var runs = new MapsJson(utf8);
        Utf8JsonWriter json = runs.Writer;
        json.WriteStartObject();
        json.WriteString("mode", addressSpace.Mode.Name);
        json.WriteString("cr3", Numbers.Hex(cpu.Cr3));
        json.WriteStartArray("runs");
        var table = new TableRuns(null, runs);
        AddressSpaceCounts counts = addressSpace.Enumerate(ref table);
        table.Flush();
        json.WriteEndArray();
        json.WriteNumber("pages", counts.Pages);
        json.WriteNumber("bytes", table.Bytes);
        json.WriteNumber("reserved_entries", counts.ReservedEntries);
        json.WriteNumber("tables_outside_image", counts.TablesOutsideMemory);
        if (note != null)
        {
            json.WriteString("note", note);
        }

        json.WriteEndObject();
        runs.Flush();
        utf8.WriteLine();
        utf8.Flush();
        return counts;
    }

    private static string Summary(in AddressSpaceCounts counts, long runs, ulong bytes)
    {
        var line = new StringBuilder();
        line.Append(counts.Pages.ToString("N0", CultureInfo.InvariantCulture)).Append(" pages (").Append(TranslationFormat.ApproximateSize(bytes))
            .Append(") in ").Append(runs.ToString("N0", CultureInfo.InvariantCulture)).Append(" runs");
        if (counts.ReservedEntries > 0)
        {
            line.Append("; ").Append(counts.ReservedEntries.ToString("N0", CultureInfo.InvariantCulture)).Append(" present entries with reserved bits set map nothing");
        }

        if (counts.TablesOutsideMemory > 0)
        {
            line.Append("; ").Append(counts.TablesOutsideMemory.ToString("N0", CultureInfo.InvariantCulture)).Append(" tables lie outside the image");
        }

        return line.ToString();
    }
}
