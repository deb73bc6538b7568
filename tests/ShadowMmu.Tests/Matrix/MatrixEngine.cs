using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace ShadowMmu.Tests.Matrix;

/// <summary>A bit a case may set in an entry, and what the SDM makes of it.</summary>
internal readonly record struct Flag(Roles Role, ulong Mask);

/// <summary>Flags varied together on some entries of the path (one entry, or the two 32-bit PTEs).</summary>
internal sealed record VaryLevel(int[] PathIndices, Flag[] Flags);

/// <summary>Builds the walker under test for one processor state.</summary>
internal delegate IGuestPageWalker WalkerFactory(GuestMemory memory, in CpuState cpu);

/// <summary>One matrix: every combination of the varied entry flags, processor state bits and accesses.</summary>
internal sealed class MatrixRun
{
    public MatrixRun(string name, MatrixLayout layout, PathEntry[] path)
    {
        Name = name;
        Layout = layout;
        Path = path;
    }

    public string Name { get; }

    public MatrixLayout Layout { get; }

    public PathEntry[] Path { get; }

    public List<VaryLevel> Vary { get; } = new();

    public StateBits VaryState { get; set; }

    public StateBits FixedState { get; set; }

    public int MaxPhysAddr { get; set; } = CpuState.DefaultMaxPhysAddr;

    public MatrixAccess[] Accesses { get; set; } = MatrixAccess.All;

    public int FlagCount => Vary.Sum(v => v.Flags.Length);

    public int StateCount => 1 << System.Numerics.BitOperations.PopCount((uint)VaryState);

    /// <summary>Cases this run makes: the product of its dimensions.</summary>
    public long CaseCount => (1L << FlagCount) * StateCount * Accesses.Length;

    public MatrixRun VaryFlags(int level, params Flag[] flags)
    {
        var indices = Enumerable.Range(0, Path.Length).Where(i => Path[i].Level == level).ToArray();
        if (indices.Length == 0)
        {
            throw new ArgumentException($"level {level} is not on the path", nameof(level));
        }

        Vary.Add(new VaryLevel(indices, flags));
        return this;
    }
}

/// <summary>The tally of a run (or several).</summary>
internal sealed class MatrixResult
{
    public const int MaxReported = 8;

    public long Cases;
    public long Failures;
    public long Translated;
    public long NotPresent;
    public long ReservedBit;
    public long Rights;
    public long ProtectionKey;
    public long GeneralProtection;
    public long ADWrites;
    public readonly List<string> FirstFailures = new();

    public void Add(MatrixResult other)
    {
        Cases += other.Cases;
        Failures += other.Failures;
        Translated += other.Translated;
        NotPresent += other.NotPresent;
        ReservedBit += other.ReservedBit;
        Rights += other.Rights;
        ProtectionKey += other.ProtectionKey;
        GeneralProtection += other.GeneralProtection;
        ADWrites += other.ADWrites;
        foreach (string f in other.FirstFailures)
        {
            if (FirstFailures.Count < MaxReported)
            {
                FirstFailures.Add(f);
            }
        }
    }

    public string Summary =>
        $"{Cases:#,0} cases: {Translated:#,0} translated ({ADWrites:#,0} with A/D writes), {NotPresent:#,0} not-present #PF, " +
        $"{ReservedBit:#,0} RSVD #PF, {Rights:#,0} rights #PF ({ProtectionKey:#,0} with PK), {GeneralProtection:#,0} #GP; " +
        $"{Failures:#,0} mismatches";

    public string FailureReport()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{Failures:#,0} of {Cases:#,0} cases disagree with the SDM model; the first {FirstFailures.Count}:");
        foreach (string f in FirstFailures)
        {
            sb.AppendLine(f);
        }

        return sb.ToString();
    }
}

/// <summary>Runs matrices against a walker: lays out the path once, rewrites only the varied entries, checks, restores.</summary>
internal static class MatrixEngine
{
    private const ulong ABit = 1UL << 5;
    private const ulong DBit = 1UL << 6;

