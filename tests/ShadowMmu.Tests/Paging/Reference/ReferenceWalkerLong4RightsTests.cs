using Xunit;
using static ShadowMmu.Tests.Paging.Reference.Long4Tables;
using static ShadowMmu.Tests.Paging.Reference.ReferenceWalkerHarness;

namespace ShadowMmu.Tests.Paging.Reference;

/// <summary>
/// 4-level paging: access rights (SDM Vol. 3A "Access Rights"), SMEP, SMAP and protection keys, with the error codes
/// the SDM's "Page-Fault Error Code" gives: P = 1, W/R = 2, U/S = 4, RSVD = 8, I/D = 0x10, PK = 0x20.
/// </summary>
public sealed class ReferenceWalkerLong4RightsTests
{
    private const ulong SupervisorPte = UserPte & ~US;
    private const ulong ReadOnlyPte = UserPte & ~RW;
    private const ulong NoExecutePte = UserPte | XD;

    // The key field of a leaf: bits 62:59.
    private const ulong Key5 = 5UL << 59;

    // PKRU: AD of key k is bit 2k, WD bit 2k + 1.
    private const uint Key5AccessDisable = 1u << 10;
    private const uint Key5WriteDisable = 1u << 11;

    [Theory]
    // User-mode accesses need U/S = 1; supervisor ones do not.
    [InlineData(SupervisorPte, AccessKind.Read, 3, 0x5u)]
    [InlineData(SupervisorPte, AccessKind.Write, 3, 0x7u)]
    [InlineData(SupervisorPte, AccessKind.Fetch, 3, 0x15u)]
    [InlineData(SupervisorPte, AccessKind.Read, 0, 0u)]
    [InlineData(SupervisorPte, AccessKind.Write, 0, 0u)]
    // Writes need R/W = 1: user-mode always, supervisor-mode with CR0.WP = 1 (this CPU state).
    [InlineData(ReadOnlyPte, AccessKind.Write, 3, 0x7u)]
    [InlineData(ReadOnlyPte, AccessKind.Write, 0, 0x3u)]
    [InlineData(ReadOnlyPte, AccessKind.Read, 3, 0u)]
    // XD = 1 with EFER.NXE = 1: fetches fault, with I/D; data accesses do not.
    [InlineData(NoExecutePte, AccessKind.Fetch, 0, 0x11u)]
    [InlineData(NoExecutePte, AccessKind.Fetch, 3, 0x15u)]
    [InlineData(NoExecutePte, AccessKind.Write, 3, 0u)]
    [InlineData(UserPte, AccessKind.Fetch, 3, 0u)]
    [InlineData(UserPte, AccessKind.Fetch, 0, 0u)]
    public void LeafRights(ulong pte, AccessKind kind, int cpl, uint errorCode)
    {
        using GuestMemory memory = Build(pte: pte);
        var walker = Walker("long4", memory, Cpu());

        bool translated = Run(walker, Va4K, out GuestWalk walk, kind, cpl);
        Assert.Equal(errorCode == 0, translated);
        Assert.Equal(errorCode, walk.ErrorCode);
    }

    [Theory]
    [InlineData(true, 0, 0x3u)]
    // CR0.WP = 0: supervisor-mode writes ignore R/W.
    [InlineData(false, 0, 0u)]
    // ... but user-mode writes never do.
    [InlineData(false, 3, 0x7u)]
    public void WriteProtect(bool wp, int cpl, uint errorCode)
    {
        using GuestMemory memory = Build(pte: ReadOnlyPte);
        var walker = Walker("long4", memory, Cpu(wp: wp));

        bool translated = Run(walker, Va4K, out GuestWalk walk, AccessKind.Write, cpl);
        Assert.Equal(errorCode == 0, translated);
        Assert.Equal(errorCode, walk.ErrorCode);
        if (translated)
        {
            // The write went through: D is set although the page is read-only.
            Assert.Equal(ReadOnlyPte | A | D, memory.ReadEntry(PteGpa, 8));
            Assert.Equal(5u, walk.PteAccess); // U | X
        }
    }

