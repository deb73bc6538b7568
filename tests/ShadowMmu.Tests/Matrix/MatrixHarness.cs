using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Matrix;

/// <summary>The walkers the matrix runs against.</summary>
internal static class Walkers
{
    /// <summary>The walker generated from the mode's spec.</summary>
    public static WalkerFactory Generated(PagingKind kind) => kind switch
    {
        PagingKind.Legacy32 => (GuestMemory m, in CpuState c) => new Legacy32Walker(m, c),
        PagingKind.Pae => (GuestMemory m, in CpuState c) => new PaeWalker(m, c),
        PagingKind.Long4 => (GuestMemory m, in CpuState c) => new Long4Walker(m, c),
        _ => (GuestMemory m, in CpuState c) => new Long5Walker(m, c),
    };

    /// <summary>The reference walker interpreting the same spec.</summary>
    public static WalkerFactory Reference(PagingKind kind)
    {
        PagingModeInfo info = Info(kind);
        return (GuestMemory m, in CpuState c) => ReferenceWalker.For(info, m, c);
    }

    public static PagingModeInfo Info(PagingKind kind) => kind switch
    {
        PagingKind.Legacy32 => Legacy32Walker.Info,
        PagingKind.Pae => PaeWalker.Info,
        PagingKind.Long4 => Long4Walker.Info,
        _ => Long5Walker.Info,
    };
}

/// <summary>The areas of the matrix, so the generated and the reference walker run exactly the same cases.</summary>
public enum MatrixArea
{
    /// <summary><see cref="MatrixCatalog.Leaf4K"/>.</summary>
    Leaf4K,

    /// <summary><see cref="MatrixCatalog.Upper"/>.</summary>
    Upper,

    /// <summary><see cref="MatrixCatalog.Large"/>.</summary>
    Large,

    /// <summary><see cref="MatrixCatalog.Page1GbMissing"/>.</summary>
    Page1GbMissing,

    /// <summary><see cref="MatrixCatalog.PseToggle"/>.</summary>
    PseToggle,

    /// <summary><see cref="MatrixCatalog.Sweep"/>.</summary>
    ReservedBitSweep,
}

/// <summary>
/// The theory data: (mode, level, number of cases). The case counts are written out as constants — the products of
/// the dimensions in <see cref="MatrixCatalog"/> (flags, state bits, 12 accesses) — and each test asserts that it ran
/// exactly that many, so a matrix that silently shrinks cannot pass.
/// </summary>
public static class MatrixData
{
    /// <summary>4 KiB leaves: legacy32 2^6 flags x 2^7 states x 12; others 2^9 x 2^7 x 12.</summary>
    public static TheoryData<string, int, long> Leaf4K => new()
    {
        { "legacy32", 1, 98_304 },
        { "pae", 1, 786_432 },
        { "long4", 1, 786_432 },
        { "long5", 1, 786_432 },
    };

    /// <summary>Upper level x leaf. PDE runs: legacy32 2^8 x 2^6 x 12, PAE 2^12 x 2^4 x 12, IA-32e 2^12 x 2^5 x 12; other IA-32e levels 2^10 x 2^5 x 12, PAE PDPTE 2^10 x 2^4 x 12.</summary>
    public static TheoryData<string, int, long> UpperDirectory => new()
    {
        { "legacy32", 2, 196_608 },
        { "pae", 2, 786_432 },
        { "long4", 2, 1_572_864 },
        { "long5", 2, 1_572_864 },
    };

    /// <summary>The other upper levels (see <see cref="UpperDirectory"/>).</summary>
    public static TheoryData<string, int, long> UpperHigher => new()
    {
        { "pae", 3, 196_608 },
        { "long4", 3, 393_216 },
        { "long4", 4, 393_216 },
        { "long5", 3, 393_216 },
        { "long5", 4, 393_216 },
        { "long5", 5, 393_216 },
    };