    public static MatrixResult Run(GuestMemory memory, MatrixRun run, WalkerFactory factory)
    {
        MatrixLayout layout = run.Layout;
        int size = layout.EntryBytes;
        PathEntry[] basePath = (PathEntry[])run.Path.Clone();

        // Strip the varied flags from the base entries.
        foreach (VaryLevel v in run.Vary)
        {
            foreach (int i in v.PathIndices)
            {
                foreach (Flag f in v.Flags)
                {
                    basePath[i].Value &= ~f.Mask;
                    basePath[i].Roles &= ~f.Role;
                }
            }
        }

        foreach (PathEntry e in basePath)
        {
            memory.WriteEntry(e.Gpa, e.Value, size);
        }

        StateBits[] states = Subsets(run.VaryState).Select(s => s | run.FixedState).ToArray();
        int flagCount = run.FlagCount;
        var path = new PathEntry[basePath.Length];
        var result = new MatrixResult();
        bool registerVaries = run.Vary.Any(v => v.PathIndices.Any(i => basePath[i].Register));

        void Apply(int combo)
        {
            Array.Copy(basePath, path, basePath.Length);
            int bit = 0;
            foreach (VaryLevel v in run.Vary)
            {
                foreach (Flag f in v.Flags)
                {
                    if ((combo & (1 << bit)) != 0)
                    {
                        foreach (int i in v.PathIndices)
                        {
                            path[i].Value |= f.Mask;
                            path[i].Roles |= f.Role;
                        }
                    }

                    bit++;
                }
            }

            foreach (VaryLevel v in run.Vary)
            {
                foreach (int i in v.PathIndices)
                {
                    memory.WriteEntry(path[i].Gpa, path[i].Value, size);
                }
            }
        }

        IGuestPageWalker NewWalker(StateBits state)
        {
            CpuState cpu = SdmModel.Cpu(layout.Kind, state, layout.Root, run.MaxPhysAddr);
            return factory(memory, cpu);
        }

        if (!registerVaries)
        {
            foreach (StateBits state in states)
            {
                IGuestPageWalker walker = NewWalker(state);
                for (int combo = 0; combo < 1 << flagCount; combo++)
                {
                    Apply(combo);
                    RunAccesses(memory, run, walker, path, state, result);
                }
            }
        }
        else
        {
            // A PAE PDPTE is read when the walker is built (MOV to CR3): a new walker for every value.
            for (int combo = 0; combo < 1 << flagCount; combo++)
            {
                Apply(combo);
                foreach (StateBits state in states)
                {
                    RunAccesses(memory, run, NewWalker(state), path, state, result);
                }
            }
        }

        foreach (PathEntry e in basePath)
        {
            memory.WriteEntry(e.Gpa, e.Value, size);
        }

        return result;
    }

    private static void RunAccesses(GuestMemory memory, MatrixRun run, IGuestPageWalker walker, PathEntry[] path, StateBits state, MatrixResult result)
    {
        MatrixLayout layout = run.Layout;
        int size = layout.EntryBytes;
        ulong va = layout.Va;
        var walk = default(GuestWalk);
        Span<ulong> actual = stackalloc ulong[path.Length];
        Span<ulong> want = stackalloc ulong[path.Length];
        foreach (MatrixAccess access in run.Accesses)
        {
            Outcome expected = SdmModel.Expect(layout.Kind, path, state, run.MaxPhysAddr, access, va);
            bool ok = walker.WalkAddr(ref walk, va, access.Kind, access.Cpl, access.Ac);
            result.Cases++;
            Tally(result, expected);

            // A on every entry the translation used, D on the leaf for a write; nothing on a fault.
            bool translated = expected.Fault == WalkFault.None;
            int updates = 0;
            bool memoryOk = true;
            for (int i = 0; i < path.Length; i++)
            {
                ulong w = path[i].Value;
                if (translated && (expected.Walked & (1 << i)) != 0)
                {
                    w |= ABit;
                    if (i == expected.Leaf && access.Kind == AccessKind.Write)
                    {
                        w |= DBit;
                    }
                }

                updates += w != path[i].Value ? 1 : 0;
                want[i] = w;
                actual[i] = memory.ReadEntry(path[i].Gpa, size);
                memoryOk &= actual[i] == w;
            }

            if (translated && updates > 0)
            {
                result.ADWrites++;
            }

            if (!memoryOk || !Agrees(expected, ok, ref walk, updates))
            {
                result.Failures++;
                if (result.FirstFailures.Count < MatrixResult.MaxReported)
                {
                    string problem = Problems(path, expected, ok, ref walk, updates, actual, want);
                    result.FirstFailures.Add(Describe(run, path, state, access, expected, problem));
                }
            }

            // Restore whatever the walk wrote (A/D), so the next access starts from the same entries.
            for (int i = 0; i < path.Length; i++)
            {
                if (actual[i] != path[i].Value)
                {
                    memory.WriteEntry(path[i].Gpa, path[i].Value, size);
                }
            }
        }
    }

