using ShadowMmu.Oracle;
using Xunit;
using static ShadowMmu.Oracle.Tests.GuestImage;
using E = ShadowMmu.Oracle.Tests.ErrorCodes;

namespace ShadowMmu.Oracle.Tests;

/// <summary>
/// Where QEMU 5.0 (Unicorn 2.0.1) departs from the SDM, or fixes what the SDM leaves open. Each test asserts
/// QEMU's observed behaviour and says what the SDM would do; README.md lists the same differences.
/// </summary>
public sealed class QemuDifferenceTests
{
    private const ulong PaeVa = 0x4012_3678;
    private const ulong PaeFrame = 0x8765_4000;
    private const ulong Va = 0x0000_0080_1234_5678;
    private const ulong Frame = 0x4567_8000;

    [Fact]
    public void QemuDifference_PaePdpteReservedBits2To1And8To5_AreIgnored()
    {
        // SDM: a present PDPTE with bits 2:1 or 8:5 set makes the MOV to CR3 fail with #GP(0); the walk never runs.
        var image = new GuestImage(OracleMode.Pae);
        ulong[] e = image.Map(PaeVa, 1, PaeFrame | Open);
        image.Or(e[3], RW | US | A | D | PS | (1UL << 8));

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, PaeVa, cpl: 3));

        Oracle.Translated(result, PaeFrame | 0x678, image.Sets(e[2], A), image.Sets(e[1], A));
    }

    [Theory]
    [InlineData(63, false)]
    [InlineData(63, true)]
    [InlineData(51, true)]
    public void QemuDifference_PaePdpteHighReservedBit_IsRsvdPageFaultAtWalk(int bit, bool nxe)
    {
        // SDM: #GP(0) at the MOV to CR3 (bits 63:MAXPHYADDR are reserved in a PDPTE, XD included).
        var image = new GuestImage(OracleMode.Pae);
        ulong[] e = image.Map(PaeVa, 1, PaeFrame | Open);
        image.Or(e[3], 1UL << bit);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, PaeVa, nxe: nxe)), E.P | E.Rsvd);
    }

    [Fact]
    public void QemuDifference_PaePdpteIsReadFromMemoryOnEveryWalk()
    {
        // SDM: the walk uses the PDPTE registers loaded at MOV to CR3. QEMU has no such registers: the case's
        // image is what the PDPTE register would hold, so a not-present PDPTE in memory faults with P = 0.
        var image = new GuestImage(OracleMode.Pae);
        ulong[] e = image.Map(PaeVa, 1, PaeFrame | Open);
        image.Clear(e[3], P);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, PaeVa)), 0);
    }

    [Fact]
    public void QemuDifference_FaultingWalk_SetsAccessedInUpperLevelsButNotInTheLeaf()
    {
        // SDM: unspecified for a walk that faults (KVM sets nothing). QEMU sets A in each non-leaf entry as it
        // passes it, and sets no A (or D) in the leaf it rejects.
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | P | US);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Write, Va, cpl: 3));

        Oracle.PageFault(result, E.P | E.W | E.U);
        Oracle.Updates(result, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A));
    }

    [Fact]
    public void QemuDifference_NotPresentLeaf_UpperLevelsAlreadyAccessed()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 1, Frame | RW | US);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va));

        Oracle.PageFault(result, 0);
        Oracle.Updates(result, image.Sets(e[4], A), image.Sets(e[3], A), image.Sets(e[2], A));
    }

    [Fact]
    public void QemuDifference_1GiBPage_GetsAccessedEvenWhenTheAccessFaults()
    {
        // QEMU sets A in a long-mode PDPTE before it looks at PS, so a 1 GiB leaf is marked accessed even
        // though the user read of this supervisor page faults.
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 3, 0x4000_0000 | PS | P | RW);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va, cpl: 3));

        Oracle.PageFault(result, E.P | E.U);
        Oracle.Updates(result, image.Sets(e[4], A), image.Sets(e[3], A));
    }

    [Fact]
    public void QemuDifference_1GiBPageWithReservedBit_GetsAccessedToo()
    {
        var image = new GuestImage(OracleMode.Long4);
        ulong[] e = image.Map(Va, 3, 0x4000_0000 | (1UL << 13) | PS | Open);

        OracleResult result = Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va));

        Oracle.PageFault(result, E.P | E.Rsvd);
        Oracle.Updates(result, image.Sets(e[4], A), image.Sets(e[3], A));
    }

    [Fact]
    public void QemuDifference_MaxPhyAddrIsFixedAt40_AddressBit40IsReserved()
    {
        // SDM: bits 51:MAXPHYADDR are reserved. QEMU's TCG checks bits 51:40 whatever the CPU model; a CPU
        // with MAXPHYADDR > 40 would translate this entry to physical 0x100_4567_8678.
        var image = new GuestImage(OracleMode.Long4);
        image.Map(Va, 1, Frame | (1UL << 40) | Open);

        Oracle.PageFault(Oracle.Run(image, Cases.For(image, OracleAccess.Read, Va)), E.P | E.Rsvd);
    }
}
