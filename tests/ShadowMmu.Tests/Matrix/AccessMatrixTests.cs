using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Matrix;

// The generated walkers against the SDM model, in the spirit of kvm-unit-tests x86/access.c. One class per area so
// xunit runs the areas in parallel; one theory row per mode (and level) so a failure names the mode.

/// <summary>4 KiB leaf flags x processor state x access.</summary>
public sealed class AccessMatrixLeafTests
{
    private readonly ITestOutputHelper _output;

    public AccessMatrixLeafTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [MemberData(nameof(MatrixData.Leaf4K), MemberType = typeof(MatrixData))]
    public void Leaf4K(string mode, int level, long cases)
    {
        MatrixResult r = MatrixHarness.Check(_output, MatrixArea.Leaf4K, mode, level, cases, reference: false);
        Assert.True(r.Translated > 0 && r.NotPresent > 0 && r.Rights > 0 && r.ADWrites > 0);
        Assert.Equal(mode != "legacy32", r.ReservedBit > 0);
        Assert.Equal(mode.StartsWith("long", System.StringComparison.Ordinal), r.ProtectionKey > 0);
    }
}

/// <summary>Upper-level flags combined with leaf flags.</summary>
public sealed class AccessMatrixUpperLevelTests
{
    private readonly ITestOutputHelper _output;

    public AccessMatrixUpperLevelTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [MemberData(nameof(MatrixData.UpperDirectory), MemberType = typeof(MatrixData))]
    [MemberData(nameof(MatrixData.UpperHigher), MemberType = typeof(MatrixData))]
    public void UpperLevel(string mode, int level, long cases)
    {
        MatrixResult r = MatrixHarness.Check(_output, MatrixArea.Upper, mode, level, cases, reference: false);
        Assert.True(r.Translated > 0 && r.NotPresent > 0 && r.Rights > 0);
        Assert.Equal(mode != "legacy32", r.ReservedBit + r.GeneralProtection > 0);
    }
}

/// <summary>2 MiB, 1 GiB and 4 MiB leaves, PS without CPUID 1-GByte pages, and 32-bit PS with CR4.PSE 0/1.</summary>
public sealed class AccessMatrixLargePageTests
{
    private readonly ITestOutputHelper _output;

    public AccessMatrixLargePageTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [MemberData(nameof(MatrixData.Large), MemberType = typeof(MatrixData))]
    public void LargePage(string mode, int level, long cases)
    {
        MatrixResult r = MatrixHarness.Check(_output, MatrixArea.Large, mode, level, cases, reference: false);
        Assert.True(r.Translated > 0 && r.NotPresent > 0 && r.Rights > 0 && r.ReservedBit > 0 && r.ADWrites > 0);
    }

    [Theory]
    [MemberData(nameof(MatrixData.Page1GbMissing), MemberType = typeof(MatrixData))]
    public void Page1GbWithoutCpuid(string mode, int level, long cases)
    {
        MatrixResult r = MatrixHarness.Check(_output, MatrixArea.Page1GbMissing, mode, level, cases, reference: false);
        Assert.Equal(0, r.Translated);
        Assert.Equal(cases, r.NotPresent + r.ReservedBit);
    }

    [Theory]
    [MemberData(nameof(MatrixData.PseToggle), MemberType = typeof(MatrixData))]
    public void Legacy32PseToggle(string mode, int level, long cases)
    {
        MatrixResult r = MatrixHarness.Check(_output, MatrixArea.PseToggle, mode, level, cases, reference: false);
        Assert.True(r.Translated > 0 && r.ReservedBit > 0);
    }
}

/// <summary>Every bit of every entry kind, alone: reserved (RSVD #PF or, for the PAE PDPTEs, #GP), ignored, or address.</summary>
public sealed class AccessMatrixReservedBitSweepTests
{
    private readonly ITestOutputHelper _output;

    public AccessMatrixReservedBitSweepTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [MemberData(nameof(MatrixData.ReservedBitSweep), MemberType = typeof(MatrixData))]
    public void ReservedBitSweep(string mode, int level, long cases)
    {
        MatrixResult r = MatrixHarness.Check(_output, MatrixArea.ReservedBitSweep, mode, level, cases, reference: false);
        Assert.True(r.Translated > 0 && r.ReservedBit > 0);
    }
}
