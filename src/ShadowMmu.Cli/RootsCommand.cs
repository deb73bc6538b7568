using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using ShadowMmu.Dumps;
using ShadowMmu.Roots;

namespace ShadowMmu.Cli;

/// <summary>
/// <c>shadowmmu roots</c>: the address spaces in a dump, found as <see cref="RootFinder"/> finds them: one line per
/// candidate root (its CR3, the paging mode it implies, how sure, and why), best first, or JSON. The other commands
/// take one with <c>--root ADDR|best</c>.
/// </summary>
internal static class RootsCommand
{
    /// <summary>How many candidates are printed unless <c>--limit</c> says otherwise.</summary>
    public const int DefaultLimit = 20;

    public static Command Create(CliContext context)
    {
        var image = new AddressSpaceOptions().Image;
        var format = new Option<string>("--format")
        {
            Description = "table: one line per candidate; json: one JSON object with every field.",
            HelpName = "table|json",
            DefaultValueFactory = _ => "table",
        };
        format.AcceptOnlyFromAmong("table", "json");
        var limit = new Option<int>("--limit")
        {
            Description = "Print at most N candidates, best first; 0 prints all.",
            HelpName = "N",
            DefaultValueFactory = _ => DefaultLimit,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
                {
                    return n;
                }

                result.AddError($"--limit: '{text}' is not a count (0, 1, 2, ...)");
                return 0;
            },
        };