    [Fact]
    public void RightsAccumulateOverTheLevels()
    {
        // R/W = 0 in the PDE and XD = 1 in the PML4E restrict the whole translation.
        using GuestMemory memory = Build(pde: Pt | P | US, pml4e: Pdpt | P | RW | US | XD);
        var walker = Walker("long4", memory, Cpu());

        Assert.True(Run(walker, Va4K, out GuestWalk walk));
        Assert.Equal(4u, walk.PteAccess); // U only

        // Inherited rights, [level - 1]: the PML4E starts with all, the PDPTE inherits the PML4E's loss of X,
        // the PTE also the PDE's loss of W.
        Assert.Equal(7, walk.PtAccess[3]);
        Assert.Equal(6, walk.PtAccess[2]);
        Assert.Equal(6, walk.PtAccess[1]);
        Assert.Equal(4, walk.PtAccess[0]);

        Assert.False(Run(walker, Va4K, out walk, AccessKind.Write, cpl: 3));
        Assert.Equal(0x7u, walk.ErrorCode);
        Assert.False(Run(walker, Va4K, out walk, AccessKind.Fetch, cpl: 3));
        Assert.Equal(0x15u, walk.ErrorCode);
    }

    [Fact]
    public void WithoutNxe_XdIsNotARight()
    {
        using GuestMemory memory = Build();
        var walker = Walker("long4", memory, Cpu(nxe: false));

        // A not-present fault on a fetch has no I/D without NXE and SMEP.
        memory.WriteUInt64(PteGpa, UserPte & ~P);
        Assert.False(Run(walker, Va4K, out GuestWalk walk, AccessKind.Fetch, cpl: 3));
        Assert.Equal(0x4u, walk.ErrorCode);

        memory.WriteUInt64(PteGpa, UserPte);
        Assert.True(Run(walker, Va4K, out walk, AccessKind.Fetch, cpl: 3));
        Assert.Equal(7u, walk.PteAccess);
    }

    [Theory]
    // SMEP: supervisor-mode fetches from user-mode addresses fault, with I/D.
    [InlineData(Cr4SMEP, AccessKind.Fetch, 0, false, 0x11u)]
    [InlineData(Cr4SMEP, AccessKind.Fetch, 3, false, 0u)]
    [InlineData(Cr4SMEP, AccessKind.Read, 0, false, 0u)]
    [InlineData(0UL, AccessKind.Fetch, 0, false, 0u)]
    // SMAP: supervisor-mode data accesses to user-mode addresses fault unless EFLAGS.AC = 1.
    [InlineData(Cr4SMAP, AccessKind.Read, 0, false, 0x1u)]
    [InlineData(Cr4SMAP, AccessKind.Write, 0, false, 0x3u)]
    [InlineData(Cr4SMAP, AccessKind.Read, 0, true, 0u)]
    [InlineData(Cr4SMAP, AccessKind.Write, 0, true, 0u)]
    [InlineData(Cr4SMAP, AccessKind.Fetch, 0, false, 0u)]
    [InlineData(Cr4SMAP, AccessKind.Read, 3, false, 0u)]
    [InlineData(0UL, AccessKind.Read, 0, false, 0u)]
    public void SmepAndSmap_OnAUserPage(ulong cr4, AccessKind kind, int cpl, bool ac, uint errorCode)
    {
        using GuestMemory memory = Build();
        var walker = Walker("long4", memory, Cpu(cr4Extra: cr4));

        bool translated = Run(walker, Va4K, out GuestWalk walk, kind, cpl, ac);
        Assert.Equal(errorCode == 0, translated);
        Assert.Equal(errorCode, walk.ErrorCode);
    }

