using ShadowMmu.Oracle;
using Xunit;
using static ShadowMmu.Oracle.Tests.GuestImage;
using E = ShadowMmu.Oracle.Tests.ErrorCodes;

namespace ShadowMmu.Oracle.Tests;

/// <summary>PAE paging (SDM vol. 3A, "PAE Paging"). PDPTEs have no A, R/W or U/S bits.</summary>
public sealed class PaeTests
{
    // PDPTE 1, PD 0, PT 0x123, offset 0x678: the code pages use PDPTE 3.
    private const ulong Va = 0x4012_3678;
    private const ulong Frame = 0x8765_4000;

    [Fact]
    public void Read4KiB_SetsAccessedInPdeAndPteButNotPdpte()
    {
        var image = new GuestImage(OracleMode.Pae);
        ulong[] e = image.Map(Va, 1, Frame | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va));

        Oracle.Translated(result, Frame | 0x678, image.Sets(e[2], A), image.Sets(e[1], A));
    }

    [Fact]
    public void Write4KiB_SetsDirtyInThePte()
    {
        var image = new GuestImage(OracleMode.Pae);
        ulong[] e = image.Map(Va, 1, Frame | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, cpl: 3));

        Oracle.Translated(result, Frame | 0x678, image.Sets(e[2], A), image.Sets(e[1], A | D));
    }

    [Fact]
    public void Read2MiB_UsesTheLow21BitsOfTheVa()
    {
        var image = new GuestImage(OracleMode.Pae);
        ulong[] e = image.Map(Va, 2, 0x8060_0000 | PS | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va));

        Oracle.Translated(result, 0x8060_0000 | (Va & 0x1F_FFFF), image.Sets(e[2], A));
    }

    [Fact]
    public void NotPresentPdpte_UserRead()
    {
        var image = new GuestImage(OracleMode.Pae);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, cpl: 3)), E.U);
    }

    [Fact]
    public void NotPresent_FetchWithNxe_SetsInstructionFetchBit()
    {
        var image = new GuestImage(OracleMode.Pae);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, nxe: true)), E.Id);
    }

    [Fact]
    public void UserWriteToReadOnlyPage()
    {
        var image = new GuestImage(OracleMode.Pae);
        image.Map(Va, 1, Frame | P | US);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, cpl: 3)), E.P | E.W | E.U);
    }

    [Fact]
    public void UserReadOfSupervisorPde()
    {
        var image = new GuestImage(OracleMode.Pae);
        ulong[] e = image.Map(Va, 1, Frame | Open);
        image.Clear(e[2], US);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, cpl: 3)), E.P | E.U);
    }

    [Fact]
    public void ExecuteDisableBit_WithoutNxe_IsReserved()
    {
        var image = new GuestImage(OracleMode.Pae);
        image.Map(Va, 1, Frame | Open | XD);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va)), E.P | E.Rsvd);
    }

    [Fact]
    public void ReservedAddressBit51_IsRsvdFault()
    {
        var image = new GuestImage(OracleMode.Pae);
        image.Map(Va, 1, Frame | Open | (1UL << 51));

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, cpl: 3)), E.P | E.W | E.U | E.Rsvd);
    }

    [Fact]
    public void Bit52OfPaePte_IsReserved()
    {
        // PAE PDEs and PTEs have no ignored high bits: 62:MAXPHYADDR are all reserved.
        var image = new GuestImage(OracleMode.Pae);
        image.Map(Va, 1, Frame | Open | (1UL << 52));

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va)), E.P | E.Rsvd);
    }

    [Fact]
    public void LowAddressBitOf2MiBPage_IsReserved()
    {
        var image = new GuestImage(OracleMode.Pae);
        image.Map(Va, 2, 0x8060_0000 | PS | Open | (1UL << 20));

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va)), E.P | E.Rsvd);
    }

    [Fact]
    public void ExecuteDisabledPde_WithNxe_FaultsFetchWithIdBit()
    {
        var image = new GuestImage(OracleMode.Pae);
        ulong[] e = image.Map(Va, 1, Frame | Open);
        image.Or(e[2], XD);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, nxe: true)), E.P | E.Id);
    }

    [Fact]
    public void Smep_ForbidsSupervisorFetchFromUserPage()
    {
        var image = new GuestImage(OracleMode.Pae);
        image.Map(Va, 1, Frame | Open);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, extraCr4: Cases.Cr4Smep)), E.P | E.Id);
    }

    [Fact]
    public void Smap_ForbidsSupervisorReadOfUserPageUnlessAc()
    {
        var image = new GuestImage(OracleMode.Pae);
        ulong[] e = image.Map(Va, 1, Frame | Open);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, extraCr4: Cases.Cr4Smap)), E.P);
        OracleResult withAc = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, extraCr4: Cases.Cr4Smap, ac: true));
        Oracle.Translated(withAc, Frame | 0x678, image.Sets(e[2], A), image.Sets(e[1], A));
    }

    [Fact]
    public void Fetch_FromExecutablePage_Translates()
    {
        var image = new GuestImage(OracleMode.Pae);
        ulong[] e = image.Map(Va, 1, Frame | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, cpl: 3, nxe: true));

        Oracle.Translated(result, Frame | 0x678, image.Sets(e[2], A), image.Sets(e[1], A));
    }
}
