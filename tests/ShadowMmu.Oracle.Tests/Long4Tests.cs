using ShadowMmu.Oracle;
using Xunit;
using static ShadowMmu.Oracle.Tests.GuestImage;
using E = ShadowMmu.Oracle.Tests.ErrorCodes;

namespace ShadowMmu.Oracle.Tests;

/// <summary>4-level paging. Expected values follow the SDM's rules (vol. 3A, "4-Level Paging", "Access Rights").</summary>
public sealed class Long4Tests
{
    // PML4 index 1, PDPT 0, PD 0x91, PT 0x145, offset 0x678: no entry shared with the code pages (PML4 index 0).
    private const ulong Va = 0x0000_0080_1234_5678;
    private const ulong Offset = 0x678;

    // Frames outside the 1 MiB image: the final access leaves through the nested tables in one run.
    private const ulong Frame = 0x4567_8000;

    private static readonly GuestImage Shared = new(OracleMode.Long4);

    [Fact]
    public void Read4KiB_TranslatesAndSetsAccessedOnEveryLevel()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va));

        Oracle.Translated(result, Frame | Offset, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A));
    }

    [Fact]
    public void Write4KiB_SetsDirtyInTheLeafOnly()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, cpl: 3));

        Oracle.Translated(result, Frame | Offset, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A | D));
    }

    [Fact]
    public void AlreadyAccessedEntries_AreNotRewritten()
    {
        var image = new GuestImage(OracleMode.Long4);
        image.Map(Va, 1, Frame | Open | A | D, tableFlags: Open | A);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va));

        Oracle.Translated(result, Frame | Offset);
    }

    [Fact]
    public void Read2MiB_UsesTheLow21BitsOfTheVa()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 2, 0x4060_0000 | PS | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va));

        Oracle.Translated(result, 0x4060_0000 | (Va & 0x1F_FFFF), image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A));
    }

    [Fact]
    public void Write1GiB_UsesTheLow30BitsOfTheVaAndDirtiesThePdpte()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 3, 0x4000_0000 | PS | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va));

        Oracle.Translated(result, 0x4000_0000 | (Va & 0x3FFF_FFFF), image.Sets(e[4], A), image.Sets(e[3], A | D));
    }

    [Fact]
    public void HighHalfCanonicalVa_Translates()
    {
        const ulong high = 0xFFFF_8000_1234_5678; // PML4 index 256
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(high, 1, Frame | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, high));

        Oracle.Translated(result, Frame | Offset, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A));
    }

    [Theory]
    [InlineData(0x0000_8000_0000_0000UL)]
    [InlineData(0xFFFF_7FFF_FFFF_F000UL)]
    [InlineData(0x8000_0000_0000_0000UL)]
    public void NonCanonicalVa_IsGeneralProtection(ulong va)
    {
        OracleResult result = Oracle.Run(Shared, Cases.For(Shared, OracleAccess.Read, va));

        Assert.Equal(OracleOutcome.GeneralProtection, result.Outcome);
        Assert.Null(result.ErrorCode);
        Assert.Empty(result.PteUpdates);
    }

    [Fact]
    public void NotPresentPte_UserRead()
    {
        var image = new GuestImage(OracleMode.Long4);
        image.Map(Va, 1, Frame | RW | US);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, cpl: 3)), E.U);
    }

    [Fact]
    public void NotPresentPml4e_SupervisorWrite()
    {
        Oracle.PageFault(Oracle.Run(Shared, Cases.For(Shared, OracleAccess.Write, 0x0000_7F00_0000_0000)), E.W);
    }

    [Fact]
    public void NotPresent_FetchWithNxe_SetsInstructionFetchBit()
    {
        Oracle.PageFault(Oracle.Run(Shared, Cases.For(Shared, OracleAccess.Fetch, 0x0000_7F00_0000_0000, nxe: true)), E.Id);
    }

    [Fact]
    public void NotPresent_FetchWithoutNxeOrSmep_HasNoInstructionFetchBit()
    {
        Oracle.PageFault(Oracle.Run(Shared, Cases.For(Shared, OracleAccess.Fetch, 0x0000_7F00_0000_0000)), 0);
    }

    [Fact]
    public void UserWriteToReadOnlyPage()
    {
        var image = new GuestImage(OracleMode.Long4);
        image.Map(Va, 1, Frame | P | US);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, cpl: 3)), E.P | E.W | E.U);
    }

    [Fact]
    public void ReadOnlyUpperLevel_MakesThePageReadOnly()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | Open);
        image.Clear(e[3], RW);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, cpl: 3)), E.P | E.W | E.U);
    }

    [Fact]
    public void UserReadOfSupervisorPage()
    {
        var image = new GuestImage(OracleMode.Long4);
        image.Map(Va, 1, Frame | P | RW);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, cpl: 3)), E.P | E.U);
    }

    [Fact]
    public void SupervisorWriteToReadOnlyPage_FaultsOnlyWithWp()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | P | US);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, wp: true)), E.P | E.W);
        OracleResult noWp = Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, wp: false));
        Oracle.Translated(noWp, Frame | Offset, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A | D));
    }

    [Fact]
    public void ReservedAddressBit51_IsRsvdFault()
    {
        var image = new GuestImage(OracleMode.Long4);
        image.Map(Va, 1, Frame | Open | (1UL << 51));

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va)), E.P | E.Rsvd);
        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, cpl: 3)), E.P | E.W | E.U | E.Rsvd);
    }

    [Fact]
    public void PsInPml4e_IsReserved()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | Open);
        image.Or(e[4], PS);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va)), E.P | E.Rsvd);
    }

    [Fact]
    public void LowAddressBitOf2MiBPage_IsReserved()
    {
        var image = new GuestImage(OracleMode.Long4);
        image.Map(Va, 2, 0x4060_0000 | PS | Open | (1UL << 13));

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va)), E.P | E.Rsvd);
    }

    [Fact]
    public void ExecuteDisabledPte_WithNxe_FaultsFetchWithIdBit()
    {
        var image = new GuestImage(OracleMode.Long4);
        image.Map(Va, 1, Frame | Open | XD);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, nxe: true)), E.P | E.Id);
        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, cpl: 3, nxe: true)), E.P | E.U | E.Id);
    }

    [Fact]
    public void ExecuteDisabledPml4e_WithNxe_ForbidsFetchButNotRead()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | Open);
        image.Or(e[4], XD);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, nxe: true)), E.P | E.Id);
        OracleResult read = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, nxe: true));
        Oracle.Translated(read, Frame | Offset, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A));
    }

    [Fact]
    public void ExecuteDisableBit_WithoutNxe_IsReserved()
    {
        var image = new GuestImage(OracleMode.Long4);
        image.Map(Va, 1, Frame | Open | XD);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va)), E.P | E.Rsvd);
        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va)), E.P | E.Rsvd);
    }

    [Fact]
    public void Fetch_TranslatesWithoutDirty()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, cpl: 3, nxe: true));

        Oracle.Translated(result, Frame | Offset, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A));
    }

    [Fact]
    public void Smep_ForbidsSupervisorFetchFromUserPage()
    {
        var image = new GuestImage(OracleMode.Long4);
        image.Map(Va, 1, Frame | Open);

        // I/D is set because CR4.SMEP is set, even without EFER.NXE.
        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, extraCr4: Cases.Cr4Smep)), E.P | E.Id);
    }

    [Fact]
    public void Smep_AllowsSupervisorFetchFromSupervisorPageAndUserFetch()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | P | RW);
        OracleResult supervisor = Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, extraCr4: Cases.Cr4Smep));
        Oracle.Translated(supervisor, Frame | Offset, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A));

        image.Or(e[1], US);
        OracleResult user = Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, cpl: 3, extraCr4: Cases.Cr4Smep));
        Oracle.Translated(user, Frame | Offset, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A));
    }

    [Fact]
    public void Smap_ForbidsSupervisorDataAccessToUserPageUnlessAc()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | Open);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, extraCr4: Cases.Cr4Smap)), E.P);
        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, extraCr4: Cases.Cr4Smap)), E.P | E.W);

        OracleResult withAc = Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, extraCr4: Cases.Cr4Smap, ac: true));
        Oracle.Translated(withAc, Frame | Offset, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A | D));
    }

    [Fact]
    public void Smap_DoesNotApplyToFetchesOrUserAccesses()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | Open);
        OracleResult fetch = Oracle.Run(image, Cases.For(image, OracleAccess.Fetch, Va, extraCr4: Cases.Cr4Smap));
        OracleResult user = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, cpl: 3, extraCr4: Cases.Cr4Smap));

        OraclePteUpdate[] accessed = [image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A)];
        Oracle.Translated(fetch, Frame | Offset, accessed);
        Oracle.Translated(user, Frame | Offset, accessed);
    }

    [Fact]
    public void Cpl2_IsASupervisorAccess()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | P | RW);

        OracleResult read = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, cpl: 2));

        Oracle.Translated(read, Frame | Offset, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A));
        image.Or(e[1], US);
        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, cpl: 2, extraCr4: Cases.Cr4Smap)), E.P);
    }
}
