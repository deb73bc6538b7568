using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Differential;

/// <summary>
/// The generated two-dimensional walk (<c>WalkNested</c>) against the reference walker's, on seeded random guest tables
/// (garbage included) placed at guest-physical X = host-physical X + 4 MiB, under random EPT tables that map most of
/// guest-physical memory but leave some pages out, make some read-only, execute-only or misconfigured, with and
/// without EPT A/D flags. The outcome, both walk records, every A/D update and the memory left behind must agree.
/// </summary>
public class NestedGeneratedVersusReferenceTests(ITestOutputHelper output)
{
    private const ulong Offset = 0x40_0000;

    [Theory]
    [InlineData("legacy32")]
    [InlineData("long4")]
    [InlineData("long5")]
    public void Generated_two_dimensional_walk_equals_the_reference(string modeName)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        PagingModeInfo ept4 = PagingModes.All.Single(m => m.Name == "ept4");
        var outcomes = new Dictionary<string, int>();
        var mismatches = new List<string>();
        for (int seed = 0; seed < 30; seed++)
        {
            var random = new Random(seed * 31 + mode.RootLevel);
            using GuestMemory host = GuestMemory.Allocate(2 * Offset);
            using GuestMemory guest = GuestMemory.Allocate(Offset);
            var source = new RandomGuestTables(seed, guest, mode);
            source.Populate(150);
            var bytes = new byte[Offset];
            guest.Read(0, bytes);
            host.Write(Offset, bytes);

            var ept = new PageTableBuilder(host, ept4, 0x1000, 0x20_0000);
            ulong[] special = { 0x31, 0x34, 0x3F, 0x33, 0 };   // read-only, execute-only, memory type 7, read/write, absent
            for (ulong gpa = 0; gpa < Offset; gpa += 0x1000)
            {
                ulong flags = random.Next(12) == 0 ? special[random.Next(special.Length)] : 0x37;
                if (flags != 0)
                {
                    ept.Map(gpa, gpa + Offset, 0x1000, flags);
                }
            }

            for (int state = 0; state < 4; state++)
            {
                CpuState cpu = source.PickCpu();
                CpuState eptCpu = new(0, 0, 0, 0, Eptp: EptPointer.Make(ept.Root, 4, accessedDirty: random.Next(2) == 0),
                    Features: random.Next(2) == 0 ? CpuFeatures.All : CpuFeatures.All & ~CpuFeatures.EptExecuteOnly);
                IEptWalker eptWalker = PagingModes.CreateEptWalker(host, eptCpu);
                var reference = ReferenceWalker.Nested(host, cpu, eptWalker);
                var generated = (INestedPageWalker)PagingModes.CreateWalker(modeName, host, cpu);
                for (int i = 0; i < 60; i++)
                {
                    RandomPagingCase c = source.PickCase(cpu);
                    string? difference = Compare(generated, reference, eptWalker, host, mode.EntryBytes, c, out string outcome);
                    outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                    if (difference != null && mismatches.Count < 10)
                    {
                        mismatches.Add($"seed {seed}: {c}: {difference}");
                    }
                }
            }
        }

        output.WriteLine(string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        foreach (string outcome in new[] { "translated", "guest", "ept-table", "ept-final" })
        {
            Assert.True(outcomes.GetValueOrDefault(outcome) > 20, $"too few '{outcome}' outcomes: {string.Join(", ", outcomes)}");
        }
    }

    private static string? Compare(INestedPageWalker generated, ReferenceWalker reference, IEptWalker ept, GuestMemory host, int entryBytes, RandomPagingCase c, out string outcome)
    {
        var g = default(NestedWalk);
        var r = default(NestedWalk);
        bool gOk = generated.WalkNested(ref g, c.Va, c.Kind, c.Cpl, c.Ac, ept);
        Undo(host, ref g, entryBytes);
        bool rOk = reference.WalkNested(ref r, c.Va, c.Kind, c.Cpl, c.Ac);
        Undo(host, ref r, entryBytes);
        outcome = r.Fault switch { NestedFault.None => "translated", NestedFault.Guest => "guest", _ => r.EptOnGuestTable ? "ept-table" : "ept-final" };

        if (gOk != rOk || g.Fault != r.Fault || g.EptOnGuestTable != r.EptOnGuestTable || g.HostPhysicalAddress != r.HostPhysicalAddress)
        {
            return $"generated {g}, reference {r}";
        }

        if (g.Guest.Fault != r.Guest.Fault || g.Guest.Level != r.Guest.Level || g.Guest.ErrorCode != r.Guest.ErrorCode
            || g.Guest.PhysicalAddress != r.Guest.PhysicalAddress || g.Guest.PteAccess != r.Guest.PteAccess || g.Guest.UpdateCount != r.Guest.UpdateCount)
        {
            return $"guest walks differ: generated {g.Guest}, reference {r.Guest}";
        }

        if (g.Fault == NestedFault.Ept && (g.Ept.Fault != r.Ept.Fault || g.Ept.Level != r.Ept.Level || g.Ept.ErrorCode != r.Ept.ErrorCode || g.Ept.Va != r.Ept.Va))
        {
            return $"EPT exits differ: generated {g.Ept}, reference {r.Ept}";
        }

        // The same entries written, from the same values to the same values, in both dimensions.
        for (int i = 0; i < g.Guest.UpdateCount; i++)
        {
            if (g.Guest.Updates[i] != r.Guest.Updates[i])
            {
                return $"guest update {i}: generated {g.Guest.Updates[i]}, reference {r.Guest.Updates[i]}";
            }
        }

        if (g.EptUpdateCount != r.EptUpdateCount)
        {
            return $"EPT updates: generated {g.EptUpdateCount}, reference {r.EptUpdateCount}";
        }

        for (int i = 0; i < g.EptUpdateCount; i++)
        {
            if (g.EptUpdates[i] != r.EptUpdates[i])
            {
                return $"EPT update {i}: generated {g.EptUpdates[i]}, reference {r.EptUpdates[i]}";
            }
        }

        return null;
    }

    // Back to the bytes before the walk: guest entries where they live (host-physical), then EPT's.
    private static void Undo(GuestMemory host, ref NestedWalk walk, int entryBytes)
    {
        for (int i = walk.Guest.UpdateCount - 1; i >= 0; i--)
        {
            PteUpdate update = walk.Guest.Updates[i];
            for (int level = 1; level <= 5; level++)
            {
                if (walk.Guest.PteGpa[level - 1] == update.Gpa)
                {
                    host.WriteEntry(walk.GuestEntryHpa[level - 1], update.Old, entryBytes);
                    break;
                }
            }
        }

        for (int i = walk.EptUpdateCount - 1; i >= 0; i--)
        {
            host.WriteEntry(walk.EptUpdates[i].Gpa, walk.EptUpdates[i].Old, 8);
        }
    }
}
