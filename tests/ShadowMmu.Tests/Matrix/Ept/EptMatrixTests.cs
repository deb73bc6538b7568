using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Xunit;

namespace ShadowMmu.Tests.Matrix.Ept;

/// <summary>
/// The EPT walkers (generated, and the reference walker over the same spec) against <see cref="EptSdmModel"/>: at one
/// level of a path, every combination of XWR, memory type, ignore-PAT and user-execute; at a second level every
/// XWR and user-execute (so that rights are ANDed); for every combination of execute-only support, mode-based execute
/// control, EPT A/D and 1-GByte page support; for reads, writes and fetches from supervisor- and user-mode linear
/// addresses and a guest paging-structure read. Each case checks the outcome (translation, violation with its exact
/// exit qualification, or misconfiguration, at the right level) and the A/D flags the walk left in memory.
/// </summary>
public class EptMatrixTests
{
    private const ulong Gpa = 0x7F_C03F_E123; // indices 0x1FF/0x100/0x1FF/0x1FE at levels 4..1 for ept4: tables spread over the page
    private const ulong TableBase = 0x10_0000;
    private const ulong PageBits = 0x7F | (1UL << 10); // XWR, memory type, ignore-PAT, user-execute

    public static TheoryData<string, bool, int, int> Paths()
    {
        var data = new TheoryData<string, bool, int, int>();
        foreach ((string mode, int root) in new[] { ("ept4", 4), ("ept5", 5) })
        {
            foreach (bool reference in new[] { false, true })
            {
                foreach (int leaf in new[] { 1, 2, 3 })
                {
                    for (int varied = root; varied >= leaf; varied--)
                    {
                        data.Add(mode, reference, leaf, varied);
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Every_rights_and_memory_type_combination_at_a_level(string mode, bool reference, int leafLevel, int variedLevel)
    {
        PagingModeInfo info = PagingModes.All.Single(m => m.Name == mode);
        int root = info.RootLevel;
        int companion = variedLevel == leafLevel ? root : leafLevel;
        using GuestMemory memory = GuestMemory.Allocate(0x20_0000);
        ulong[] basePath = BuildPath(root, leafLevel);
        ulong[] path = new ulong[basePath.Length];
        ulong[] entryGpa = Enumerable.Range(0, basePath.Length).Select(i => EntryAddress(root, root - i)).ToArray();
        var failures = new List<string>();
        long cases = 0, differing = 0, translated = 0, violations = 0, misconfigurations = 0;

        foreach (EptState state in States())
        {
            IEptWalker walker = reference
                ? ReferenceWalker.For(info, memory, state.ToCpu(TableBase + (0x1000UL * (ulong)root), root))
                : PagingModes.CreateEptWalker(memory, state.ToCpu(TableBase + (0x1000UL * (ulong)root), root));
            for (int v = 0; v < 256; v++)
            {
                for (int c = 0; c < 16; c++)
                {
                    Array.Copy(basePath, path, path.Length);
                    int vi = root - variedLevel, ci = root - companion;
                    path[vi] = (path[vi] & ~PageBits) | (uint)(v & 0x7F) | ((ulong)(uint)(v >> 7) << 10);
                    path[ci] = (path[ci] & ~0x407UL) | (uint)(c & 7) | ((ulong)(uint)(c >> 3) << 10);
                    foreach (EptMatrixAccess access in EptMatrixAccess.All)
                    {
                        for (int i = 0; i < path.Length; i++)
                        {
                            memory.WriteUInt64(entryGpa[i], path[i]);
                        }

                        EptExpectation expected = EptSdmModel.Expect(path, root, Gpa, state, access);
                        var walk = default(GuestWalk);
                        bool ok = walker.WalkGpa(ref walk, Gpa, access.Kind, access.Flags);
                        cases++;
                        string? problem = Compare(expected, ok, walk, path, entryGpa, memory, state);
                        differing += problem != null ? 1 : 0;
                        if (problem != null && failures.Count < 8)
                        {
                            failures.Add($"{state}; {access}; path {string.Join(" ", path.Select(e => "0x" + e.ToString("x")))}: {problem}");
                        }

                        switch (expected.Fault)
                        {
                            case WalkFault.None: translated++; break;
                            case WalkFault.EptViolation: violations++; break;
                            default: misconfigurations++; break;
                        }
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, $"{differing} of {cases} cases differ from the SDM; the first:\n" + string.Join("\n", failures));

        // The matrix reaches every outcome (a matrix that never translates would check little).
        Assert.True(translated > 0 && violations > 0 && misconfigurations > 0, $"{translated} translated, {violations} violations, {misconfigurations} misconfigurations");
    }

    [Theory]
    [InlineData("ept4", false)]
    [InlineData("ept4", true)]
    [InlineData("ept5", false)]
    [InlineData("ept5", true)]
    public void Reserved_bits_follow_MAXPHYADDR_at_every_level(string mode, bool reference)
    {
        PagingModeInfo info = PagingModes.All.Single(m => m.Name == mode);
        int root = info.RootLevel;
        using GuestMemory memory = GuestMemory.Allocate(0x20_0000);
        var failures = new StringBuilder();
        int checkedCases = 0;
        foreach (int maxPhysAddr in new[] { 36, 39, 40, 46, 48, 52 })
        {
            var state = new EptState(ExecuteOnly: true, ModeBasedExecute: false, AccessedDirty: false, Page1Gb: true, maxPhysAddr);
            CpuState cpu = state.ToCpu(TableBase + (0x1000UL * (ulong)root), root);
            IEptWalker walker = reference ? ReferenceWalker.For(info, memory, cpu) : PagingModes.CreateEptWalker(memory, cpu);
            foreach (int leafLevel in new[] { 1, 2, 3 })
            {
                ulong[] basePath = BuildPath(root, leafLevel);
                for (int level = root; level >= leafLevel; level--)
                {
                    bool leaf = level == leafLevel;
                    for (int bit = 0; bit < 64; bit++)
                    {
                        if (bit == 7 && level > 1)
                        {
                            continue; // the page-size bit chooses the path; the rights matrix covers it
                        }

                        ulong[] path = (ulong[])basePath.Clone();
                        path[root - level] |= 1UL << bit;
                        for (int i = 0; i < path.Length; i++)
                        {
                            memory.WriteUInt64(EntryAddress(root, root - i), path[i]);
                        }

                        var walk = default(GuestWalk);
                        walker.WalkGpa(ref walk, Gpa, AccessKind.Read, EptAccessFlags.Final);
                        bool expectMisconfig = EptSdmModel.IsMisconfigured(path[root - level], level, leaf, state);
                        bool misconfigHere = walk.Fault == WalkFault.EptMisconfiguration && walk.Level == level;
                        checkedCases++;
                        if (expectMisconfig != misconfigHere)
                        {
                            failures.AppendLine($"MAXPHYADDR {maxPhysAddr}, leaf level {leafLevel}, bit {bit} at level {level}: expected misconfiguration {expectMisconfig}, walk: {walk}");
                        }
                    }
                }
            }
        }

        Assert.True(failures.Length == 0, failures.ToString());
        Assert.True(checkedCases > 1000);
    }

    private static IEnumerable<EptState> States()
    {
        for (int s = 0; s < 16; s++)
        {
            yield return new EptState((s & 1) != 0, (s & 2) != 0, (s & 4) != 0, (s & 8) != 0);
        }
    }

    // A valid path from the root table to a page at leafLevel: tables RWX with user-execute, the leaf RWX, write-back.
    private static ulong[] BuildPath(int root, int leafLevel)
    {
        var path = new ulong[root - leafLevel + 1];
        for (int i = 0; i < path.Length; i++)
        {
            int level = root - i;
            if (level == leafLevel)
            {
                ulong frame = leafLevel switch { 1 => 0xAB_CDEF_F000UL, 2 => 0xAB_CDE0_0000UL, _ => 0xAB_C000_0000UL };
                path[i] = frame | 0x407 | (6UL << 3) | (leafLevel > 1 ? 0x80UL : 0);
            }
            else
            {
                path[i] = (TableBase + (0x1000UL * (ulong)(level - 1))) | 0x407;
            }
        }

        return path;
    }

    // The table of level L is at TableBase + 0x1000 * L; the entry is the one the SDM's index bits of Gpa select.
    private static ulong EntryAddress(int root, int level) =>
        TableBase + (0x1000UL * (ulong)level) + (((Gpa >> (12 + (9 * (level - 1)))) & 0x1FF) * 8);

    private static string? Compare(EptExpectation expected, bool ok, in GuestWalk walk, ulong[] path, ulong[] entryGpa, GuestMemory memory, EptState state)
    {
        if (ok != (expected.Fault == WalkFault.None) || walk.Fault != expected.Fault || walk.Level != expected.Level)
        {
            return $"expected {expected}, walk {walk}";
        }

        if (expected.Fault == WalkFault.EptViolation && walk.ErrorCode != expected.Qualification)
        {
            return $"expected qualification 0x{expected.Qualification:x}, walk 0x{walk.ErrorCode:x}";
        }

        if (expected.Fault == WalkFault.None
            && (walk.PhysicalAddress != expected.Hpa || walk.PteAccess != expected.Rights || walk.MemoryType != expected.MemoryType || walk.IgnorePat != expected.IgnorePat))
        {
            return $"expected {expected}, walk {walk} rights {walk.PteAccess} type {walk.MemoryType} ipat {walk.IgnorePat}";
        }

        // A/D: only a translation with EPT A/D on sets them: A in every entry used, D in the leaf for a write.
        for (int i = 0; i < path.Length; i++)
        {
            ulong want = path[i];
            if (expected.Fault == WalkFault.None && state.AccessedDirty)
            {
                want |= 1UL << 8;
                if (i == path.Length - 1 && expected.SetsDirty)
                {
                    want |= 1UL << 9;
                }
            }

            ulong actual = memory.ReadEntry(entryGpa[i], 8);
            if (actual != want)
            {
                return $"entry {i} is 0x{actual:x} after the walk, expected 0x{want:x}";
            }
        }

        return null;
    }
}

/// <summary>
/// The EPT walk is a hot path too: no allocation, whether it translates (setting A/D), violates or is misconfigured; the
/// reference walker's neither, as the benchmarks compare it allocation for allocation.
/// </summary>
public class EptWalkAllocationTests
{
    [Theory]
    [InlineData(4, false)]
    [InlineData(5, false)]
    [InlineData(4, true)]
    [InlineData(5, true)]
    public void WalkGpa_allocates_zero_bytes_in_steady_state(int levels, bool reference)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == "ept" + levels);
        using GuestMemory memory = GuestMemory.Allocate(0x40_0000);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x10_0000);
        ulong leaf = builder.Map(0x40_0000, 0x20_0000, 0x1000, 0x37);   // RWX, write-back
        builder.Map(0x40_1000, 0x20_1000, 0x1000, 0x31);                 // read-only
        builder.Map(0x40_2000, 0x20_2000, 0x1000, 0x3F);                 // memory type 7: misconfigured
        var cpu = new CpuState(0, 0, 0, 0, Eptp: EptPointer.Make(builder.Root, levels, accessedDirty: true));
        IEptWalker walker = reference ? ReferenceWalker.For(mode, memory, cpu) : PagingModes.CreateEptWalker(memory, cpu);
        var walk = default(GuestWalk);

        void Round()
        {
            for (int i = 0; i < 1000; i++)
            {
                Assert.True(walker.WalkGpa(ref walk, 0x40_0123, AccessKind.Write, EptAccessFlags.Final));
                memory.WriteUInt64(leaf, memory.ReadEntry(leaf, 8) & ~0x300UL);
                Assert.False(walker.WalkGpa(ref walk, 0x40_1000, AccessKind.Write, EptAccessFlags.Final));
                Assert.True(walk.Fault == WalkFault.EptViolation);
                Assert.False(walker.WalkGpa(ref walk, 0x40_2000, AccessKind.Read, EptAccessFlags.Final));
                Assert.True(walk.Fault == WalkFault.EptMisconfiguration);
            }
        }

        Round();
        Assert.Equal(0, SteadyStateAllocation.BytesPerRound(Round));
    }
}