    [Fact]
    public void SmepAndSmap_LeaveSupervisorPagesAlone()
    {
        using GuestMemory memory = Build(pte: SupervisorPte);
        var walker = Walker("long4", memory, Cpu(cr4Extra: Cr4SMEP | Cr4SMAP));

        Assert.True(Run(walker, Va4K, out _, AccessKind.Fetch));
        Assert.True(Run(walker, Va4K, out _, AccessKind.Write));
    }

    [Fact]
    public void Smep_SetsIdOnANotPresentFetch_EvenWithoutNxe()
    {
        using GuestMemory memory = Build(pte: UserPte & ~P);
        var walker = Walker("long4", memory, Cpu(cr4Extra: Cr4SMEP, nxe: false));

        Assert.False(Run(walker, Va4K, out GuestWalk walk, AccessKind.Fetch));
        Assert.Equal(0x10u, walk.ErrorCode);
    }

    [Theory]
    // AD: reads and writes to the key's user pages fault, in user and supervisor mode; fetches never check keys.
    [InlineData(Key5AccessDisable, true, AccessKind.Read, 3, 0x25u)]
    [InlineData(Key5AccessDisable, true, AccessKind.Write, 3, 0x27u)]
    [InlineData(Key5AccessDisable, true, AccessKind.Read, 0, 0x21u)]
    [InlineData(Key5AccessDisable, true, AccessKind.Fetch, 3, 0u)]
    // WD: writes fault in user mode, and in supervisor mode with CR0.WP = 1; reads do not.
    [InlineData(Key5WriteDisable, true, AccessKind.Read, 3, 0u)]
    [InlineData(Key5WriteDisable, true, AccessKind.Write, 3, 0x27u)]
    [InlineData(Key5WriteDisable, true, AccessKind.Write, 0, 0x23u)]
    [InlineData(Key5WriteDisable, false, AccessKind.Write, 0, 0u)]
    [InlineData(Key5WriteDisable, false, AccessKind.Write, 3, 0x27u)]
    // Another key's bits do not matter.
    [InlineData(0xFFFF_F0FFu, true, AccessKind.Write, 3, 0u)]
    public void ProtectionKeys_OnAUserPage(uint pkru, bool wp, AccessKind kind, int cpl, uint errorCode)
    {
        using GuestMemory memory = Build(pte: UserPte | Key5);
        var walker = Walker("long4", memory, Cpu(cr4Extra: Cr4PKE, pkru: pkru, wp: wp));

        bool translated = Run(walker, Va4K, out GuestWalk walk, kind, cpl);
        Assert.Equal(errorCode == 0, translated);
        Assert.Equal(errorCode, walk.ErrorCode);
        if (translated)
        {
            Assert.Equal(5, walk.ProtectionKey);
        }
    }

    [Fact]
    public void ProtectionKeyFault_CombinesWithARightsFault()
    {
        using GuestMemory memory = Build(pte: ReadOnlyPte | Key5);
        var walker = Walker("long4", memory, Cpu(cr4Extra: Cr4PKE, pkru: Key5WriteDisable));

        Assert.False(Run(walker, Va4K, out GuestWalk walk, AccessKind.Write, cpl: 3));
        Assert.Equal(0x27u, walk.ErrorCode); // P | W | U | PK
    }

    [Fact]
    public void ProtectionKeys_LeaveSupervisorPagesAlone()
    {
        using GuestMemory memory = Build(pte: SupervisorPte | Key5);
        var walker = Walker("long4", memory, Cpu(cr4Extra: Cr4PKE, pkru: Key5AccessDisable | Key5WriteDisable));

        Assert.True(Run(walker, Va4K, out _, AccessKind.Write));
    }

    [Fact]
    public void WithoutCr4Pke_TheKeyFieldIsIgnored()
    {
        using GuestMemory memory = Build(pte: UserPte | Key5);
        var walker = Walker("long4", memory, Cpu(pkru: Key5AccessDisable));

        Assert.True(Run(walker, Va4K, out GuestWalk walk, AccessKind.Write, cpl: 3));
        Assert.Equal(0, walk.ProtectionKey);
    }
}