        var command = new Command("roots", "Find the address spaces in a guest's memory image: the top-level page tables (what CR3 would hold) with the paging mode each implies, how sure, and why, best first. VMCOREINFO (the kernel's own root) and CPU notes count first when the dump has them; otherwise every page is scanned for well-formed tables whose walk maps memory, and Linux's shared kernel halves, PTI pairs and Windows' self-map are looked for. translate, maps and read take a root found here with --root ADDR or --root best. Exit code 0 (also when nothing is found), 2 for bad input.")
        {
            image,
            format,
            limit,
        };
        command.Validators.Add(result =>
        {
            if (result.GetResult(image) == null)
            {
                result.AddError("--image is required");
            }
        });
        command.SetAction(parsed => Run(parsed.GetValue(image)!, parsed.GetValue(format) == "json", parsed.GetValue(limit), context));
        return command;
    }

    private static int Run(string imagePath, bool json, int limit, CliContext context)
    {
        using var session = new WalkSession(context.Progress);
        MemoryDump dump = session.TryOpenDump(imagePath, out string? error) ?? throw new CliUsageException(error!);
        RootSearch search = RootFinder.Find(dump, context.ScanProgress);
        int shown = limit == 0 ? search.Candidates.Count : Math.Min(limit, search.Candidates.Count);
        if (json)
        {
            WriteJson(context.Out, dump, search, shown);
        }
        else
        {
            WriteTable(context.Out, dump, search, shown);
        }

        return 0;
    }

    private static void WriteTable(TextWriter output, MemoryDump dump, RootSearch search, int shown)
    {
        output.WriteLine($"{Path.GetFileName(dump.Path)}: {dump.Description}; {Searched(search)}");
        if (search.Candidates.Count == 0)
        {
            output.WriteLine("no page tables found: no page of the dump is shaped like a root table whose walk maps memory");
            return;
        }

        int rootWidth = Math.Max(4, search.Candidates.Take(shown).Max(c => Numbers.Hex(c.Root).Length));
        output.WriteLine($"{"rank",4}  {"root".PadRight(rootWidth)}  {"mode",-8}  {"confidence",-10}  evidence");
        for (int i = 0; i < shown; i++)
        {
            RootCandidate candidate = search.Candidates[i];
            output.WriteLine($"{(i + 1).ToString(CultureInfo.InvariantCulture),4}  {Numbers.Hex(candidate.Root).PadRight(rootWidth)}  {candidate.Mode.Name,-8}  {Name(candidate.Confidence),-10}  {string.Join("; ", candidate.Evidence)}");
        }

        int more = search.Candidates.Count - shown;
        string count = RootCountText(search.Candidates.Count);
        output.WriteLine(more > 0
            ? $"{count}, {more.ToString(CultureInfo.InvariantCulture)} not shown (--limit 0 shows all); give one to translate, maps or read with --root ADDR, or --root best"
            : $"{count}; give one to translate, maps or read with --root ADDR, or --root best");
    }

    private static void WriteJson(TextWriter output, MemoryDump dump, RootSearch search, int shown)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, TranslationFormat.JsonOptions))
        {
            json.WriteStartObject();
            json.WriteString("image", dump.Path);
            json.WriteString("format", dump.Format.ToString().ToLowerInvariant());
            json.WriteNumber("pages_scanned", search.PagesScanned);
            json.WriteStartArray("modes_searched");
            foreach (PagingModeInfo mode in search.ModesSearched)
            {
                json.WriteStringValue(mode.Name);
            }

            json.WriteEndArray();
            json.WriteStartArray("mode_evidence");
            foreach (string why in search.ModeEvidence)
            {
                json.WriteStringValue(why);
            }

            json.WriteEndArray();
            json.WriteNumber("candidates_found", search.Candidates.Count);
            json.WriteStartArray("candidates");
            for (int i = 0; i < shown; i++)
            {
                WriteCandidate(json, search.Candidates[i], i + 1);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    private static void WriteCandidate(Utf8JsonWriter json, RootCandidate candidate, int rank)
    {
        json.WriteStartObject();
        json.WriteNumber("rank", rank);
        json.WriteString("root", Numbers.Hex(candidate.Root));
        json.WriteString("mode", candidate.Mode.Name);
        json.WriteString("confidence", Name(candidate.Confidence));
        json.WriteNumber("score", candidate.Score);
        json.WriteNumber("pages_mapped", candidate.PagesMapped);
        json.WriteNumber("user_pages", candidate.UserPagesMapped);
        json.WriteNumber("bytes_mapped", candidate.BytesMapped);
        json.WriteNumber("tables", candidate.Tables);
        json.WriteNumber("malformed_tables", candidate.MalformedTables);
        json.WriteNumber("shares_kernel_half_with", candidate.SharesKernelHalfWith);
        if (candidate.PtiPartner is ulong partner)
        {
            json.WriteString("pti_partner", Numbers.Hex(partner));
        }
        else
        {
            json.WriteNull("pti_partner");
        }

        json.WriteBoolean("pti_user_table", candidate.IsPtiUserTable);
        json.WriteBoolean("vmcoreinfo", candidate.FromVmcoreinfo);
        json.WriteStartArray("cpus");
        foreach (int cpu in candidate.Cpus)
        {
            json.WriteNumberValue(cpu);
        }

        json.WriteEndArray();
        CpuState registers = candidate.SelectingState();
        json.WriteString("cr0", Numbers.Hex(registers.Cr0));
        json.WriteString("cr3", Numbers.Hex(registers.Cr3));
        json.WriteString("cr4", Numbers.Hex(registers.Cr4));
        json.WriteString("efer", Numbers.Hex(registers.Efer));
        json.WriteStartArray("evidence");
        foreach (RootEvidence evidence in candidate.Evidence)
        {
            json.WriteStartObject();
            json.WriteString("kind", KindName(evidence.Kind));
            json.WriteString("text", evidence.Text);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static string Searched(RootSearch search)
    {
        string modes = string.Join(", ", search.ModesSearched.Select(m => m.Name));
        string why = search.ModeEvidence.Count > 0 ? string.Join("; ", search.ModeEvidence) : "the dump names no paging mode";
        return $"{search.PagesScanned.ToString("N0", CultureInfo.InvariantCulture)} pages scanned for {modes} tables ({why})";
    }

    private static string RootCountText(int count) => count == 1 ? "1 candidate" : count.ToString("N0", CultureInfo.InvariantCulture) + " candidates";

    /// <summary>The confidence as the tool prints it: certain, high, medium, low.</summary>
    public static string Name(RootConfidence confidence) => confidence.ToString().ToLowerInvariant();

    private static string KindName(RootEvidenceKind kind) => kind switch
    {
        RootEvidenceKind.Vmcoreinfo => "vmcoreinfo",
        RootEvidenceKind.CpuRegister => "cpu_register",
        RootEvidenceKind.SharedKernelHalf => "shared_kernel_half",
        RootEvidenceKind.SelfReference => "self_reference",
        RootEvidenceKind.PtiPair => "pti_pair",
        RootEvidenceKind.Walk => "walk",
        RootEvidenceKind.Mode => "mode",
        _ => "doubt",
    };
}
