using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace ShadowMmu.Benchmarks.Proposed;

/// <summary>
/// NOT the product: a hand-edited copy of the emitted <c>Long4Walker.WalkAddr</c> with the changes this benchmark suite
/// proposes for the generator's template (see RESULTS.md, "What limits the generated walk"), so that their effect is
/// measured rather than guessed. Same semantics, same walk record (checked against the generated walker at setup).
/// Changes against the emitted code, each aimed at something the JIT's disassembly showed:
/// <list type="number">
/// <item><description>one initialisation of the walk record (the emitted <c>Begin</c> + <c>Restart(4)</c> store the same 9 fields twice);</description></item>
/// <item><description>guest memory's base pointer and last 8-byte offset loaded into locals once per walk (emitted: each level reloads
/// <c>_memory</c>, <c>Size</c> twice and <c>_base</c>, because the stores to <c>walk</c> may alias them), one unsigned compare per
/// entry, and no alignment test (an entry address is a 4 KiB-aligned table plus an 8-aligned index: the generator knows it);</description></item>
/// <item><description>each level's entry kept in a local and the A/D flags tested with one AND over them, the compare-exchange slow
/// path out of line (emitted: <c>TrySetFlags</c> per level reloads <c>walk.Ptes</c> and <c>_memory</c>; without PGO the JIT inlines
/// <c>TrySetFlagsSlow</c> at every level; either way <c>level</c>, <c>pageSize</c>, <c>frame</c> and the request bits are spilled
/// to the stack);</description></item>
/// <item><description>the protection-key offset and request bits computed without branches.</description></item>
/// </list>
/// Guest memory's base pointer is read with an unsafe accessor here; the runtime change it stands for is an internal
/// <c>GuestMemory</c> property for the generated walkers (same assembly).
/// </summary>
public sealed unsafe class Long4WalkerProposed
{
    private static ReadOnlySpan<byte> Permissions => new byte[]
    {
            0x00, 0x00, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, // WP=0 SMEP=0 SMAP=0 NXE=0
            0x00, 0x33, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, // WP=1 SMEP=0 SMAP=0 NXE=0
            0x00, 0x00, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0xF0, 0xF0, 0x0F, 0x3F, 0xF0, 0xF0, 0x0F, 0x3F, // WP=0 SMEP=1 SMAP=0 NXE=0
            0x00, 0x33, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0xF0, 0xF3, 0x0F, 0x3F, 0xF0, 0xF3, 0x0F, 0x3F, // WP=1 SMEP=1 SMAP=0 NXE=0
            0xF0, 0xF0, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, // WP=0 SMEP=0 SMAP=1 NXE=0
            0xF0, 0xF3, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, // WP=1 SMEP=0 SMAP=1 NXE=0
            0xF0, 0xF0, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0xF0, 0xF0, 0x0F, 0x3F, 0xF0, 0xF0, 0x0F, 0x3F, // WP=0 SMEP=1 SMAP=1 NXE=0
            0xF0, 0xF3, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0xF0, 0xF3, 0x0F, 0x3F, 0xF0, 0xF3, 0x0F, 0x3F, // WP=1 SMEP=1 SMAP=1 NXE=0
            0x00, 0x00, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0x55, 0x55, 0x5F, 0x7F, 0x55, 0x55, 0x5F, 0x7F, // WP=0 SMEP=0 SMAP=0 NXE=1
            0x00, 0x33, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0x55, 0x77, 0x5F, 0x7F, 0x55, 0x77, 0x5F, 0x7F, // WP=1 SMEP=0 SMAP=0 NXE=1
            0x00, 0x00, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0xF5, 0xF5, 0x5F, 0x7F, 0xF5, 0xF5, 0x5F, 0x7F, // WP=0 SMEP=1 SMAP=0 NXE=1
            0x00, 0x33, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0xF5, 0xF7, 0x5F, 0x7F, 0xF5, 0xF7, 0x5F, 0x7F, // WP=1 SMEP=1 SMAP=0 NXE=1
            0xF0, 0xF0, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0x55, 0x55, 0x5F, 0x7F, 0x55, 0x55, 0x5F, 0x7F, // WP=0 SMEP=0 SMAP=1 NXE=1
            0xF0, 0xF3, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0x55, 0x77, 0x5F, 0x7F, 0x55, 0x77, 0x5F, 0x7F, // WP=1 SMEP=0 SMAP=1 NXE=1
            0xF0, 0xF0, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0xF5, 0xF5, 0x5F, 0x7F, 0xF5, 0xF5, 0x5F, 0x7F, // WP=0 SMEP=1 SMAP=1 NXE=1
            0xF0, 0xF3, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0xF5, 0xF7, 0x5F, 0x7F, 0xF5, 0xF7, 0x5F, 0x7F, // WP=1 SMEP=1 SMAP=1 NXE=1
    };

