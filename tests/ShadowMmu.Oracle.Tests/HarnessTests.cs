using System;
using ShadowMmu.Oracle;
using Xunit;
using static ShadowMmu.Oracle.Tests.GuestImage;

namespace ShadowMmu.Oracle.Tests;

/// <summary>Availability, and the cases the harness must refuse with a clear message.</summary>
public sealed class HarnessTests
{
    private const ulong Va = 0x0000_0080_1234_5678;

    [Fact]
    public void Oracle_IsAvailable()
    {
        Assert.True(QemuMmu.IsAvailable, QemuMmu.UnavailableReason);
        Assert.Null(QemuMmu.UnavailableReason);
        Assert.Equal("2.0.1", QemuMmu.UnicornVersion);
    }

    [Fact]
    public void VaInsideTheImage_IsRejected()
    {
        var image = new GuestImage(OracleMode.Long4);

        var e = Assert.Throws<OracleException>(() => Oracle.Run(image, Cases.For(image, OracleAccess.Read, 0x8_0000)));
        Assert.Contains("inside the image", e.Message);
    }

    [Fact]
    public void VaInsideTheHarness_IsRejected()
    {
        var image = new GuestImage(OracleMode.Legacy32);

        var e = Assert.Throws<OracleException>(() => Oracle.Run(image, Cases.For(image, OracleAccess.Read, QemuMmu.HarnessBase + 0x8000)));
        Assert.Contains("harness region", e.Message);
    }

    [Fact]
    public void VaAbove4GiB_InA32BitMode_IsRejected()
    {
        var image = new GuestImage(OracleMode.Pae);

        Assert.Throws<OracleException>(() => Oracle.Run(image, Cases.For(image, OracleAccess.Read, 0x1_0000_0000)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4095)]
    [InlineData(0x1000 + 1)]
    public void BadImageSize_IsRejected(int bytes)
    {
        var c = new OracleCase(Cases.Cr0Base, 0, Cases.Cr4Pae, Cases.EferLme, 0, false, 0, OracleAccess.Read, Va);

        Assert.Throws<OracleException>(() => QemuMmu.Run(new byte[bytes], c));
    }

    [Fact]
    public void PagingDisabled_IsRejected()
    {
        var image = new GuestImage(OracleMode.Long4);
        OracleCase c = Cases.For(image, OracleAccess.Read, Va) with { Cr0 = 0x11 };

        Assert.Throws<OracleException>(() => Oracle.Run(image, c));
    }

    [Fact]
    public void ImageWithoutCodePages_IsReportedAsAHarnessFailure()
    {
        var bytes = new byte[1 << 20];
        var c = new OracleCase(Cases.Cr0Base, 0x1000, Cases.Cr4Pae, Cases.EferLme, 0, false, 0, OracleAccess.Read, Va);

        var e = Assert.Throws<OracleException>(() => QemuMmu.Run(bytes, c));
        Assert.Contains("MapCodePages", e.Message);
    }

    [Fact]
    public void TableOutsideTheImage_IsReportedAsUnsupported()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, 0x4567_8000 | Open);
        image.Write(e[3], 0x5000_0000 | Open); // the PDPTE now points to a page directory outside the image

        var error = Assert.Throws<OracleException>(() => Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va)));
        Assert.Contains("outside the image", error.Message);
    }

    [Theory]
    [InlineData(0x8000_0011UL, 0x00UL, 0x000UL, OracleMode.Legacy32)]
    [InlineData(0x8000_0011UL, 0x10UL, 0x800UL, OracleMode.Legacy32Pse)]
    [InlineData(0x8000_0011UL, 0x20UL, 0x000UL, OracleMode.Pae)]
    [InlineData(0x8000_0011UL, 0x1020UL, 0x000UL, OracleMode.Pae)]
    [InlineData(0x8000_0011UL, 0x20UL, 0x100UL, OracleMode.Long4)]
    [InlineData(0x8000_0011UL, 0x1020UL, 0x500UL, OracleMode.Long5)]
    public void ModeOf_FollowsCr0Cr4AndEfer(ulong cr0, ulong cr4, ulong efer, OracleMode expected)
    {
        Assert.Equal(expected, QemuMmu.ModeOf(new OracleCase(cr0, 0, cr4, efer, 0, false, 0, OracleAccess.Read, 0)));
    }

    [Fact]
    public void ModeOf_RejectsLongModeWithoutPae()
    {
        Assert.Throws<OracleException>(() => QemuMmu.ModeOf(new OracleCase(0x8000_0011, 0, 0, 0x100, 0, false, 0, OracleAccess.Read, 0)));
    }

    [Fact]
    public void HarnessConstants_AreConsistent()
    {
        Assert.InRange(QemuMmu.SupervisorCodeVa, QemuMmu.HarnessBase, QemuMmu.HarnessBase + QemuMmu.HarnessSize - 4096);
        Assert.InRange(QemuMmu.UserCodeVa, QemuMmu.HarnessBase, QemuMmu.HarnessBase + QemuMmu.HarnessSize - 4096);
        Assert.Equal(64 << 20, QemuMmu.MaxImageBytes);
        Assert.True((ulong)QemuMmu.MaxImageBytes <= QemuMmu.HarnessBase);
    }

    [Fact]
    public void LargestImage_Runs()
    {
        var image = new GuestImage(OracleMode.Long4, QemuMmu.MaxImageBytes);
        ulong[] e = image.Map(Va, 1, 0x3FF_F000 | Open); // the last page of the image

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va));

        Oracle.Translated(result, 0x3FF_F678, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A));
    }
}
