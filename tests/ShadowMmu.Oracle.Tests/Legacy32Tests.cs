using ShadowMmu.Oracle;
using Xunit;
using static ShadowMmu.Oracle.Tests.GuestImage;
using E = ShadowMmu.Oracle.Tests.ErrorCodes;

namespace ShadowMmu.Oracle.Tests;

/// <summary>32-bit paging with and without CR4.PSE (SDM vol. 3A, "32-Bit Paging"): 4-byte entries, no XD.</summary>
public sealed class Legacy32Tests
{
    // PDE 0x100, PTE 0x123, offset 0x678: the code pages use PDE 0x300.
    private const ulong Va = 0x4012_3678;
    private const ulong Frame = 0x8765_4000;

    [Theory]
    [InlineData(OracleMode.Legacy32)]
    [InlineData(OracleMode.Legacy32Pse)]
    public void Read4KiB_SetsAccessedInPdeAndPte(OracleMode mode)
    {
        var image = new GuestImage(mode);
        ulong[] e = image.Map(Va, 1, Frame | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va));

        Oracle.Translated(result, Frame | 0x678, image.Sets(e[2], A), image.Sets(e[1], A));
        Assert.All(result.PteUpdates, u => Assert.Equal(4, u.Size));
    }

    [Fact]
    public void Write4KiB_SetsDirtyInThePte()
    {
        var image = new GuestImage(OracleMode.Legacy32);
        ulong[] e = image.Map(Va, 1, Frame | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, cpl: 3));

        Oracle.Translated(result, Frame | 0x678, image.Sets(e[2], A), image.Sets(e[1], A | D));
    }

    [Fact]
    public void Write4MiB_WithPse_UsesTheLow22BitsOfTheVa()
    {
        var image = new GuestImage(OracleMode.Legacy32Pse);
        ulong[] e = image.Map(Va, 2, 0x8040_0000 | PS | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va));

        Oracle.Translated(result, 0x8040_0000 | (Va & 0x3F_FFFF), image.Sets(e[2], A | D));
    }

    [Fact]
    public void Pse36_PdeBits20To13_GivePhysicalBits39To32()
    {
        // MAXPHYADDR is 40 here, so all of bits 20:13 are address bits and only bit 21 is reserved.
        var image = new GuestImage(OracleMode.Legacy32Pse);
        image.Map(Va, 2, 0x8040_0000 | (0x81UL << 13) | PS | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va));

        Assert.Equal(OracleOutcome.Translated, result.Outcome);
        Assert.Equal(0x81_8040_0000UL | (Va & 0x3F_FFFF), result.PhysicalAddress);
    }

    [Fact]
    public void Bit21Of4MiBPde_IsReserved()
    {
        var image = new GuestImage(OracleMode.Legacy32Pse);
        image.Map(Va, 2, 0x8040_0000 | (1UL << 21) | PS | Open);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, cpl: 3)), E.P | E.U | E.Rsvd);
    }

    [Fact]
    public void PsBitWithoutPse_IsIgnored()
    {
        // Without CR4.PSE, bit 7 of a PDE is ignored: the PDE still points to a page table.
        var image = new GuestImage(OracleMode.Legacy32);
        ulong[] e = image.Map(Va, 1, Frame | Open);
        image.Or(e[2], PS);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va));

        Oracle.Translated(result, Frame | 0x678, image.Sets(e[2], A), image.Sets(e[1], A));
    }

    [Fact]
    public void NotPresentPde_UserRead()
    {
        var image = new GuestImage(OracleMode.Legacy32);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, cpl: 3)), E.U);
    }

    [Fact]
    public void NotPresent_FetchWithNxe_HasNoInstructionFetchBitWithoutPae()
    {
        var image = new GuestImage(OracleMode.Legacy32);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, nxe: true)), 0);
    }

    [Fact]
    public void UserWriteToReadOnlyPage()
    {
        var image = new GuestImage(OracleMode.Legacy32);
        image.Map(Va, 1, Frame | P | US);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, cpl: 3)), E.P | E.W | E.U);
    }

    [Fact]
    public void UserReadOfSupervisorPage()
    {
        var image = new GuestImage(OracleMode.Legacy32Pse);
        image.Map(Va, 1, Frame | P | RW);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, cpl: 3)), E.P | E.U);
    }

    [Fact]
    public void SupervisorWriteToReadOnlyPage_WithoutWp_Translates()
    {
        var image = new GuestImage(OracleMode.Legacy32);
        ulong[] e = image.Map(Va, 1, Frame | P | US);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, wp: false));

        Oracle.Translated(result, Frame | 0x678, image.Sets(e[2], A), image.Sets(e[1], A | D));
    }

    [Fact]
    public void Smep_ForbidsSupervisorFetchFromUserPage()
    {
        var image = new GuestImage(OracleMode.Legacy32);
        image.Map(Va, 1, Frame | Open);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, extraCr4: Cases.Cr4Smep)), E.P | E.Id);
    }

    [Fact]
    public void Smap_ForbidsSupervisorWriteToUserPageUnlessAc()
    {
        var image = new GuestImage(OracleMode.Legacy32);
        ulong[] e = image.Map(Va, 1, Frame | Open);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, extraCr4: Cases.Cr4Smap)), E.P | E.W);
        OracleResult withAc = Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, extraCr4: Cases.Cr4Smap, ac: true));
        Oracle.Translated(withAc, Frame | 0x678, image.Sets(e[2], A), image.Sets(e[1], A | D));
    }

    [Fact]
    public void Fetch_Translates()
    {
        var image = new GuestImage(OracleMode.Legacy32);
        ulong[] e = image.Map(Va, 1, Frame | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, cpl: 3));

        Oracle.Translated(result, Frame | 0x678, image.Sets(e[2], A), image.Sets(e[1], A));
    }
}
