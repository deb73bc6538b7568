using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using ShadowMmu.Roots;
using ShadowMmu.Tests.Dumps;
using ShadowMmu.Tests.RealGuests;
using ShadowMmu.Tests.Roots;
using Xunit;

namespace ShadowMmu.Tests.Cli;

/// <summary>
/// <c>shadowmmu roots</c> on the real guests (its lines are the library's candidates, in order), its JSON, its limits
/// and its errors; and <c>--root ADDR|best</c> in <c>translate</c>, <c>maps</c> and <c>read</c>, checked against what
/// QEMU recorded for the CPU that held that root.
/// </summary>
public sealed class RootsCommandTests
{
    public static TheoryData<string> Modes() => new() { "long4", "long5", "pae", "legacy32" };

    [Theory]
    [MemberData(nameof(Modes))]
    public void Roots_prints_one_line_per_candidate_best_first(string mode)
    {
        GuestStop stop = RealGuestFixtures.Stop(mode, 1);
        RootSearch search = RealGuestRoots.Search(stop, "raw");

        CliResult roots = CliHarness.Run("roots", "--image", stop.RawPath, "--limit", "0");

        Assert.Equal(0, roots.ExitCode);
        Assert.Equal(string.Empty, roots.Stderr);
        Assert.Equal($"{Path.GetFileName(stop.RawPath)}: raw physical memory; 32,768 pages scanned for long4, long5, pae, legacy32 tables (the dump names no paging mode)", roots.Lines[0]);
        Assert.Matches(@"^rank  root +mode      confidence  evidence$", roots.Lines[1]);
        string[] lines = roots.Lines[2..^1];
        Assert.Equal(search.Candidates.Count, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            RootCandidate candidate = search.Candidates[i];
            string[] words = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal((i + 1).ToString(CultureInfo.InvariantCulture), words[0]);
            Assert.Equal($"0x{candidate.Root:x}", words[1]);
            Assert.Equal(candidate.Mode.Name, words[2]);
            Assert.Equal(candidate.Confidence.ToString().ToLowerInvariant(), words[3]);
            Assert.EndsWith("  " + string.Join("; ", candidate.Evidence), lines[i], StringComparison.Ordinal);
        }

        Assert.StartsWith($"{search.Candidates.Count} candidates; give one to translate, maps or read with --root ADDR", roots.Lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Roots_json_carries_every_field_in_snake_case()
    {
        GuestStop stop = RealGuestFixtures.Stop("long4", 2);
        RootSearch search = RealGuestRoots.Search(stop, "elf");

        CliResult roots = CliHarness.Run("roots", "--image", stop.ElfPath, "--format", "json");

        Assert.Equal(0, roots.ExitCode);
        using JsonDocument json = JsonDocument.Parse(Assert.Single(roots.Lines));
        JsonElement top = json.RootElement;
        Assert.Equal("elf", top.GetProperty("format").GetString());
        Assert.Equal(32832, top.GetProperty("pages_scanned").GetInt64());
        Assert.Equal(new[] { "long4" }, top.GetProperty("modes_searched").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(new[] { "VMCOREINFO NUMBER(pgtable_l5_enabled)=0" }, top.GetProperty("mode_evidence").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(search.Candidates.Count, top.GetProperty("candidates_found").GetInt32());
        JsonElement[] candidates = top.GetProperty("candidates").EnumerateArray().ToArray();
        Assert.Equal(search.Candidates.Count, candidates.Length);

        JsonElement kernel = candidates[0];
        Assert.Equal(
            new[] { "rank", "root", "mode", "confidence", "score", "pages_mapped", "user_pages", "bytes_mapped", "tables", "malformed_tables", "shares_kernel_half_with", "pti_partner", "pti_user_table", "vmcoreinfo", "cpus", "cr0", "cr3", "cr4", "efer", "evidence" },
            kernel.EnumerateObject().Select(p => p.Name));
        Assert.Equal("certain", kernel.GetProperty("confidence").GetString());
        Assert.True(kernel.GetProperty("vmcoreinfo").GetBoolean());
        Assert.Equal(kernel.GetProperty("root").GetString(), kernel.GetProperty("cr3").GetString());
        Assert.Equal("0x20", kernel.GetProperty("cr4").GetString());
        Assert.Equal("0xd00", kernel.GetProperty("efer").GetString());
        Assert.Equal($"0x{search.Candidates[0].Root + 0x1000:x}", kernel.GetProperty("pti_partner").GetString());
        JsonElement first = kernel.GetProperty("evidence")[0];
        Assert.Equal("vmcoreinfo", first.GetProperty("kind").GetString());
        Assert.Equal("VMCOREINFO SYMBOL(init_top_pgt)", first.GetProperty("text").GetString());

        // vCPU 1 at stop 2 is in the kernel on mmtest's kernel table: its CR3 is named by the note.
        ulong cr3 = stop.Cpus[1].Registers.PagingCr3;
        JsonElement held = Assert.Single(candidates, c => c.GetProperty("root").GetString() == $"0x{cr3:x}");
        Assert.Equal(new[] { 1 }, held.GetProperty("cpus").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(0, kernel.GetProperty("user_pages").GetInt64());   // the kernel's own tables map no user page
        Assert.True(held.GetProperty("user_pages").GetInt64() > 100);   // mmtest's do
        Assert.Contains(held.GetProperty("evidence").EnumerateArray(), e => e.GetProperty("kind").GetString() == "cpu_register" && e.GetProperty("text").GetString() == "CPU 1's CR3");
    }

    [Fact]
    public void Limit_shows_the_first_n_and_says_how_many_more()
    {
        GuestStop stop = RealGuestFixtures.Stop("long4", 1);
        int count = RealGuestRoots.Search(stop, "raw").Candidates.Count;

        CliResult two = CliHarness.Run("roots", "--image", stop.RawPath, "--limit", "2");
        CliResult byDefault = CliHarness.Run("roots", "--image", stop.RawPath);
        CliResult json = CliHarness.Run("roots", "--image", stop.RawPath, "--limit", "2", "--format", "json");

        Assert.Equal(5, two.Lines.Length);
        Assert.StartsWith($"{count} candidates, {count - 2} not shown (--limit 0 shows all)", two.Lines[^1], StringComparison.Ordinal);
        Assert.Equal(Math.Min(count, 20) + 3, byDefault.Lines.Length);   // --limit's documented default: 20
        using JsonDocument document = JsonDocument.Parse(json.Stdout);
        Assert.Equal(2, document.RootElement.GetProperty("candidates").GetArrayLength());
        Assert.Equal(count, document.RootElement.GetProperty("candidates_found").GetInt32());
    }

    [Fact]
    public void A_dump_without_page_tables_has_no_candidates_and_says_so()
    {
        string path = DumpFixtures.NewFile("zero.raw");
        File.WriteAllBytes(path, new byte[1 << 20]);

        CliResult roots = CliHarness.Run("roots", "--image", path);
        CliResult best = CliHarness.Run("maps", "--image", path, "--root", "best");

        Assert.Equal(0, roots.ExitCode);
        Assert.Equal("no page tables found: no page of the dump is shaped like a root table whose walk maps memory", roots.Lines[^1]);
        best.AssertUsageError("--root best: 'shadowmmu roots' finds no page tables in '");
    }

    [Theory]
    [InlineData("--image is required")]
    [InlineData("cannot read image", "--image", "/nonexistent/memory.raw")]
    [InlineData("--limit: 'ten' is not a count", "--image", "x", "--limit", "ten")]
    [InlineData("--limit: '-1' is not a count", "--image", "x", "--limit", "-1")]
    [InlineData("Argument 'xml' not recognized", "--image", "x", "--format", "xml")]
    public void Bad_input_is_one_line_and_exit_code_2(string message, params string[] args)
    {
        CliHarness.Run(args.Prepend("roots").ToArray()).AssertUsageError(message);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Maps_through_a_found_root_is_qemus_info_tlb_for_the_cpu_that_held_it(string mode)
    {
        GuestStop stop = RealGuestFixtures.Stop(mode, 1);
        VcpuRecord cpu = stop.Cpus[0];

        CliResult maps = CliHarness.Run("maps", "--image", stop.RawPath, "--root", $"0x{cpu.Registers.PagingCr3:x}", "--format", "tlb");

        Assert.Equal(0, maps.ExitCode);
        string[] qemu = cpu.TlbText.Split(new[] { '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries).Select(l => mode == "pae" ? WithoutNx(l) : l).ToArray();
        Assert.Equal(qemu, maps.Lines);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Root_best_is_the_first_candidate_with_the_registers_its_mode_needs(string mode)
    {
        GuestStop stop = RealGuestFixtures.Stop(mode, 2);
        RootCandidate best = RealGuestRoots.Search(stop, "raw").Best!;
        CpuState registers = best.SelectingState();

        CliResult byBest = CliHarness.Run("maps", "--image", stop.RawPath, "--root", "best");
        CliResult byRegisters = CliHarness.Run("maps", "--image", stop.RawPath, "--cr3", $"0x{registers.Cr3:x}", "--cr0", $"0x{registers.Cr0:x}", "--cr4", $"0x{registers.Cr4:x}", "--efer", $"0x{registers.Efer:x}");

        Assert.Equal(0, byBest.ExitCode);
        Assert.Equal(byRegisters.Lines, byBest.Lines);
        Assert.Contains($"{mode} (", byBest.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Translate_through_a_found_root_lands_where_gva2gpa_says(string mode)
    {
        GuestStop stop = RealGuestFixtures.Stop(mode, 1);
        VcpuRecord cpu = stop.Cpus[0];
        Gva2GpaSample[] samples = cpu.Gva2Gpa.Where(s => s.Gpa != null).Where((_, i) => i % 97 == 0).Take(12).ToArray();

        CliResult translate = CliHarness.Run(new[] { "translate", "--image", stop.RawPath, "--root", $"0x{cpu.Registers.PagingCr3:x}", "--ac" }
            .Concat(samples.Select(s => $"0x{s.Va:x}")).ToArray());

        Assert.Equal(0, translate.ExitCode);
        foreach (Gva2GpaSample sample in samples)
        {
            Assert.Contains($"0x{sample.Va:x} -> 0x{sample.Gpa:x} (", translate.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Read_through_a_found_root_reads_what_the_cpu_note_reads()
    {
        GuestStop stop = RealGuestFixtures.Stop("long5", 1);
        Gva2GpaSample sample = stop.Cpus[0].Gva2Gpa.First(s => s.Gpa != null && (s.Va >> 63) != 0);
        string va = $"0x{sample.Va & ~0xFUL:x}";

        CliResult byRoot = CliHarness.Run("read", "--image", stop.ElfPath, "--root", $"0x{stop.Cpus[0].Registers.PagingCr3:x}", va, "64");
        CliResult byNote = CliHarness.Run("read", "--image", stop.ElfPath, "--cpu", "0", va, "64");

        Assert.Equal(0, byRoot.ExitCode);
        Assert.Equal(5, byRoot.Lines.Length);   // four lines of 16 bytes, and the end offset
        Assert.Equal(byNote.Stdout, byRoot.Stdout);
    }

    [Fact]
    public void Registers_given_with_root_replace_what_the_root_implies()
    {
        GuestStop stop = RealGuestFixtures.Stop("legacy32", 1);
        string root = $"0x{stop.Cpus[0].Registers.PagingCr3:x}";

        // 0xc0400000: PDE 769 maps a 4 MiB page with CR4.PSE (which the root's mode sets); without it the PDE references a table.
        CliResult withPse = CliHarness.Run("translate", "--image", stop.RawPath, "--root", root, "0xc0400000");
        CliResult withoutPse = CliHarness.Run("translate", "--image", stop.RawPath, "--root", root, "--cr4", "0", "0xc0400000");

        Assert.Equal("0xc0400000 -> 0x400000 (4 MiB page, legacy32, supervisor rwx)", withPse.Lines[0]);
        Assert.DoesNotContain("4 MiB page", withoutPse.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("give either --root or --cr3/--cpu", "maps", "--root", "best", "--cr3", "0x1000")]
    [InlineData("give either --root or --cr3/--cpu", "read", "--root", "best", "--cpu", "0", "0x1000", "16")]
    [InlineData("--root: 'first' is neither a root address (hex with 0x, or decimal) nor 'best'", "translate", "--root", "first", "0x1000")]
    [InlineData("-memory.raw', and this is not one of them; give --cr3 to use it anyway", "maps", "--root", "0x1234")]
    [InlineData("--gpa walks EPT alone: --cr0, --cr3, --cr4, --efer, --pkru, --cpu, --root", "translate", "--root", "best", "--eptp", "0x1e", "--gpa", "0x1000")]
    [InlineData("--batch takes registers and addresses from each case", "translate", "--batch", "x.jsonl", "--root", "best")]
    public void Bad_root_options_are_one_line_and_exit_code_2(string message, params string[] args)
    {
        string image = RealGuestFixtures.Stop("pae", 1).RawPath;
        string[] full = args[0] == "translate" && args.Contains("--batch") ? args : args.Take(1).Concat(new[] { "--image", image }).Concat(args.Skip(1)).ToArray();

        CliHarness.Run(full).AssertUsageError(message);
    }

    // QEMU prints a PAE leaf as "VA: pte & ~0xfff", keeping bit 63 (XD) in the address (see RealGuestMapsTests).
    private static string WithoutNx(string line)
    {
        ulong printed = Convert.ToUInt64(line[18..34], 16) & ~(1UL << 63);
        return line[..18] + printed.ToString("x16", CultureInfo.InvariantCulture) + line[34..];
    }
}