    private static bool Agrees(in Outcome expected, bool ok, ref GuestWalk walk, int updates)
    {
        if (ok != (expected.Fault == WalkFault.None) || walk.Fault != expected.Fault)
        {
            return false;
        }

        switch (expected.Fault)
        {
            case WalkFault.PageFault:
                return walk.ErrorCode == expected.ErrorCode && walk.Level == expected.Level && walk.UpdateCount == 0;
            case WalkFault.None:
                return walk.PhysicalAddress == expected.Pa && walk.PageSize == expected.PageSize && walk.Level == expected.Level
                    && walk.PteAccess == expected.Access && (expected.Key < 0 || walk.ProtectionKey == expected.Key)
                    && walk.UpdateCount == updates;
            default:
                return true;
        }
    }

    private static string Problems(PathEntry[] path, in Outcome expected, bool ok, ref GuestWalk walk, int updates, ReadOnlySpan<ulong> actual, ReadOnlySpan<ulong> want)
    {
        var problems = new List<string>();
        bool translated = expected.Fault == WalkFault.None;
        if (ok != translated)
        {
            problems.Add($"WalkAddr returned {ok}");
        }

        if (walk.Fault != expected.Fault)
        {
            problems.Add(walk.Fault == WalkFault.PageFault ? $"#PF {SdmModel.Describe(walk.ErrorCode)} at level {walk.Level}" : $"fault {walk.Fault}");
        }
        else if (expected.Fault == WalkFault.PageFault)
        {
            if (walk.ErrorCode != expected.ErrorCode)
            {
                problems.Add($"error code {SdmModel.Describe(walk.ErrorCode)}");
            }

            if (walk.Level != expected.Level)
            {
                problems.Add($"stopped at level {walk.Level}");
            }
        }
        else if (translated)
        {
            if (walk.PhysicalAddress != expected.Pa)
            {
                problems.Add($"PA 0x{walk.PhysicalAddress:x}");
            }

            if (walk.PageSize != expected.PageSize)
            {
                problems.Add($"page size 0x{walk.PageSize:x}");
            }

            if (walk.Level != expected.Level)
            {
                problems.Add($"leaf level {walk.Level}");
            }

            if (walk.PteAccess != expected.Access)
            {
                problems.Add($"pte_access {walk.PteAccess}");
            }

            if (expected.Key >= 0 && walk.ProtectionKey != expected.Key)
            {
                problems.Add($"protection key {walk.ProtectionKey}");
            }
        }

        for (int i = 0; i < path.Length; i++)
        {
            if (actual[i] != want[i])
            {
                problems.Add($"{path[i].Name()} in memory 0x{actual[i]:x}, expected 0x{want[i]:x}");
            }
        }

        int expectedUpdates = translated ? updates : 0;
        if (walk.Fault != WalkFault.GeneralProtection && walk.UpdateCount != expectedUpdates)
        {
            problems.Add($"UpdateCount {walk.UpdateCount}, expected {expectedUpdates}");
        }

        return problems.Count == 0 ? "(no difference found by the detailed comparison)" : string.Join("; ", problems);
    }

    private static void Tally(MatrixResult result, in Outcome expected)
    {
        switch (expected.Fault)
        {
            case WalkFault.None:
                result.Translated++;
                break;
            case WalkFault.GeneralProtection:
                result.GeneralProtection++;
                break;
            default:
                if ((expected.ErrorCode & PageFaultErrorCode.Present) == 0)
                {
                    result.NotPresent++;
                }
                else if ((expected.ErrorCode & PageFaultErrorCode.Reserved) != 0)
                {
                    result.ReservedBit++;
                }
                else
                {
                    result.Rights++;
                    if ((expected.ErrorCode & PageFaultErrorCode.ProtectionKey) != 0)
                    {
                        result.ProtectionKey++;
                    }
                }

                break;
        }
    }

    private static string Describe(MatrixRun run, PathEntry[] path, StateBits state, MatrixAccess access, in Outcome expected, string problem)
    {
        var sb = new StringBuilder();
        sb.Append($"  [{run.Layout.ModeName} {run.Name}] ");
        foreach (PathEntry e in path)
        {
            sb.Append($"{e.Name()}[{SdmModel.Describe(e.Roles)}] ");
        }

        sb.Append($"| {SdmModel.Describe(run.Layout.Kind, state, run.MaxPhysAddr)} | {access} | expected ");
        sb.Append(expected.Fault switch
        {
            WalkFault.None => $"PA 0x{expected.Pa:x} ({expected.PageSize >> 10} KiB, access {expected.Access})",
            WalkFault.PageFault => $"#PF {SdmModel.Describe(expected.ErrorCode)} at level {expected.Level}",
            _ => "#GP(0)",
        });
        sb.Append($" | actual: {problem}");
        return sb.ToString();
    }

    private static IEnumerable<StateBits> Subsets(StateBits mask)
    {
        uint m = (uint)mask;
        uint s = 0;
        do
        {
            yield return (StateBits)s;
            s = (s - m) & m;
        }
        while (s != 0);
    }
}
