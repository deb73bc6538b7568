using ShadowMmu.Oracle;
using Xunit;
using static ShadowMmu.Oracle.Tests.GuestImage;

namespace ShadowMmu.Oracle.Tests;

/// <summary>
/// Final pages inside the image: the access completes, and the harness learns the PA by rerunning with only
/// the walk's table pages mapped in the nested tables.
/// </summary>
public sealed class PhysicalAddressProbeTests
{
    private const ulong Va = 0x0000_0080_1234_5678;

    [Theory]
    [InlineData(OracleAccess.Read)]
    [InlineData(OracleAccess.Write)]
    [InlineData(OracleAccess.Fetch)]
    public void FrameInsideImage_IsFoundByTheProbe(OracleAccess access)
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong data = image.AllocPage();
        ulong[] e = image.Map(Va, 1, data | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, access, Va, cpl: 3, nxe: true));

        ulong leafBits = access == OracleAccess.Write ? A | D : A;
        Oracle.Translated(result, data | 0x678, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], leafBits));
    }

    [Fact]
    public void LargePageOverTheImage_PaIsExact()
    {
        // A 2 MiB page at physical 0 covers the whole image; the VA's offset lands on a page no table uses.
        const ulong va = 0x0000_0080_1220_0000 | 0xF_E678;
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(va, 2, 0 | PS | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, va));

        Oracle.Translated(result, 0xF_E678, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A));
    }

    [Fact]
    public void LeafPointingAtItsOwnPageTable_PaIsUnobservable()
    {
        // The SDM answer is PT | 0x678, but that page is one of the walk's paging structures, so no nested
        // mapping can tell the final access from the walk's own read of it.
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, 0);
        ulong pageTable = e[1] & ~0xFFFUL;
        image.Write(e[1], pageTable | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va));

        Oracle.Translated(result, null, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A));
    }

    [Fact]
    public void Legacy32LeafPointingAtThePageDirectory_PaIsUnobservable()
    {
        const ulong va = 0x4012_3678;
        var image = new GuestImage(OracleMode.Legacy32);
        ulong[] e = image.Map(va, 1, image.Cr3 | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Write, va));

        Oracle.Translated(result, null, image.Sets(e[2], A), image.Sets(e[1], A | D));
    }
}