    /// <summary>Large leaves (level 2: 4 MiB or 2 MiB; level 3: 1 GiB): 4 MiB 2^7 x 2^7 x 12, others 2^8 x 2^7 x 12.</summary>
    public static TheoryData<string, int, long> Large => new()
    {
        { "legacy32", 2, 196_608 },
        { "pae", 2, 393_216 },
        { "long4", 2, 393_216 },
        { "long4", 3, 393_216 },
        { "long5", 2, 393_216 },
        { "long5", 3, 393_216 },
    };

    /// <summary>PDPTE PS without CPUID 1-GByte pages: 2^7 x 2^6 x 12.</summary>
    public static TheoryData<string, int, long> Page1GbMissing => new()
    {
        { "long4", 3, 98_304 },
        { "long5", 3, 98_304 },
    };

    /// <summary>32-bit PDE.PS with CR4.PSE 0 and 1: 2^9 x 2^5 x 12.</summary>
    public static TheoryData<string, int, long> PseToggle => new()
    {
        { "legacy32", 2, 196_608 },
    };

    /// <summary>
    /// Bit sweeps: (swept bits over entry kinds and MAXPHYADDR 36/40/52, legacy32 also 32) x 2 values x 2 NXE x 12
    /// accesses. legacy32 112 bits per MAXPHYADDR; PAE 202/194/170; long4 302/290/254; long5 those plus the PML5E's
    /// 39/35/23.
    /// </summary>
    public static TheoryData<string, int, long> ReservedBitSweep => new()
    {
        { "legacy32", 0, 448 * 48 },
        { "pae", 0, 566 * 48 },
        { "long4", 0, 846 * 48 },
        { "long5", 0, 943 * 48 },
    };

    internal static List<MatrixRun> Runs(MatrixArea area, PagingKind kind, int level) => area switch
    {
        MatrixArea.Leaf4K => new() { MatrixCatalog.Leaf4K(kind) },
        MatrixArea.Upper => new() { MatrixCatalog.Upper(kind, level) },
        MatrixArea.Large => new() { MatrixCatalog.Large(kind, level) },
        MatrixArea.Page1GbMissing => new() { MatrixCatalog.Page1GbMissing(kind) },
        MatrixArea.PseToggle => new() { MatrixCatalog.PseToggle() },
        _ => MatrixCatalog.Sweep(kind),
    };
}

/// <summary>Runs one area of the matrix for one mode against one walker and reports.</summary>
internal static class MatrixHarness
{
    public static MatrixResult Check(ITestOutputHelper output, MatrixArea area, string mode, int level, long expectedCases, bool reference)
    {
        PagingKind kind = MatrixLayout.Parse(mode);
        List<MatrixRun> runs = MatrixData.Runs(area, kind, level);
        WalkerFactory factory = reference ? Walkers.Reference(kind) : Walkers.Generated(kind);
        string walker = reference ? nameof(ReferenceWalker) : Walkers.Info(kind).Name + " generated walker";

        var total = new MatrixResult();
        var clock = Stopwatch.StartNew();
        using (GuestMemory memory = GuestMemory.Allocate(MatrixLayout.MemorySize))
        {
            foreach (MatrixRun run in runs)
            {
                total.Add(MatrixEngine.Run(memory, run, factory));
            }
        }

        clock.Stop();
        output.WriteLine($"{walker}, {mode} {area}{(level > 0 ? $" level {level}" : string.Empty)}: {total.Summary}; {clock.Elapsed.TotalSeconds:0.00} s");
        if (total.Failures != 0)
        {
            output.WriteLine(total.FailureReport());
        }

        Assert.Equal(expectedCases, runs.Sum(r => r.CaseCount));
        Assert.Equal(expectedCases, total.Cases);
        Assert.True(total.Failures == 0, $"{walker}, {mode} {area}: {total.FailureReport()}");
        return total;
    }
}
