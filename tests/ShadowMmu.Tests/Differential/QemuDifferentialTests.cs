using System;
using System.Collections.Generic;
using System.Linq;
using ShadowMmu.Oracle;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Differential;

/// <summary>
/// The generated walkers against QEMU's x86 MMU (Unicorn 2.0.1, through the oracle harness): same memory, same
/// registers, same access. Compared: fault or not, the #PF error code, #GP, the physical address where QEMU lets it
/// be seen, and the A/D bits a successful walk writes. A/D writes of faulting walks are not compared: the SDM leaves
/// them open and QEMU sets upper-level A bits before it faults (see README, "Where QEMU departs from the SDM").
/// </summary>
public class QemuDifferentialTests(ITestOutputHelper output)
{
    /// <summary>Cases per mode; SHADOWMMU_ORACLE_CASES raises it for a long run.</summary>
    private static readonly int CasesPerMode = int.TryParse(Environment.GetEnvironmentVariable("SHADOWMMU_ORACLE_CASES"), out int n) ? n : 400;

    public static TheoryData<string> Modes => new() { "legacy32", "pae", "long4", "long5" };

    [Theory]
    [MemberData(nameof(Modes))]
    public void Generated_walker_agrees_with_QEMU_on_random_tables(string modeName)
    {
        Assert.True(QemuMmu.IsAvailable, "QEMU oracle unavailable: " + QemuMmu.UnavailableReason);
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        var stats = new Dictionary<string, int>();
        var mismatches = new List<string>();
        int compared = 0;
        for (int seed = 1; compared < CasesPerMode; seed++)
        {
            QemuGuest guest = QemuGuest.Create(seed * 104729 + modeName.Length, mode);
            using GuestMemory memory = guest.Memory;
            for (int state = 0; state < 5 && compared < CasesPerMode; state++)
            {
                CpuState cpu = guest.Tables.PickCpu();
                IGuestPageWalker walker = PagingModes.CreateWalker(modeName, memory, cpu);
                for (int i = 0; i < 20 && compared < CasesPerMode; i++)
                {
                    RandomPagingCase c = guest.Tables.PickCase(cpu);
                    if (!QemuGuest.VaAllowed(c.Va))
                    {
                        continue;
                    }

                    var walk = default(GuestWalk);
                    bool translated = walker.WalkAddr(ref walk, c.Va, c.Kind, c.Cpl, c.Ac);
                    GeneratedVersusReferenceTests.Undo(memory, ref walk, mode.EntryBytes);
                    if (walk.EntryOutsideMemory)
                    {
                        Count(stats, "skipped: a table outside the image");
                        continue;
                    }

                    OracleResult qemu = QemuMmu.Run(guest.Image, QemuGuest.ToOracle(c));
                    compared++;
                    Count(stats, translated ? "translated" : walk.Fault == WalkFault.GeneralProtection ? "#GP" : "#PF");
                    string? difference = Difference(walk, translated, qemu, mode.EntryBytes);
                    if (difference != null && mismatches.Count < 10)
                    {
                        mismatches.Add(c + ": " + difference);
                    }

                    if (translated && qemu.PhysicalAddress == null)
                    {
                        Count(stats, "PA not observable");
                    }
                }
            }
        }

        output.WriteLine($"{modeName}: {compared} cases; " + string.Join(", ", stats.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}")));
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        Assert.True(stats.GetValueOrDefault("translated") > CasesPerMode / 10, "too few translations to test the leaf paths");
        Assert.True(stats.GetValueOrDefault("#PF") > CasesPerMode / 10, "too few faults to test the error codes");
    }

    /// <summary>Null when the walk and QEMU agree on everything both can observe.</summary>
    internal static string? Difference(in GuestWalk walk, bool translated, OracleResult qemu, int entryBytes)
    {
        OracleOutcome ours = translated ? OracleOutcome.Translated
            : walk.Fault == WalkFault.GeneralProtection ? OracleOutcome.GeneralProtection : OracleOutcome.PageFault;
        if (ours != qemu.Outcome)
        {
            return $"we: {walk}; QEMU: {qemu}";
        }

        if (ours == OracleOutcome.PageFault && walk.ErrorCode != qemu.ErrorCode)
        {
            return $"error code 0x{walk.ErrorCode:x}, QEMU 0x{qemu.ErrorCode:x}";
        }

        if (ours != OracleOutcome.Translated)
        {
            return null;
        }

        if (qemu.PhysicalAddress is ulong pa && pa != walk.PhysicalAddress)
        {
            return $"PA 0x{walk.PhysicalAddress:x}, QEMU 0x{pa:x}";
        }

        var ourUpdates = new List<string>();
        for (int i = 0; i < walk.UpdateCount; i++)
        {
            ourUpdates.Add($"0x{walk.Updates[i].Gpa:x}:0x{walk.Updates[i].Old:x}->0x{walk.Updates[i].New:x}");
        }

        var theirs = qemu.PteUpdates.Select(u => $"0x{u.Pa:x}:0x{u.Old:x}->0x{u.New:x}").ToList();
        ourUpdates.Sort(StringComparer.Ordinal);
        theirs.Sort(StringComparer.Ordinal);
        return ourUpdates.SequenceEqual(theirs) ? null : $"A/D [{string.Join(", ", ourUpdates)}], QEMU [{string.Join(", ", theirs)}]";
    }

    private static void Count(Dictionary<string, int> stats, string key) => stats[key] = stats.GetValueOrDefault(key) + 1;
}
