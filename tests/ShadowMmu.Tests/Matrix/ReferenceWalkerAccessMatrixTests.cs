using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Matrix;

/// <summary>
/// The same matrices, case for case, against <see cref="ReferenceWalker"/> (the spec interpreter), so that the SDM
/// model checks the oracle the generated walkers are compared with elsewhere.
/// </summary>
public sealed class ReferenceWalkerAccessMatrixTests
{
    private readonly ITestOutputHelper _output;

    public ReferenceWalkerAccessMatrixTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [MemberData(nameof(MatrixData.Leaf4K), MemberType = typeof(MatrixData))]
    public void ReferenceWalker_Leaf4K(string mode, int level, long cases) =>
        MatrixHarness.Check(_output, MatrixArea.Leaf4K, mode, level, cases, reference: true);

    [Theory]
    [MemberData(nameof(MatrixData.Upper), MemberType = typeof(MatrixData))]
    public void ReferenceWalker_UpperLevel(string mode, int level, long cases) =>
        MatrixHarness.Check(_output, MatrixArea.Upper, mode, level, cases, reference: true);

    [Theory]
    [MemberData(nameof(MatrixData.Large), MemberType = typeof(MatrixData))]
    public void ReferenceWalker_LargePage(string mode, int level, long cases) =>
        MatrixHarness.Check(_output, MatrixArea.Large, mode, level, cases, reference: true);

    [Theory]
    [MemberData(nameof(MatrixData.Page1GbMissing), MemberType = typeof(MatrixData))]
    public void ReferenceWalker_Page1GbWithoutCpuid(string mode, int level, long cases) =>
        MatrixHarness.Check(_output, MatrixArea.Page1GbMissing, mode, level, cases, reference: true);

    [Theory]
    [MemberData(nameof(MatrixData.PseToggle), MemberType = typeof(MatrixData))]
    public void ReferenceWalker_Legacy32PseToggle(string mode, int level, long cases) =>
        MatrixHarness.Check(_output, MatrixArea.PseToggle, mode, level, cases, reference: true);

    [Theory]
    [MemberData(nameof(MatrixData.ReservedBitSweep), MemberType = typeof(MatrixData))]
    public void ReferenceWalker_ReservedBitSweep(string mode, int level, long cases) =>
        MatrixHarness.Check(_output, MatrixArea.ReservedBitSweep, mode, level, cases, reference: true);
}
