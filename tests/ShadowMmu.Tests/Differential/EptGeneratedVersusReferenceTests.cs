using System;
using System.Collections.Generic;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Differential;

/// <summary>
/// The generated EPT walkers against the reference walker on seeded random EPT tables: garbage entries, tables that
/// point at themselves or at tables above them, entries past the end of memory, every state and access. Every field
/// of the walk record and every A/D write must agree, and neither may throw.
/// </summary>
public class EptGeneratedVersusReferenceTests(ITestOutputHelper output)
{
    private const ulong MemorySize = 0x40_0000;

    [Theory]
    [InlineData("ept4")]
    [InlineData("ept5")]
    public void Generated_EPT_walker_equals_reference_walker_on_random_tables(string modeName)
    {
        PagingModeInfo mode = System.Linq.Enumerable.Single(PagingModes.All, m => m.Name == modeName);
        int compared = 0, translated = 0, violations = 0, misconfigurations = 0;
        var mismatches = new List<string>();
        for (int seed = 0; seed < 40; seed++)
        {
            var random = new Random(seed * 104729 + mode.RootLevel);
            using GuestMemory memory = GuestMemory.Allocate(MemorySize);
            List<ulong> tables = Populate(random, memory);
            List<ulong> gpas = ReachableGpas(random, memory, mode, tables[0]);
            for (int state = 0; state < 8; state++)
            {
                var cpu = new CpuState(0, 0, 0, 0,
                    MaxPhysAddr: random.Next(3) == 0 ? 36 + random.Next(17) : 40,
                    Features: CpuFeatures.All & ~(random.Next(2) == 0 ? CpuFeatures.EptExecuteOnly : 0) & ~(random.Next(3) == 0 ? CpuFeatures.EptPage1Gb : 0),
                    Eptp: EptPointer.Make(tables[0], mode.RootLevel, accessedDirty: random.Next(2) == 0),
                    ModeBasedExecute: random.Next(2) == 0);
                IEptWalker generated = PagingModes.CreateEptWalker(memory, cpu);
                var reference = ReferenceWalker.For(mode, memory, cpu);
                for (int i = 0; i < 100; i++)
                {
                    ulong gpa = random.Next(4) == 0 ? (ulong)random.NextInt64() : gpas[random.Next(gpas.Count)] | (uint)random.Next(0x1000);
                    var kind = (AccessKind)random.Next(3);
                    var flags = (EptAccessFlags)((uint)random.Next(32) << 7) | (random.Next(4) == 0 ? EptAccessFlags.GuestPagingStructure : 0);
                    string? difference = Compare(generated, reference, memory, gpa, kind, flags, out WalkFault fault);
                    compared++;
                    translated += fault == WalkFault.None ? 1 : 0;
                    violations += fault == WalkFault.EptViolation ? 1 : 0;
                    misconfigurations += fault == WalkFault.EptMisconfiguration ? 1 : 0;
                    if (difference != null && mismatches.Count < 10)
                    {
                        mismatches.Add($"seed {seed}, {cpu}, gpa 0x{gpa:x} {kind} {flags}: {difference}");
                    }
                }
            }
        }

        output.WriteLine($"{modeName}: {compared} compared: {translated} translated, {violations} violations, {misconfigurations} misconfigurations");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        Assert.True(translated > 500 && violations > 500 && misconfigurations > 500, "the random tables should reach every outcome often");
    }

    // Table pages with entries of every sort: a valid table pointer (often to a table above: loops), a leaf with
    // random rights and memory type, garbage, a pointer past the end of memory, or nothing.
    private static List<ulong> Populate(Random random, GuestMemory memory)
    {
        var tables = new List<ulong>();
        for (int i = 0; i < 24; i++)
        {
            tables.Add(0x10_0000 + ((ulong)i * 0x1000));
        }

        foreach (ulong table in tables)
        {
            for (int n = 0; n < 40; n++)
            {
                ulong entry = random.Next(7) switch
                {
                    0 or 1 or 2 => tables[random.Next(tables.Count)] | RandomRights(random),
                    3 => ((ulong)random.Next(0x400) << 21) | RandomRights(random) | ((ulong)random.Next(8) << 3) | (random.Next(2) == 0 ? 0x80UL : 0) | 0x440,
                    4 => (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1),
                    5 => ((MemorySize + ((ulong)random.Next(16) * 0x1000)) & ~0xFFFUL) | 7,
                    _ => 0,
                };
                memory.WriteUInt64(table + ((ulong)random.Next(512) * 8), entry);
            }
        }

        return tables;
    }

