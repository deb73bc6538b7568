using ShadowMmu.Oracle;
using Xunit;
using static ShadowMmu.Oracle.Tests.GuestImage;
using E = ShadowMmu.Oracle.Tests.ErrorCodes;

namespace ShadowMmu.Oracle.Tests;

/// <summary>
/// 5-level paging (CR4.LA57 with EFER.LMA). EPYC-Rome has no LA57 in CPUID, but VMRUN keeps CR4.LA57 and the
/// harness writes the case's CR4 back after VMRUN anyway; QEMU's walker reads env->cr[4] directly.
/// </summary>
public sealed class Long5Tests
{
    // PML5 index 1, then as 4-level: no entry shared with the code pages (PML5 index 0).
    private const ulong Va = 0x0001_0080_1234_5678;
    private const ulong Frame = 0x4567_8000;

    [Fact]
    public void Read4KiB_WalksFiveLevelsAndSetsAccessedOnEach()
    {
        var image = new GuestImage(OracleMode.Long5);
        ulong[] e = image.Map(Va, 1, Frame | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va));

        Oracle.Translated(
            result,
            Frame | 0x678,
            image.Sets(e[5], A),
            image.Sets(e[4], A),
            image.Sets(e[3], A),
            image.Sets(e[2], A),
            image.Sets(e[1], A));
    }

    [Fact]
    public void Write1GiB_DirtiesThePdpte()
    {
        var image = new GuestImage(OracleMode.Long5);
        ulong[] e = image.Map(Va, 3, 0x4000_0000 | PS | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, cpl: 3));

        Oracle.Translated(result, 0x4000_0000 | (Va & 0x3FFF_FFFF), image.Sets(e[5], A), image.Sets(e[4], A), image.Sets(e[3], A | D));
    }

    [Fact]
    public void Bit47Set_IsCanonicalWithLa57()
    {
        const ulong va = 0x0001_8000_1234_5678; // bit 47 set: non-canonical for 4-level paging
        var image = new GuestImage(OracleMode.Long5);
        ulong[] e = image.Map(va, 1, Frame | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, va));

        Oracle.Translated(
            result,
            Frame | 0x678,
            image.Sets(e[5], A),
            image.Sets(e[4], A),
            image.Sets(e[3], A),
            image.Sets(e[2], A),
            image.Sets(e[1], A));
    }

    [Theory]
    [InlineData(0x0100_0000_0000_0000UL)]
    [InlineData(0xFE00_0000_0000_0000UL)]
    public void NonCanonicalVa_IsGeneralProtection(ulong va)
    {
        var image = new GuestImage(OracleMode.Long5);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Write, va));

        Assert.Equal(OracleOutcome.GeneralProtection, result.Outcome);
        Assert.Empty(result.PteUpdates);
    }

    [Fact]
    public void NotPresentPml5e_UserFetchWithNxe()
    {
        var image = new GuestImage(OracleMode.Long5);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, cpl: 3, nxe: true)), E.U | E.Id);
    }

    [Fact]
    public void PsInPml5e_IsReserved()
    {
        var image = new GuestImage(OracleMode.Long5);
        ulong[] e = image.Map(Va, 1, Frame | Open);
        image.Or(e[5], PS);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va)), E.P | E.Rsvd);
    }

    [Fact]
    public void SupervisorPml5e_MakesThePageSupervisor()
    {
        var image = new GuestImage(OracleMode.Long5);
        ulong[] e = image.Map(Va, 1, Frame | Open);
        image.Clear(e[5], US);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, cpl: 3)), E.P | E.U);
    }

    [Fact]
    public void UserWriteToReadOnlyPage()
    {
        var image = new GuestImage(OracleMode.Long5);
        image.Map(Va, 1, Frame | P | US);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, cpl: 3)), E.P | E.W | E.U);
    }

    [Fact]
    public void ExecuteDisabledPml5e_WithNxe_FaultsFetchWithIdBit()
    {
        var image = new GuestImage(OracleMode.Long5);
        ulong[] e = image.Map(Va, 1, Frame | Open);
        image.Or(e[5], XD);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, cpl: 3, nxe: true)), E.P | E.U | E.Id);
    }
}
