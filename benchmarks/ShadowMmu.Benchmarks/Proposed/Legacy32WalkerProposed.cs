using System;
using System.Runtime.CompilerServices;
using System.Threading;

namespace ShadowMmu.Benchmarks.Proposed;

/// <summary>
/// NOT the product: the emitted <c>Legacy32Walker.WalkAddr</c> with the same proposed changes as
/// <see cref="Long4WalkerProposed"/> (one record initialisation, hoisted memory base and bound, one compare per entry,
/// entries in locals with one A/D test and the compare-exchange out of line). Checked against the generated walker at setup.
/// </summary>
public sealed unsafe class Legacy32WalkerProposed
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
            0x00, 0x00, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, // WP=0 SMEP=0 SMAP=0 NXE=1
            0x00, 0x33, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, // WP=1 SMEP=0 SMAP=0 NXE=1
            0x00, 0x00, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0xF0, 0xF0, 0x0F, 0x3F, 0xF0, 0xF0, 0x0F, 0x3F, // WP=0 SMEP=1 SMAP=0 NXE=1
            0x00, 0x33, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0xF0, 0xF3, 0x0F, 0x3F, 0xF0, 0xF3, 0x0F, 0x3F, // WP=1 SMEP=1 SMAP=0 NXE=1
            0xF0, 0xF0, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, // WP=0 SMEP=0 SMAP=1 NXE=1
            0xF0, 0xF3, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, // WP=1 SMEP=0 SMAP=1 NXE=1
            0xF0, 0xF0, 0x0F, 0x3F, 0x00, 0x00, 0x0F, 0x3F, 0xF0, 0xF0, 0x0F, 0x3F, 0xF0, 0xF0, 0x0F, 0x3F, // WP=0 SMEP=1 SMAP=1 NXE=1
            0xF0, 0xF3, 0x0F, 0x3F, 0x00, 0x33, 0x0F, 0x3F, 0xF0, 0xF3, 0x0F, 0x3F, 0xF0, 0xF3, 0x0F, 0x3F, // WP=1 SMEP=1 SMAP=1 NXE=1
    };

    private readonly GuestMemory _memory;
    private readonly ulong _root;
    private readonly ulong _pdeReserved, _pdePageReserved, _pteReserved;
    private readonly bool _pdeMapsPages;
    private readonly int _permissionRow;
    private readonly uint _fetchErrorCode;

    public Legacy32WalkerProposed(GuestMemory memory, in CpuState cpu)
    {
        // The same values the emitted constructor computes.
        _memory = memory;
        _root = cpu.Cr3 & 0xFFFF_F000U;
        int maxPhysAddr = cpu.MaxPhysAddr;
        bool pse36 = (cpu.Features & CpuFeatures.Pse36) != 0;
        _pdeReserved = PhysicalAddressBits.AtOrAbove(maxPhysAddr, 0xFFFF_F000U, 0);
        _pdePageReserved = (pse36 ? 0x20_0000UL : 0x3F_E000UL) | PhysicalAddressBits.AtOrAbove(maxPhysAddr, 0xFFC0_0000U, 0)
            | PhysicalAddressBits.AtOrAbove(maxPhysAddr, 0x1F_E000U, 19);
        _pteReserved = PhysicalAddressBits.AtOrAbove(maxPhysAddr, 0xFFFF_F000U, 0);
        _pdeMapsPages = (cpu.Cr4 & Cr4.PSE) != 0;
        bool smep = (cpu.Cr4 & Cr4.SMEP) != 0;
        bool wp = (cpu.Cr0 & Cr0.WP) != 0;
        _permissionRow = 16 * ((wp ? 1 : 0) | (smep ? 2 : 0) | ((cpu.Cr4 & Cr4.SMAP) != 0 ? 4 : 0));
        _fetchErrorCode = smep ? PageFaultErrorCode.Fetch : 0;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_base")]
    private static extern ref byte* BaseOf(GuestMemory memory);

    public bool WalkAddr(ref GuestWalk walk, ulong va, AccessKind kind, int cpl, bool ac)
    {
        va &= 0xFFFF_FFFFU;
        walk.Va = va;
        walk.UpdateCount = 0;
        int write = kind == AccessKind.Write ? 1 : 0;
        int fetch = kind == AccessKind.Fetch ? 1 : 0;
        int user = cpl == 3 ? 1 : 0;
        int request = _permissionRow | write | (user << 1) | ((ac ? 1 : 0) & (user ^ 1)) << 2 | (fetch << 3);
        uint faultBits = (uint)((write << 1) | (user << 2)) | (fetch != 0 ? _fetchErrorCode : 0);
        const uint reservedFault = PageFaultErrorCode.Present | PageFaultErrorCode.Reserved;
        GuestMemory memory = _memory;
        byte* b = BaseOf(memory);
        ulong last = memory.Size - 4;
        ulong table, gpa, pte, frame, pageSize, pte2, pte1;
        uint access;
        int level;

    Retry:
        walk.Restart(2);
        access = AccessRights.All;
        table = _root;
        pte1 = ulong.MaxValue;

        gpa = table + ((va >> 20) & 0xFFCU);
        if (gpa > last)
        {
            return walk.OutsideMemory(2, table, gpa, faultBits);
        }

        pte = pte2 = Volatile.Read(ref *(uint*)(b + gpa));
        walk.Record(2, table, gpa, pte, access);
        access &= ((uint)pte & 6) | AccessRights.Execute;
        if ((pte & 1) == 0)
        {
            return walk.PageFault(2, faultBits);
        }

        if ((pte & 0x80U) != 0 && _pdeMapsPages)
        {
            if ((pte & _pdePageReserved) != 0)
            {
                return walk.PageFault(2, faultBits | reservedFault);
            }

            level = 2;
            pageSize = 0x40_0000U;
            frame = (pte & 0xFFC0_0000U) | ((pte & 0x1F_E000U) << 19);
            goto Leaf;
        }

        if ((pte & _pdeReserved) != 0)
        {
            return walk.PageFault(2, faultBits | reservedFault);
        }

        table = pte & 0xFFFF_F000U;
        gpa = table + ((va >> 10) & 0xFFCU);
        if (gpa > last)
        {
            return walk.OutsideMemory(1, table, gpa, faultBits);
        }

        pte = pte1 = Volatile.Read(ref *(uint*)(b + gpa));
        walk.Record(1, table, gpa, pte, access);
        access &= ((uint)pte & 6) | AccessRights.Execute;
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
        frame = pte & 0xFFFF_F000U;

    Leaf:
        uint fault = (uint)(Permissions[request & 0xFF] >> (int)access) & 1;
        if (fault != 0)
        {
            return walk.PageFault(level, faultBits | PageFaultErrorCode.Present);
        }

        if ((pte2 & pte1 & 0x20) == 0 || (write != 0 && (pte & 0x40) == 0))
        {
            if (!SetAccessedDirty(memory, ref walk, level, write != 0))
            {
                goto Retry;
            }
        }

        return walk.Translated(level, frame | (va & (pageSize - 1)), pageSize, access, 0);
    }

    /// <summary>The emitted A/D sequence, unchanged, out of line.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool SetAccessedDirty(GuestMemory memory, ref GuestWalk walk, int level, bool write) =>
        walk.TrySetFlags(memory, 2, level == 2 && write ? 0x60U : 0x20U, 4)
        && (level != 1 || walk.TrySetFlags(memory, 1, write ? 0x60U : 0x20U, 4));
}