    private static ulong RandomRights(Random random) => random.Next(4) == 0 ? (uint)random.Next(8) | ((ulong)(uint)random.Next(2) << 10) : 0x407;

    // GPAs whose entries the populated tables hold: each present entry of the root, then of the tables below it.
    private static List<ulong> ReachableGpas(Random random, GuestMemory memory, PagingModeInfo mode, ulong root)
    {
        var gpas = new List<ulong>();
        for (int attempt = 0; attempt < 400 && gpas.Count < 200; attempt++)
        {
            ulong gpa = 0, table = root;
            for (int level = mode.RootLevel; level >= 1; level--)
            {
                var present = new List<int>();
                for (int index = 0; index < 512; index++)
                {
                    if ((memory.ReadEntry(table + ((ulong)index * 8), 8) & 0x407) != 0)
                    {
                        present.Add(index);
                    }
                }

                int pick = present.Count == 0 ? random.Next(512) : present[random.Next(present.Count)];
                gpa |= (ulong)pick << (12 + (9 * (level - 1)));
                ulong next = memory.ReadEntry(table + ((ulong)pick * 8), 8) & 0xF_FFFF_FFFF_F000UL;
                if (next + 0x1000 > MemorySize)
                {
                    break;
                }

                table = next;
            }

            gpas.Add(gpa);
        }

        return gpas;
    }

    private static string? Compare(IEptWalker generated, IEptWalker reference, GuestMemory memory, ulong gpa, AccessKind kind, EptAccessFlags flags, out WalkFault fault)
    {
        var g = default(GuestWalk);
        var r = default(GuestWalk);
        bool gOk = generated.WalkGpa(ref g, gpa, kind, flags);
        byte[] afterGenerated = Snapshot(memory);
        Undo(memory, ref g);
        bool rOk = reference.WalkGpa(ref r, gpa, kind, flags);
        byte[] afterReference = Snapshot(memory);
        Undo(memory, ref r);
        fault = r.Fault;

        if (gOk != rOk || g.Fault != r.Fault || g.Level != r.Level || g.ErrorCode != r.ErrorCode || g.Va != r.Va)
        {
            return $"generated {g}, reference {r}";
        }

        if (g.Fault == WalkFault.None && (g.PhysicalAddress != r.PhysicalAddress || g.PageSize != r.PageSize || g.PteAccess != r.PteAccess
            || g.MemoryType != r.MemoryType || g.IgnorePat != r.IgnorePat))
        {
            return $"generated {g} rights {g.PteAccess} type {g.MemoryType}, reference {r} rights {r.PteAccess} type {r.MemoryType}";
        }

        // A walk that read no entry (ept4: bits 51:48 set) ends at level 0 with none to compare.
        for (int level = Math.Max(g.Level, 1); level <= g.MaxLevel; level++)
        {
            if (g.Ptes[level - 1] != r.Ptes[level - 1] || g.PteGpa[level - 1] != r.PteGpa[level - 1])
            {
                return $"level {level}: generated entry 0x{g.Ptes[level - 1]:x} at 0x{g.PteGpa[level - 1]:x}, reference 0x{r.Ptes[level - 1]:x} at 0x{r.PteGpa[level - 1]:x}";
            }
        }

        return afterGenerated.AsSpan().SequenceEqual(afterReference) ? null : "the walks left different A/D flags in memory";
    }

    private static byte[] Snapshot(GuestMemory memory)
    {
        var bytes = new byte[0x2_0000];
        memory.Read(0x10_0000, bytes);
        return bytes;
    }

    private static void Undo(GuestMemory memory, ref GuestWalk walk)
    {
        for (int i = walk.UpdateCount - 1; i >= 0; i--)
        {
            memory.WriteEntry(walk.Updates[i].Gpa, walk.Updates[i].Old, 8);
        }
    }
}
