using ShadowMmu.Oracle;
using Xunit;
using static ShadowMmu.Oracle.Tests.GuestImage;
using E = ShadowMmu.Oracle.Tests.ErrorCodes;

namespace ShadowMmu.Oracle.Tests;

/// <summary>
/// Protection keys (SDM vol. 3A, "Protection Keys"): IA-32e paging only, key = leaf bits 62:59, PKRU bit 2k =
/// access-disable, 2k+1 = write-disable; data accesses to user-mode addresses only; WD binds supervisor
/// writes only with CR0.WP.
/// </summary>
public sealed class ProtectionKeyTests
{
    private const ulong Va = 0x0000_0080_1234_5678;
    private const ulong Frame = 0x4567_8000;
    private const ulong Key1 = 1UL << 59;
    private const uint AccessDisable1 = 1U << 2;
    private const uint WriteDisable1 = 1U << 3;

    [Fact]
    public void AccessDisable_FaultsUserAndSupervisorDataAccessesWithPk()
    {
        var image = new GuestImage(OracleMode.Long4);
        image.Map(Va, 1, Frame | Open | Key1);

        Oracle.PageFault(Run(image, OracleAccess.Read, 3, AccessDisable1), E.P | E.U | E.Pk);
        Oracle.PageFault(Run(image, OracleAccess.Write, 3, AccessDisable1), E.P | E.W | E.U | E.Pk);
        Oracle.PageFault(Run(image, OracleAccess.Read, 0, AccessDisable1), E.P | E.Pk);
    }

    [Fact]
    public void AccessDisable_DoesNotApplyToFetches()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | Open | Key1);

        Oracle.Translated(Run(image, OracleAccess.Fetch, 3, AccessDisable1), Frame | 0x678, Accessed(image, e));
    }

    [Fact]
    public void AccessDisable_OfAnotherKey_DoesNotApply()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | Open); // key 0

        Oracle.Translated(Run(image, OracleAccess.Read, 3, AccessDisable1), Frame | 0x678, Accessed(image, e));
    }

    [Fact]
    public void Keys_DoNotApplyToSupervisorPages()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | P | RW | Key1);

        Oracle.Translated(Run(image, OracleAccess.Read, 0, AccessDisable1), Frame | 0x678, Accessed(image, e));
    }

    [Fact]
    public void WriteDisable_FaultsWritesButNotReads()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | Open | Key1);

        Oracle.PageFault(Run(image, OracleAccess.Write, 3, WriteDisable1), E.P | E.W | E.U | E.Pk);
        Oracle.Translated(Run(image, OracleAccess.Read, 3, WriteDisable1), Frame | 0x678, Accessed(image, e));
    }

    [Fact]
    public void WriteDisable_BindsSupervisorWritesOnlyWithWp()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | Open | Key1);

        Oracle.PageFault(Run(image, OracleAccess.Write, 0, WriteDisable1, wp: true), E.P | E.W | E.Pk);
        OracleResult noWp = Run(image, OracleAccess.Write, 0, WriteDisable1, wp: false);
        Oracle.Translated(noWp, Frame | 0x678, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A | D));
    }

    [Fact]
    public void PkAndReadOnly_BothReported()
    {
        var image = new GuestImage(OracleMode.Long4);
        image.Map(Va, 1, Frame | P | US | Key1);

        Oracle.PageFault(Run(image, OracleAccess.Write, 3, WriteDisable1), E.P | E.W | E.U | E.Pk);
    }

    [Fact]
    public void Keys_DoNotApplyInPaePaging()
    {
        // Bits 62:59 are reserved in PAE entries, so the page has key 0; PKRU = 1 disables access for key 0.
        const ulong va = 0x4012_3678;
        var image = new GuestImage(OracleMode.Pae);
        ulong[] e = image.Map(va, 1, 0x8765_4000 | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, va, cpl: 3, extraCr4: Cases.Cr4Pke, pkru: 1));

        Oracle.Translated(result, 0x8765_4678, image.Sets(e[2], A), image.Sets(e[1], A));
    }

    private static OracleResult Run(GuestImage image, OracleAccess access, int cpl, uint pkru, bool wp = true) =>
        Oracle.Run(image, Cases.For(image, access, Va, cpl: cpl, wp: wp, nxe: true, extraCr4: Cases.Cr4Pke, pkru: pkru));

    private static OraclePteUpdate[] Accessed(GuestImage image, ulong[] e) =>
        [image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A), image.Sets(e[1], A)];
}
