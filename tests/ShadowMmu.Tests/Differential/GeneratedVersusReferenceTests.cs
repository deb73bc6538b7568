using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Differential;

/// <summary>
/// The generated walkers against the reference walker, which interprets the same spec with a loop: on seeded random
/// tables (garbage included) every field of the walk record and every A/D write must agree.
/// </summary>
public class GeneratedVersusReferenceTests(ITestOutputHelper output)
{
    public static TheoryData<string> Modes => new() { "legacy32", "pae", "long4", "long5" };

    [Theory]
    [MemberData(nameof(Modes))]
    public void Generated_walker_equals_reference_walker_on_random_tables(string modeName)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        int compared = 0, translated = 0;
        var mismatches = new List<string>();
        for (int seed = 0; seed < 40; seed++)
        {
            using GuestMemory memory = GuestMemory.Allocate(0x40_0000);
            var tables = new RandomGuestTables(seed * 7919 + modeName.Length, memory, mode);
            tables.Populate(200);
            for (int state = 0; state < 8; state++)
            {
                CpuState cpu = tables.PickCpu();
                if (state % 3 == 2)
                {
                    cpu = cpu with { MaxPhysAddr = 36 + (seed % 17) };
                }

                IGuestPageWalker generated = PagingModes.CreateWalker(modeName, memory, cpu);
                var reference = ReferenceWalker.For(mode, memory, cpu);
                for (int i = 0; i < 100; i++)
                {
                    RandomPagingCase c = tables.PickCase(cpu);
                    string? difference = Compare(generated, reference, memory, c);
                    compared++;
                    if (difference != null && mismatches.Count < 10)
                    {
                        mismatches.Add(c + ": " + difference);
                    }
                }
            }

            translated += CountTranslated(memory, mode, tables);
        }

        output.WriteLine($"{modeName}: {compared} cases compared, {translated} of a sample translated");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        Assert.Equal(40 * 8 * 100, compared);
        Assert.True(translated > 100, "the random tables should translate often enough to test the leaf paths");
    }

    private static int CountTranslated(GuestMemory memory, PagingModeInfo mode, RandomGuestTables tables)
    {
        CpuState cpu = tables.PickCpu();
        cpu = cpu with { Cr0 = Cr0.PG | Cr0.PE, Cr4 = cpu.Cr4 & ~(Cr4.SMAP | Cr4.SMEP | Cr4.PKE) };
        IGuestPageWalker walker = PagingModes.CreateWalker(mode.Name, memory, cpu);
        var walk = default(GuestWalk);
        int count = 0;
        foreach (ulong va in tables.MappedVas)
        {
            if (walker.WalkAddr(ref walk, va, AccessKind.Read, 0, false))
            {
                count++;
            }

            Undo(memory, ref walk, mode.EntryBytes);
        }

        return count;
    }

    /// <summary>Walks with both walkers from the same memory; null when they agree, else what differs.</summary>
    internal static string? Compare(IGuestPageWalker generated, IGuestPageWalker reference, GuestMemory memory, RandomPagingCase c)
    {
        int entryBytes = generated.Mode.EntryBytes;
        var a = default(GuestWalk);
        bool okA = generated.WalkAddr(ref a, c.Va, c.Kind, c.Cpl, c.Ac);
        Undo(memory, ref a, entryBytes);
        var b = default(GuestWalk);
        bool okB = reference.WalkAddr(ref b, c.Va, c.Kind, c.Cpl, c.Ac);
        Undo(memory, ref b, entryBytes);

        if (okA != okB || a.Fault != b.Fault || a.ErrorCode != b.ErrorCode)
        {
            return $"generated {a} / reference {b}";
        }

        if (a.EntryOutsideMemory != b.EntryOutsideMemory || a.Level != b.Level || a.MaxLevel != b.MaxLevel)
        {
            return $"level {a.Level}/{b.Level}, max {a.MaxLevel}/{b.MaxLevel}, outside {a.EntryOutsideMemory}/{b.EntryOutsideMemory}";
        }

        if (okA && (a.PhysicalAddress != b.PhysicalAddress || a.PageSize != b.PageSize || a.PteAccess != b.PteAccess || a.ProtectionKey != b.ProtectionKey))
        {
            return $"generated {a} key {a.ProtectionKey} / reference {b} key {b.ProtectionKey}";
        }

        if (a.Fault != WalkFault.GeneralProtection)
        {
            for (int level = a.MaxLevel; level >= a.Level; level--)
            {
                if (a.PteGpa[level - 1] != b.PteGpa[level - 1] || a.TableGfn[level - 1] != b.TableGfn[level - 1]
                    || (a.Ptes[level - 1] != b.Ptes[level - 1] && !a.EntryOutsideMemory)
                    || (okA && a.PtAccess[level - 1] != b.PtAccess[level - 1]))
                {
                    return $"level {level} record: gpa 0x{a.PteGpa[level - 1]:x}/0x{b.PteGpa[level - 1]:x} pte 0x{a.Ptes[level - 1]:x}/0x{b.Ptes[level - 1]:x} access {a.PtAccess[level - 1]}/{b.PtAccess[level - 1]}";
                }
            }
        }

        string updatesA = Updates(a), updatesB = Updates(b);
        return updatesA == updatesB ? null : $"A/D updates {updatesA} / {updatesB}";
    }

    internal static string Updates(in GuestWalk walk)
    {
        var parts = new List<string>();
        for (int i = 0; i < walk.UpdateCount; i++)
        {
            parts.Add($"0x{walk.Updates[i].Gpa:x}:0x{walk.Updates[i].Old:x}->0x{walk.Updates[i].New:x}");
        }

        parts.Sort(StringComparer.Ordinal);
        return "[" + string.Join(", ", parts) + "]";
    }

    /// <summary>Puts back what the walk's A/D updates changed, so the next walk sees the same memory.</summary>
    internal static void Undo(GuestMemory memory, ref GuestWalk walk, int entryBytes)
    {
        for (int i = walk.UpdateCount - 1; i >= 0; i--)
        {
            memory.WriteEntry(walk.Updates[i].Gpa, walk.Updates[i].Old, entryBytes);
        }
    }
}
