using System;
using System.Linq;
using System.Text.Json;
using Xunit;

namespace ShadowMmu.Tests.Cli;

/// <summary><c>shadowmmu translate --image FILE --eptp X [--mbec] --gpa GPA...</c> and the batch's <c>eptp</c>/<c>gpa</c> keys: EPT walked alone.</summary>
public sealed class TranslateEptTests : IDisposable
{
    private const ulong Rwx = 0x37;          // R W X, memory type WB (6 << 3)
    private const ulong ReadOnly = 0x31;     // R, WB
    private const ulong UserExecOnly = 0x431; // R and user-execute (bit 10), WB
    private const ulong BadType = 0x3F;      // RWX with memory type 7: reserved
    private const ulong Tables = 0x407;      // tables allow everything, user-mode execution included

    private readonly TempDir _dir = new();
    private readonly TestImage _image;

    public TranslateEptTests()
    {
        _image = TestImage.Build(_dir.File("ept.bin"), "ept4", (b, _) =>
        {
            b.Map(0x8000_0000, 0x12_3000, 0x1000, Rwx, Tables);
            b.Map(0x8000_1000, 0x12_4000, 0x1000, ReadOnly, Tables);
            b.Map(0x8000_2000, 0x12_5000, 0x1000, UserExecOnly, Tables);
            b.Map(0x8000_3000, 0x12_6000, 0x1000, BadType, Tables);
            b.Map(0x4000_0000, 0x20_0000, 0x20_0000, Rwx | 0x40, Tables); // 2 MiB, ignore PAT
        }, 0x8000_0000, 0x8000_3000);
    }

    public void Dispose() => _dir.Dispose();

    private string Eptp(bool ad = false) => "0x" + EptPointer.Make(_image.Cr3, 4, ad).ToString("x");

    private CliResult Translate(params string[] tail) =>
        CliHarness.Run(new[] { "translate", "--image", _image.Path }.Concat(tail).ToArray());

    [Fact]
    public void A_translation_prints_the_host_physical_address_rights_and_memory_type()
    {
        CliResult result = Translate("--eptp", Eptp(), "--gpa", "0x80000123", "0x40012345");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("0x80000123 -> 0x123123 (4 KiB page, ept4, rwx, WB)", result.Lines[0]);
        Assert.Equal("0x40012345 -> 0x212345 (2 MiB page, ept4, rwx, WB, ignore PAT)", result.Lines[1]);
    }

    [Fact]
    public void With_AD_on_a_write_sets_accessed_and_dirty_in_EPT_bits_8_and_9()
    {
        CliResult result = Translate("--eptp", Eptp(ad: true), "--access", "write", "--gpa", "0x80000000");

        Assert.Equal(0, result.ExitCode);
        ulong pte = _image.EntryGpa(0x8000_0000, 1);
        Assert.Contains($"    sets A D in the PTE at 0x{pte:x}: 0x{_image.Entry(pte):x} -> 0x{_image.Entry(pte) | 0x300:x}", result.Lines);
        Assert.Equal(5, result.Lines.Length); // the translation and the four entries
    }

    [Fact]
    public void A_write_to_a_read_only_page_is_an_EPT_violation_with_its_exit_qualification()
    {
        CliResult result = Translate("--eptp", Eptp(), "--access", "write", "--gpa", "0x80001000");

        Assert.Equal(0, result.ExitCode);
        // write (bit 1), allowed read only (bit 3), linear address valid (7), final translation (8).
        Assert.Equal("0x80001000: EPT violation, exit qualification 0x18a (write; allowed r--; linear address valid, final translation) at level 1 (ept4)", result.Lines[0]);
    }