    private readonly GuestMemory _memory;
    private readonly ulong _root;
    private readonly ulong _pml4eReserved, _pdpteReserved, _pdptePageReserved, _pdeReserved, _pdePageReserved, _pteReserved;
    private readonly ulong _executeDisable;
    private readonly int _permissionRow;
    private readonly uint _fetchErrorCode;
    private readonly uint _pkruMask;
    private readonly uint _pkru;
    private readonly int _keyMask;

    public Long4WalkerProposed(GuestMemory memory, in CpuState cpu)
    {
        // The same values the emitted constructor computes (long4.paging, MAXPHYADDR and the CPU's conditions).
        _memory = memory;
        _root = cpu.Cr3 & 0xF_FFFF_FFFF_F000UL;
        bool nx = (cpu.Efer & Efer.NXE) != 0;
        bool page1G = (cpu.Features & CpuFeatures.Page1Gb) != 0;
        ulong high = PhysicalAddressBits.AtOrAbove(cpu.MaxPhysAddr, 0xF_FFFF_FFFF_F000UL, 0);
        ulong xd = nx ? 0 : 0x8000_0000_0000_0000UL;
        _pml4eReserved = xd | 0x80 | high;
        _pdpteReserved = xd | high;
        _pdptePageReserved = xd | (page1G ? 0x3FFF_E000UL : 0x3FFF_E080UL) | PhysicalAddressBits.AtOrAbove(cpu.MaxPhysAddr, 0xF_FFFF_C000_0000UL, 0);
        _pdeReserved = xd | high;
        _pdePageReserved = xd | 0x1F_E000UL | PhysicalAddressBits.AtOrAbove(cpu.MaxPhysAddr, 0xF_FFFF_FFE0_0000UL, 0);
        _pteReserved = xd | high;
        _executeDisable = nx ? 0x8000_0000_0000_0000UL : 0;
        bool smep = (cpu.Cr4 & Cr4.SMEP) != 0;
        bool wp = (cpu.Cr0 & Cr0.WP) != 0;
        _permissionRow = 16 * ((wp ? 1 : 0) | (smep ? 2 : 0) | ((cpu.Cr4 & Cr4.SMAP) != 0 ? 4 : 0) | (nx ? 8 : 0));
        _fetchErrorCode = nx || smep ? PageFaultErrorCode.Fetch : 0;
        _pkruMask = cpu.Test(PagingCondition.Cr4Pke) ? (wp ? 0xDD00U : 0xD500U) : 0;
        _pkru = cpu.Pkru;
        _keyMask = _pkruMask != 0 ? 0xF : 0;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_base")]
    private static extern ref byte* BaseOf(GuestMemory memory);

    public bool WalkAddr(ref GuestWalk walk, ulong va, AccessKind kind, int cpl, bool ac)
    {
        walk.Va = va;
        walk.UpdateCount = 0;
        if (((long)va << 16 >> 16) != (long)va)
        {
            walk.Restart(0);
            return walk.GeneralProtection();
        }

        int write = kind == AccessKind.Write ? 1 : 0;
        int fetch = kind == AccessKind.Fetch ? 1 : 0;
        int user = cpl == 3 ? 1 : 0;
        int request = _permissionRow | write | (user << 1) | ((ac ? 1 : 0) & (user ^ 1)) << 2 | (fetch << 3);
        uint faultBits = (uint)((write << 1) | (user << 2)) | (fetch != 0 ? _fetchErrorCode : 0);
        int pkRequest = (write << 1) | (user << 2) | (fetch << 4);
        const uint reservedFault = PageFaultErrorCode.Present | PageFaultErrorCode.Reserved;
        GuestMemory memory = _memory;
        byte* b = BaseOf(memory);
        ulong last = memory.Size - 8;
        ulong table, gpa, pte, frame, pageSize, pte4, pte3, pte2, pte1;
        uint access;
        int level;

    Retry:
        walk.Restart(4);
        access = AccessRights.All;
        table = _root;
        pte3 = pte2 = pte1 = ulong.MaxValue;

        gpa = table + ((va >> 36) & 0xFF8U);
        if (gpa > last)
        {
            return walk.OutsideMemory(4, table, gpa, faultBits);
        }

        pte = pte4 = Volatile.Read(ref *(ulong*)(b + gpa));
        walk.Record(4, table, gpa, pte, access);
        access &= (((uint)pte & 6) | AccessRights.Execute) & ~(uint)((pte & _executeDisable) >> 63);
        if ((pte & 1) == 0)
        {
            return walk.PageFault(4, faultBits);
        }

        if ((pte & _pml4eReserved) != 0)
        {
            return walk.PageFault(4, faultBits | reservedFault);
        }

        table = pte & 0xF_FFFF_FFFF_F000UL;
        gpa = table + ((va >> 27) & 0xFF8U);
        if (gpa > last)
        {
            return walk.OutsideMemory(3, table, gpa, faultBits);
        }

        pte = pte3 = Volatile.Read(ref *(ulong*)(b + gpa));
        walk.Record(3, table, gpa, pte, access);
        access &= (((uint)pte & 6) | AccessRights.Execute) & ~(uint)((pte & _executeDisable) >> 63);
        if ((pte & 1) == 0)
        {
            return walk.PageFault(3, faultBits);
        }

        if ((pte & 0x80U) != 0)
        {
            if ((pte & _pdptePageReserved) != 0)
            {
                return walk.PageFault(3, faultBits | reservedFault);
            }

            level = 3;
            pageSize = 0x4000_0000U;
            frame = pte & 0xF_FFFF_C000_0000UL;
            goto Leaf;
        }

        if ((pte & _pdpteReserved) != 0)
        {
            return walk.PageFault(3, faultBits | reservedFault);
        }

        table = pte & 0xF_FFFF_FFFF_F000UL;
        gpa = table + ((va >> 18) & 0xFF8U);
        if (gpa > last)
        {
            return walk.OutsideMemory(2, table, gpa, faultBits);
        }

        pte = pte2 = Volatile.Read(ref *(ulong*)(b + gpa));
        walk.Record(2, table, gpa, pte, access);
        access &= (((uint)pte & 6) | AccessRights.Execute) & ~(uint)((pte & _executeDisable) >> 63);
        if ((pte & 1) == 0)
        {
            return walk.PageFault(2, faultBits);
        }

        if ((pte & 0x80U) != 0)
        {
            if ((pte & _pdePageReserved) != 0)
            {
                return walk.PageFault(2, faultBits | reservedFault);
            }

            level = 2;
            pageSize = 0x20_0000U;
            frame = pte & 0xF_FFFF_FFE0_0000UL;
            goto Leaf;
        }

        if ((pte & _pdeReserved) != 0)
        {
            return walk.PageFault(2, faultBits | reservedFault);
        }

        table = pte & 0xF_FFFF_FFFF_F000UL;
        gpa = table + ((va >> 9) & 0xFF8U);
        if (gpa > last)
        {
            return walk.OutsideMemory(1, table, gpa, faultBits);
        }

        pte = pte1 = Volatile.Read(ref *(ulong*)(b + gpa));
        walk.Record(1, table, gpa, pte, access);
        access &= (((uint)pte & 6) | AccessRights.Execute) & ~(uint)((pte & _executeDisable) >> 63);
        if ((pte & 1) == 0)
        {
            return walk.PageFault(1, faultBits);
        }

        if ((pte & _pteReserved) != 0)
        {
            return walk.PageFault(1, faultBits | reservedFault);
        }

        level = 1;
        pageSize = 0x1000U;
        frame = pte & 0xF_FFFF_FFFF_F000UL;

    Leaf:
        uint fault = (uint)(Permissions[request & 0xFF] >> (int)access) & 1;
        int key = (int)(pte >> 59) & _keyMask;
        int pkOffset = pkRequest | (int)((access & AccessRights.User) << 1);
        uint pkBits = (_pkru >> (key * 2)) & 3 & (_pkruMask >> pkOffset);
        uint pkFault = pkBits != 0 ? PageFaultErrorCode.ProtectionKey : 0;
        if ((fault | pkFault) != 0)
        {
            return walk.PageFault(level, faultBits | PageFaultErrorCode.Present | pkFault);
        }

        // A on every level read, D on the leaf for a write: one test for the whole walk; levels not read are all ones.
        if ((pte4 & pte3 & pte2 & pte1 & 0x20) == 0 || (write != 0 && (pte & 0x40) == 0))
        {
            if (!SetAccessedDirty(memory, ref walk, level, write != 0))
            {
                goto Retry;
            }
        }

        return walk.Translated(level, frame | (va & (pageSize - 1)), pageSize, access, key);
    }

    /// <summary>The emitted A/D sequence, unchanged, out of line: taken only when a flag is missing.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool SetAccessedDirty(GuestMemory memory, ref GuestWalk walk, int level, bool write) =>
        walk.TrySetFlags(memory, 4, 0x20U, 8)
        && walk.TrySetFlags(memory, 3, level == 3 && write ? 0x60U : 0x20U, 8)
        && (level > 2 || walk.TrySetFlags(memory, 2, level == 2 && write ? 0x60U : 0x20U, 8))
        && (level != 1 || walk.TrySetFlags(memory, 1, write ? 0x60U : 0x20U, 8));
}
