using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Matrix;

// The same matrices, case for case, against ReferenceWalker (the spec interpreter), so that the SDM model also checks
// the oracle the generated walkers are compared with elsewhere. Split over several classes only so that xunit runs
// them in parallel: the interpreter is a few times slower than the generated walkers.

/// <summary>Reference walker: 4 KiB leaves, bit sweeps, 32-bit PS with CR4.PSE 0/1.</summary>
public sealed class ReferenceWalkerAccessMatrixLeafTests
{
    private readonly ITestOutputHelper _output;

    public ReferenceWalkerAccessMatrixLeafTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [MemberData(nameof(MatrixData.Leaf4K), MemberType = typeof(MatrixData))]
    public void ReferenceWalker_Leaf4K(string mode, int level, long cases) =>
        MatrixHarness.Check(_output, MatrixArea.Leaf4K, mode, level, cases, reference: true);

    [Theory]
    [MemberData(nameof(MatrixData.ReservedBitSweep), MemberType = typeof(MatrixData))]
    public void ReferenceWalker_ReservedBitSweep(string mode, int level, long cases) =>
        MatrixHarness.Check(_output, MatrixArea.ReservedBitSweep, mode, level, cases, reference: true);

    [Theory]
    [MemberData(nameof(MatrixData.PseToggle), MemberType = typeof(MatrixData))]
    public void ReferenceWalker_Legacy32PseToggle(string mode, int level, long cases) =>
        MatrixHarness.Check(_output, MatrixArea.PseToggle, mode, level, cases, reference: true);
}

/// <summary>Reference walker: PDE flags x leaf flags.</summary>
public sealed class ReferenceWalkerAccessMatrixDirectoryTests
{
    private readonly ITestOutputHelper _output;

    public ReferenceWalkerAccessMatrixDirectoryTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [MemberData(nameof(MatrixData.UpperDirectory), MemberType = typeof(MatrixData))]
    public void ReferenceWalker_UpperLevel(string mode, int level, long cases) =>
        MatrixHarness.Check(_output, MatrixArea.Upper, mode, level, cases, reference: true);
}

/// <summary>Reference walker: PDPTE/PML4E/PML5E (and PAE PDPTE register) flags x leaf flags; PS without 1-GByte pages.</summary>
public sealed class ReferenceWalkerAccessMatrixHigherLevelTests
{
    private readonly ITestOutputHelper _output;

    public ReferenceWalkerAccessMatrixHigherLevelTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [MemberData(nameof(MatrixData.UpperHigher), MemberType = typeof(MatrixData))]
    public void ReferenceWalker_UpperLevel(string mode, int level, long cases) =>
        MatrixHarness.Check(_output, MatrixArea.Upper, mode, level, cases, reference: true);

    [Theory]
    [MemberData(nameof(MatrixData.Page1GbMissing), MemberType = typeof(MatrixData))]
    public void ReferenceWalker_Page1GbWithoutCpuid(string mode, int level, long cases) =>
        MatrixHarness.Check(_output, MatrixArea.Page1GbMissing, mode, level, cases, reference: true);
}

/// <summary>Reference walker: 2 MiB, 1 GiB and 4 MiB leaves.</summary>
public sealed class ReferenceWalkerAccessMatrixLargePageTests
{
    private readonly ITestOutputHelper _output;

    public ReferenceWalkerAccessMatrixLargePageTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [MemberData(nameof(MatrixData.Large), MemberType = typeof(MatrixData))]
    public void ReferenceWalker_LargePage(string mode, int level, long cases) =>
        MatrixHarness.Check(_output, MatrixArea.Large, mode, level, cases, reference: true);
}
