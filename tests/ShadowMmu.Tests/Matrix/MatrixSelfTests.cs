using System;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Matrix;

/// <summary>
/// The matrix must fail for a wrong walker: each test wraps the generated walker in a deliberate bug and checks that
/// the engine reports mismatches, so the matrix cannot pass vacuously.
/// </summary>
public sealed class MatrixSelfTests
{
    private readonly ITestOutputHelper _output;

    public MatrixSelfTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void MatrixCatchesAMissingProtectionKeyBit()
    {
        MatrixRun run = MatrixCatalog.Leaf4K(PagingKind.Long4);
        run.VaryState = StateBits.Wp | StateBits.Pke | StateBits.PkWd;
        MatrixResult r = RunMutant(run, (ref GuestWalk walk, GuestMemory memory) => walk.ErrorCode &= ~PageFaultErrorCode.ProtectionKey);
        Assert.True(r.Failures > 0);
    }

    [Fact]
    public void MatrixCatchesAMissingDirtyBit()
    {
        MatrixRun run = MatrixCatalog.Leaf4K(PagingKind.Legacy32);
        MatrixResult r = RunMutant(run, (ref GuestWalk walk, GuestMemory memory) =>
        {
            if (walk.Fault == WalkFault.None)
            {
                ulong gpa = walk.PteGpa[walk.Level - 1];
                memory.WriteEntry(gpa, memory.ReadEntry(gpa, 4) & ~0x40UL, 4);
            }
        });
        Assert.True(r.Failures > 0);
    }

    [Fact]
    public void MatrixCatchesAWrongPageOffset()
    {
        MatrixRun run = MatrixCatalog.Large(PagingKind.Pae, 2);
        run.VaryState = StateBits.None;
        MatrixResult r = RunMutant(run, (ref GuestWalk walk, GuestMemory memory) =>
        {
            if (walk.Fault == WalkFault.None)
            {
                walk.PhysicalAddress &= ~0x1000UL;
            }
        });
        Assert.True(r.Failures > 0);
    }

    private MatrixResult RunMutant(MatrixRun run, Mutation mutation)
    {
        WalkerFactory inner = Walkers.Generated(run.Layout.Kind);
        using GuestMemory memory = GuestMemory.Allocate(MatrixLayout.MemorySize);
        MatrixResult r = MatrixEngine.Run(memory, run, (GuestMemory m, in CpuState c) => new MutantWalker(inner(m, c), mutation));
        _output.WriteLine(r.Summary);
        if (r.FirstFailures.Count > 0)
        {
            _output.WriteLine(r.FirstFailures[0]);
        }

        Assert.Equal(run.CaseCount, r.Cases);
        return r;
    }

    private delegate void Mutation(ref GuestWalk walk, GuestMemory memory);

    private sealed class MutantWalker : IGuestPageWalker
    {
        private readonly IGuestPageWalker _inner;
        private readonly Mutation _mutation;

        public MutantWalker(IGuestPageWalker inner, Mutation mutation)
        {
            _inner = inner;
            _mutation = mutation ?? throw new ArgumentNullException(nameof(mutation));
        }

        public PagingModeInfo Mode => _inner.Mode;

        public GuestMemory Memory => _inner.Memory;

        public bool WalkAddr(ref GuestWalk walk, ulong va, AccessKind kind, int cpl, bool ac)
        {
            _inner.WalkAddr(ref walk, va, kind, cpl, ac);
            _mutation(ref walk, Memory);
            return walk.Fault == WalkFault.None;
        }
    }
}