    [Fact]
    public void Bits_51_to_48_with_4_level_EPT_are_an_EPT_violation_before_any_entry()
    {
        // The current SDM: with 4-level EPT, any of bits 51:48 set is an EPT violation with bits 6:3 of its qualification clear.
        CliResult result = Translate("--eptp", Eptp(), "--access", "write", "--gpa", "0x1000080000000");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
            new[] { "0x1000080000000: EPT violation, exit qualification 0x182 (write; linear address valid, final translation) before any entry: bits 51:48 of the address are not all 0 (ept4)" },
            result.Lines);
        string batch = _dir.File("cases.jsonl");
        System.IO.File.WriteAllText(batch, $"{{\"image\": \"ept.bin\", \"eptp\": \"{Eptp()}\", \"gpa\": \"0x1000080000000\"}}\n");
        System.Text.Json.JsonElement answer = System.Text.Json.JsonDocument.Parse(CliHarness.Run("translate", "--batch", batch).Lines.Single()).RootElement;
        Assert.Equal("ept_violation", answer.GetProperty("exit").GetString());
        Assert.Equal("0x181", answer.GetProperty("exit_qualification").GetString());
        Assert.Equal(0, answer.GetProperty("level").GetInt32());
    }

    [Fact]
    public void A_reserved_memory_type_is_a_misconfiguration_not_a_violation()
    {
        CliResult result = Translate("--eptp", Eptp(), "--gpa", "0x80003000");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("0x80003000: EPT misconfiguration at level 1 (ept4)", result.Lines[0]);
        ulong pte = _image.EntryGpa(0x8000_3000, 1);
        Assert.Equal($"    the PTE at 0x{pte:x} holds 0x{_image.Entry(pte):x}", result.Lines[1]);
    }

    [Fact]
    public void Mode_based_execute_control_uses_bit_10_for_user_mode_addresses()
    {
        Assert.Equal("0x80002000 -> 0x125000 (4 KiB page, ept4, r--u, WB)", Translate("--eptp", Eptp(), "--mbec", "--user", "--access", "fetch", "--gpa", "0x80002000").Lines[0]);
        Assert.StartsWith("0x80002000: EPT violation, exit qualification 0x1cc (fetch; allowed r--u;", Translate("--eptp", Eptp(), "--mbec", "--access", "fetch", "--gpa", "0x80002000").Lines[0]);
        Assert.StartsWith("0x80002000: EPT violation, exit qualification 0x38c (fetch; allowed r--;", Translate("--eptp", Eptp(), "--user", "--access", "fetch", "--gpa", "0x80002000").Lines[0]); // bit 9: a user-mode linear address
    }

    [Theory]
    [InlineData("--gpa", "0x1000")]                                         // no --eptp
    [InlineData("--eptp", "0x1f9e", "--gpa", "0x1000")]                     // EPTP bits 11:7 set
    [InlineData("--eptp", "0x1019", "--gpa", "0x1000")]                     // memory type 1: neither UC nor WB
    [InlineData("--eptp", "0x1006", "--gpa", "0x1000")]                     // page-walk length 1
    [InlineData("--eptp", "0x10000000001e", "--gpa", "0x1000")]             // root above MAXPHYADDR (40)
    [InlineData("--eptp", "0x101e", "--gpa", "0x10000000000000")]           // no guest-physical address has bit 52
    [InlineData("--eptp", "0x101e", "--gpa", "0x1000", "--cr3", "0x1000")]  // guest registers do not apply
    [InlineData("--eptp", "0x101e", "0x1000")]                              // --eptp with a VA: the 2-D walk is not built yet
    [InlineData("--mbec", "--cr3", "0x1000", "0x1000")]                     // --mbec without --eptp
    public void Bad_EPT_input_is_a_one_line_error_and_exit_code_2(params string[] args)
    {
        Translate(args).AssertUsageError();
    }

    [Fact]
    public void Batch_answers_EPT_cases_with_the_issue_fields()
    {
        string eptp = Eptp(ad: true);
        string input = string.Join('\n',
            $$"""{"image": "ept.bin", "eptp": "{{eptp}}", "gpa": "0x80000010", "access": "write", "user": false, "mbec": false, "maxphyaddr": 46}""",
            $$"""{"image": "ept.bin", "eptp": "{{eptp}}", "gpa": "0x80001000", "access": "write"}""",
            $$"""{"image": "ept.bin", "eptp": "{{eptp}}", "gpa": "0x80003000"}""",
            $$"""{"image": "ept.bin", "gpa": "0x80003000"}""") + "\n";
        System.IO.File.WriteAllText(_dir.File("cases.jsonl"), input);

        CliResult result = CliHarness.Run("translate", "--batch", _dir.File("cases.jsonl"));

        Assert.Equal(0, result.ExitCode);
        JsonElement[] answers = result.Lines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.False(answers[0].GetProperty("fault").GetBoolean());
        Assert.Equal(JsonValueKind.Null, answers[0].GetProperty("exit").ValueKind);
        Assert.Equal("0x123010", answers[0].GetProperty("hpa").GetString());
        Assert.Equal(4096, answers[0].GetProperty("page_size").GetInt32());
        Assert.Equal("ept4", answers[0].GetProperty("mode").GetString());
        Assert.Equal(4, answers[0].GetProperty("pte_updates").GetArrayLength());
        Assert.Equal("ept", answers[0].GetProperty("pte_updates")[0].GetProperty("table").GetString());
        Assert.Equal(JsonValueKind.Null, answers[0].GetProperty("exception").ValueKind);

        Assert.True(answers[1].GetProperty("fault").GetBoolean());
        Assert.Equal("ept_violation", answers[1].GetProperty("exit").GetString());
        Assert.Equal("0x18a", answers[1].GetProperty("exit_qualification").GetString());
        Assert.Equal("0x80001000", answers[1].GetProperty("fault_gpa").GetString());
        Assert.Equal(JsonValueKind.Null, answers[1].GetProperty("hpa").ValueKind);
        Assert.Equal(0, answers[1].GetProperty("pte_updates").GetArrayLength());

        Assert.Equal("ept_misconfig", answers[2].GetProperty("exit").GetString());
        Assert.Equal(JsonValueKind.Null, answers[2].GetProperty("exit_qualification").ValueKind);

        Assert.Contains("eptp is missing", answers[3].GetProperty("error").GetString());
    }
}
