using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using ShadowMmu.Oracle;
using ShadowMmu.Tests.Cli;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Differential;

/// <summary>
/// <c>shadowmmu translate --batch</c>, end to end, against QEMU on cases no test has seen: each run draws a new seed
/// (printed, and fixed by SHADOWMMU_BATCH_SEED to reproduce a run), writes images and a JSON Lines batch to disk,
/// runs the tool, and compares every answer with QEMU's.
/// </summary>
public class BatchAgreesWithQemuTests(ITestOutputHelper output)
{
    [Fact]
    public void Batch_answers_agree_with_QEMU_on_fresh_random_cases()
    {
        Assert.True(QemuMmu.IsAvailable, "QEMU oracle unavailable: " + QemuMmu.UnavailableReason);
        int seed = int.TryParse(Environment.GetEnvironmentVariable("SHADOWMMU_BATCH_SEED"), out int fixedSeed) ? fixedSeed : Environment.TickCount & 0x7FFF_FFFF;
        output.WriteLine($"seed {seed} (SHADOWMMU_BATCH_SEED={seed} repeats this run)");
        string folder = Directory.CreateTempSubdirectory("shadowmmu-batch-").FullName;
        try
        {
            var cases = new List<(OracleCase Case, byte[] Image, string ImageName)>();
            var lines = new List<string>();
            foreach ((PagingModeInfo mode, int index) in PagingModes.All.Select((m, i) => (m, i)))
            {
                QemuGuest guest = QemuGuest.Create(unchecked(seed + (index * 7919)), mode);
                using GuestMemory memory = guest.Memory;
                string imageName = mode.Name + ".bin";
                File.WriteAllBytes(Path.Combine(folder, imageName), guest.Image);
                for (int i = 0; i < 40; i++)
                {
                    CpuState cpu = guest.Tables.PickCpu();
                    RandomPagingCase c = guest.Tables.PickCase(cpu);
                    var walk = default(GuestWalk);
                    PagingModes.CreateWalker(mode.Name, memory, cpu).WalkAddr(ref walk, c.Va, c.Kind, c.Cpl, c.Ac);
                    GeneratedVersusReferenceTests.Undo(memory, ref walk, mode.EntryBytes);
                    if (!QemuGuest.VaAllowed(c.Va) || walk.EntryOutsideMemory)
                    {
                        continue;   // the oracle cannot run these (see QemuGuest)
                    }

                    cases.Add((QemuGuest.ToOracle(c), guest.Image, imageName));
                    lines.Add(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["image"] = imageName,
                        ["cr0"] = $"0x{cpu.Cr0:x}",
                        ["cr3"] = $"0x{cpu.Cr3:x}",
                        ["cr4"] = $"0x{cpu.Cr4:x}",
                        ["efer"] = $"0x{cpu.Efer:x}",
                        ["pkru"] = $"0x{cpu.Pkru:x}",
                        ["ac"] = c.Ac,
                        ["cpl"] = c.Cpl,
                        ["access"] = c.Kind.ToString().ToLowerInvariant(),
                        ["va"] = $"0x{c.Va:x}",
                        ["maxphyaddr"] = 40,
                    }));
                }
            }

            string batch = Path.Combine(folder, "cases.jsonl");
            File.WriteAllLines(batch, lines);
            CliResult result = CliHarness.Run("translate", "--batch", batch);
            Assert.Equal(0, result.ExitCode);
            string[] answers = result.Lines;
            Assert.Equal(cases.Count, answers.Length);

            var mismatches = new List<string>();
            for (int i = 0; i < cases.Count; i++)
            {
                OracleResult qemu;
                try
                {
                    qemu = QemuMmu.Run(cases[i].Image, cases[i].Case);
                }
                catch (OracleException e)
                {
                    throw new InvalidOperationException($"the oracle could not run {lines[i]} (ours: {answers[i]})", e);
                }

                string? difference = Compare(JsonDocument.Parse(answers[i]).RootElement, qemu);
                if (difference != null)
                {
                    mismatches.Add($"{lines[i]}\n  ours: {answers[i]}\n  {difference}");
                }
            }

            output.WriteLine($"{cases.Count} cases compared");
            Assert.True(mismatches.Count == 0, string.Join("\n", mismatches.Take(10)));
            Assert.True(cases.Count > 100);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string? Compare(JsonElement ours, OracleResult qemu)
    {
        if (ours.TryGetProperty("error", out JsonElement error))
        {
            return "error: " + error.GetString();
        }

        string? exception = ours.GetProperty("exception").GetString();
        string expected = qemu.Outcome switch
        {
            OracleOutcome.PageFault => "PF",
            OracleOutcome.GeneralProtection => "GP",
            _ => "none",
        };
        if ((exception ?? "none") != expected)
        {
            return $"QEMU: {qemu}";
        }

        if (qemu.Outcome == OracleOutcome.PageFault && ours.GetProperty("error_code").GetString() != $"0x{qemu.ErrorCode:x}")
        {
            return $"QEMU error code 0x{qemu.ErrorCode:x}";
        }

        if (qemu.Outcome != OracleOutcome.Translated)
        {
            return null;
        }

        if (qemu.PhysicalAddress is ulong pa && ours.GetProperty("pa").GetString() != $"0x{pa:x}")
        {
            return $"QEMU PA 0x{pa:x}";
        }

        var mine = ours.GetProperty("pte_updates").EnumerateArray()
            .Select(u => $"{u.GetProperty("pa").GetString()}:{u.GetProperty("old").GetString()}->{u.GetProperty("new").GetString()}")
            .OrderBy(s => s, StringComparer.Ordinal);
        var theirs = qemu.PteUpdates.Select(u => $"0x{u.Pa:x}:0x{u.Old:x}->0x{u.New:x}").OrderBy(s => s, StringComparer.Ordinal);
        return mine.SequenceEqual(theirs) ? null : $"QEMU A/D [{string.Join(", ", theirs)}]";
    }
}
