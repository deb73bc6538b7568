using System;
using System.Runtime.CompilerServices;

namespace ShadowMmu;

/// <summary>How a walk ended.</summary>
public enum WalkFault : byte
{
    /// <summary>The address translated.</summary>
    None,

    /// <summary>A #PF with <see cref="GuestWalk.ErrorCode"/>.</summary>
    PageFault,

    /// <summary>A #GP(0): a non-canonical address, or PDPTE registers whose load failed.</summary>
    GeneralProtection,

    /// <summary>An EPT violation (exit reason 48) with <see cref="GuestWalk.ErrorCode"/> as its exit qualification.</summary>
    EptViolation,

    /// <summary>An EPT misconfiguration (exit reason 49): an entry with a reserved bit, a reserved memory type or a forbidden XWR combination.</summary>
    EptMisconfiguration,
}

/// <summary>
/// The record a guest page walk leaves, KVM's <c>struct guest_walker</c>: per level the guest table, the entry's
/// guest-physical address and the value read, the rights inherited from above; then the translation or the fault.
/// It is a struct passed by reference so that a walk allocates nothing; the shadow MMU's <c>Fetch</c> re-checks
/// the recorded entries under the mmu_lock.
/// </summary>
/// <remarks>
/// The order of the fields is part of the design: <see cref="Record(int, ulong, ulong)"/> addresses PteGpa and Ptes from
/// Va, and the ending fields are written as 8-byte words (the benchmarks' C walkers mirror the layout, and check it).
/// </remarks>
public struct GuestWalk
{
    /// <summary>The linear address walked.</summary>
    public ulong Va;

    /// <summary>Guest-physical address of the entry read at each level.</summary>
    public LevelValues PteGpa;

    /// <summary>
    /// The entry read at each level (after this walk's own A/D updates). Read without the mmu_lock: under the lock a
    /// value may be trusted only after it was re-read (the mmu_lock analyzer enforces it).
    /// </summary>
    [ShadowMmu.Annotations.UnlockedGuestPte]
    public LevelValues Ptes;

    /// <summary>The physical address of the accessed byte.</summary>
    public ulong PhysicalAddress;

    /// <summary>Size of the page the leaf maps.</summary>
    public ulong PageSize;

    // The ending fields below are laid out as three 8-byte words (Level and MaxLevel; PteAccess and ProtectionKey;
    // ErrorCode, Fault, EntryOutsideMemory, MemoryType and IgnorePat) that the generated walks write with one store each
    // (see SetEnding): on a core with one store port a walk is bound by its stores, not by its loads.

    /// <summary>The leaf level (1 = 4 KiB page); on a fault, the level where the walk stopped.</summary>
    public int Level;

    /// <summary>The first level read from guest memory (PAE: 2, under the PDPTE registers).</summary>
    public int MaxLevel;

    /// <summary>Rights of the translation (KVM's <c>pte_access</c>), <see cref="AccessRights"/>.</summary>
    public uint PteAccess;

    /// <summary>Protection key of the leaf (0 where the mode has none).</summary>
    public int ProtectionKey;

    /// <summary>The #PF error code (<see cref="PageFaultErrorCode"/>) or 0.</summary>
    public uint ErrorCode;

    /// <summary>How the walk ended.</summary>
    public WalkFault Fault;

    /// <summary>True when an entry lay outside guest memory; the walk reports that as a not-present #PF, as KVM does.</summary>
    public bool EntryOutsideMemory;

    /// <summary>EPT walks: the leaf's memory type (bits 5:3 of the entry).</summary>
    public byte MemoryType;

    /// <summary>EPT walks: the leaf's ignore-PAT bit.</summary>
    public bool IgnorePat;

    /// <summary>
    /// Rights inherited by each level from the levels above it (KVM's <c>pt_access</c>); 0 for levels the walk did not
    /// reach.
    /// </summary>
    public LevelAccess PtAccess;

    /// <summary>Number of entries in <see cref="Updates"/>.</summary>
    public int UpdateCount;

    /// <summary>The entries whose A or D flag this walk set, first value and last.</summary>
    public PteUpdates Updates;

    /// <summary>
    /// Guest frame number of the table read at each level (KVM's <c>table_gfn</c>): the frame that holds the entry at
    /// <see cref="PteGpa"/>. Derived from it rather than stored by the walk, one store less per level; for every
    /// built-in mode it is the table's own frame (tables are 4 KiB-aligned, and PAE's 32-byte-aligned PDPT lies within
    /// one page), and for a spec whose tables may cross a page boundary it is the frame of the entry, the one whose
    /// writes matter to a shadow MMU.
    /// </summary>
    public readonly LevelValues TableGfn
    {
        get
        {
            var gfns = default(LevelValues);
            for (int i = 0; i < 5; i++)
            {
                gfns[i] = PteGpa[i] >> 12;
            }

            return gfns;
        }
    }

    /// <summary>An EPT violation's exit qualification, or 0.</summary>
    public readonly ulong ExitQualification => Fault == WalkFault.EptViolation ? ErrorCode : 0;

    /// <summary>Guest frame number of the accessed byte (KVM's <c>gfn</c>, offset within a large page included).</summary>
    public readonly ulong Gfn => PhysicalAddress >> 12;

    /// <summary>Starts a walk of <paramref name="va"/>: clears everything, the update list included.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Begin(ulong va)
    {
        Va = va;
        UpdateCount = 0;
        Restart(0);
    }

    /// <summary>
    /// Starts the walk again after an entry changed under it: clears the ending fields and the inherited rights (the A/D
    /// updates already made stay listed). For walks that fill the record level by level, as the reference walker does;
    /// the generated walkers keep what they learn in registers and write the ending with one of the <c>End</c> methods.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Restart(int maxLevel)
    {
        PhysicalAddress = 0;
        PageSize = 0;
        SetEnding(maxLevel, maxLevel, 0, 0, 0, WalkFault.None, false, 0, false);
        PtAccess = default;
    }

    /// <summary>
    /// Records the entry read at <paramref name="level"/> (at <paramref name="gpa"/>) and the rights inherited from above
    /// it. <see cref="Level"/> is set by the walk's end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Record(int level, ulong gpa, ulong pte, uint inherited)
    {
        Record(level, gpa, pte);
        PtAccess[level - 1] = (byte)inherited;
    }

    /// <summary>
    /// Records the entry read at <paramref name="level"/> (at <paramref name="gpa"/>); the generated walkers pass the
    /// inherited rights of every level at once to the walk's end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Record(int level, ulong gpa, ulong pte)
    {
        // Addressed from the record itself (PteGpa follows Va, Ptes follows PteGpa), so that a walk's stores are each one
        // instruction off the record's address rather than off addresses the JIT keeps in registers.
        Unsafe.Add(ref Va, level) = gpa;
        Unsafe.Add(ref Va, LevelValues.Length + level) = pte;
    }

    /// <summary>Ends the walk with a #PF at <paramref name="level"/> (no translation); returns false for the caller to return.</summary>
    public bool PageFault(int level, uint errorCode) => Fail(MaxLevel, level, errorCode, WalkFault.PageFault, PtAccess);

    /// <summary>
    /// Ends the walk with a not-present #PF because the entry at <paramref name="gpa"/> is not in memory: recorded as an
    /// entry of 0 with the rights <paramref name="inherited"/> from above, as <see cref="Record(int, ulong, ulong, uint)"/> would.
    /// </summary>
    public bool OutsideMemory(int level, ulong gpa, uint inherited, uint errorCode)
    {
        PtAccess[level - 1] = (byte)inherited;
        return Outside(MaxLevel, level, gpa, errorCode, WalkFault.PageFault, PtAccess);
    }

    /// <summary>Ends the walk with #GP(0).</summary>
    public bool GeneralProtection()
    {
        Fault = WalkFault.GeneralProtection;
        ErrorCode = 0;
        return false;
    }

    /// <summary>Ends the walk with a translation, setting every ending field; returns true.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Translated(int level, ulong physicalAddress, ulong pageSize, uint access, int protectionKey) =>
        EndTranslated(MaxLevel, level, physicalAddress, pageSize, access, protectionKey, PtAccess);

    /// <summary>
    /// Ends a walk with a translation: every ending field, <paramref name="maxLevel"/> and the inherited rights of every
    /// level in five stores; returns true.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool EndTranslated(int maxLevel, int level, ulong physicalAddress, ulong pageSize, uint access, int protectionKey, LevelAccess ptAccess) =>
        Succeed(maxLevel, level, physicalAddress, pageSize, access, protectionKey, 0, false, ptAccess);

    /// <summary>Ends a walk with a #PF at <paramref name="level"/>; returns false. Out of line: the walks' cold paths.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public bool EndPageFault(int maxLevel, int level, uint errorCode, LevelAccess ptAccess) =>
        Fail(maxLevel, level, errorCode, WalkFault.PageFault, ptAccess);

    /// <summary>
    /// Ends a walk with a not-present #PF because the entry at <paramref name="gpa"/> is not in memory, recorded as an
    /// entry of 0 (<paramref name="ptAccess"/> includes the rights inherited by that level); returns false.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public bool EndOutsideMemory(int maxLevel, int level, ulong gpa, uint errorCode, LevelAccess ptAccess) =>
        Outside(maxLevel, level, gpa, errorCode, WalkFault.PageFault, ptAccess);

    // Every ending field of a walk that translated.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Succeed(int maxLevel, int level, ulong physicalAddress, ulong pageSize, uint access, int protectionKey, byte memoryType, bool ignorePat, LevelAccess ptAccess)
    {
        PhysicalAddress = physicalAddress;
        PageSize = pageSize;
        SetEnding(maxLevel, level, access, protectionKey, 0, WalkFault.None, false, memoryType, ignorePat);
        PtAccess = ptAccess;
        return true;
    }

    // A walk that stopped at an entry outside memory: the entry recorded as 0, a not-present fault of its kind.
    private bool Outside(int maxLevel, int level, ulong gpa, uint errorCode, WalkFault fault, LevelAccess ptAccess)
    {
        Record(level, gpa, 0);
        Fail(maxLevel, level, errorCode, fault, ptAccess);
        EntryOutsideMemory = true;
        return false;
    }

    // Every ending field of a walk that did not translate.
    private bool Fail(int maxLevel, int level, uint errorCode, WalkFault fault, LevelAccess ptAccess)
    {
        PhysicalAddress = 0;
        PageSize = 0;
        SetEnding(maxLevel, level, 0, 0, errorCode, fault, false, 0, false);
        PtAccess = ptAccess;
        return false;
    }

    // The ending fields as three 8-byte stores where the layout allows it (little-endian: every platform .NET runs on
    // today; the JIT drops the other branch).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetEnding(int maxLevel, int level, uint access, int protectionKey, uint errorCode, WalkFault fault, bool outside, byte memoryType, bool ignorePat)
    {
        if (BitConverter.IsLittleEndian)
        {
            Unsafe.As<int, ulong>(ref Level) = (uint)level | (ulong)(uint)maxLevel << 32;
            Unsafe.As<uint, ulong>(ref PteAccess) = access | (ulong)(uint)protectionKey << 32;
            Unsafe.As<uint, ulong>(ref ErrorCode) = errorCode | (ulong)fault << 32 | (outside ? 1UL << 40 : 0)
                | (ulong)memoryType << 48 | (ignorePat ? 1UL << 56 : 0);
        }
        else
        {
            Level = level;
            MaxLevel = maxLevel;
            PteAccess = access;
            ProtectionKey = protectionKey;
            ErrorCode = errorCode;
            Fault = fault;
            EntryOutsideMemory = outside;
            MemoryType = memoryType;
            IgnorePat = ignorePat;
        }
    }

    /// <summary>
    /// Sets <paramref name="flags"/> in the entry recorded at <paramref name="level"/> with a locked compare-exchange
    /// of the value the walk read. False when guest memory no longer holds that value: the caller walks again.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TrySetFlags(GuestMemory memory, int level, ulong flags, int entryBytes)
    {
        ulong old = Ptes[level - 1];
        if ((old & flags) == flags)
        {
            return true;
        }

        return TrySetFlagsSlow(memory, level, old, old | flags, entryBytes);
    }

    /// <summary>
    /// As <see cref="TrySetFlags"/>, for an entry that lives at <paramref name="address"/> in <paramref name="memory"/>
    /// rather than at its recorded guest-physical address (a guest table seen through EPT); the update is listed
    /// under the guest-physical address.
    /// </summary>
    public bool TrySetFlagsAt(GuestMemory memory, ulong address, int level, ulong flags, int entryBytes)
    {
        ulong old = Ptes[level - 1];
        if ((old & flags) == flags)
        {
            return true;
        }

        bool swapped = entryBytes == 4
            ? memory.TryCompareExchangeUInt32(address, (uint)old, (uint)(old | flags))
            : memory.TryCompareExchangeUInt64(address, old, old | flags);
        if (!swapped)
        {
            return false;
        }

        Ptes[level - 1] = old | flags;
        NoteUpdate(PteGpa[level - 1], old, old | flags);
        return true;
    }

    private bool TrySetFlagsSlow(GuestMemory memory, int level, ulong old, ulong value, int entryBytes)
    {
        ulong gpa = PteGpa[level - 1];
        bool swapped = entryBytes == 4
            ? memory.TryCompareExchangeUInt32(gpa, (uint)old, (uint)value)
            : memory.TryCompareExchangeUInt64(gpa, old, value);
        if (!swapped)
        {
            return false;
        }

        Ptes[level - 1] = value;
        NoteUpdate(gpa, old, value);
        return true;
    }

    private void NoteUpdate(ulong gpa, ulong old, ulong value)
    {
        for (int i = 0; i < UpdateCount; i++)
        {
            if (Updates[i].Gpa == gpa)
            {
                Updates[i] = Updates[i] with { New = value };
                return;
            }
        }

        // More distinct entries than a walk has levels can only come from retries racing other writers;
        // the list keeps the first eight.
        if (UpdateCount < 8)
        {
            Updates[UpdateCount++] = new PteUpdate(gpa, old, value);
        }
    }

    /// <summary>Ends an EPT walk with a violation at <paramref name="level"/>; returns false for the caller to return.</summary>
    public bool EptViolation(int level, uint qualification) => Fail(MaxLevel, level, qualification, WalkFault.EptViolation, PtAccess);

    /// <summary>Ends an EPT walk with a violation because the entry at <paramref name="gpa"/> is not in memory (as KVM reports it).</summary>
    public bool EptOutsideMemory(int level, ulong gpa, uint inherited, uint qualification)
    {
        PtAccess[level - 1] = (byte)inherited;
        return Outside(MaxLevel, level, gpa, qualification, WalkFault.EptViolation, PtAccess);
    }

    /// <summary>Ends an EPT walk with a misconfiguration at <paramref name="level"/> (no exit qualification).</summary>
    public bool EptMisconfiguration(int level) => Fail(MaxLevel, level, 0, WalkFault.EptMisconfiguration, PtAccess);

    /// <summary>Ends an EPT walk with a translation and the leaf's memory type; returns true.</summary>
    public bool TranslatedEpt(int level, ulong hostPhysicalAddress, ulong pageSize, uint rights, int memoryType, bool ignorePat) =>
        EndTranslatedEpt(MaxLevel, level, hostPhysicalAddress, pageSize, rights, memoryType, ignorePat, PtAccess);

    /// <summary>As <see cref="EndTranslated"/>, for an EPT walk: the leaf's memory type and ignore-PAT bit too.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool EndTranslatedEpt(int maxLevel, int level, ulong hostPhysicalAddress, ulong pageSize, uint rights, int memoryType, bool ignorePat, LevelAccess ptAccess) =>
        Succeed(maxLevel, level, hostPhysicalAddress, pageSize, rights, 0, (byte)memoryType, ignorePat, ptAccess);

    /// <summary>Ends an EPT walk with a violation at <paramref name="level"/>; returns false. Out of line: the walks' cold paths.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public bool EndEptViolation(int maxLevel, int level, uint qualification, LevelAccess ptAccess) =>
        Fail(maxLevel, level, qualification, WalkFault.EptViolation, ptAccess);

    /// <summary>Ends an EPT walk with a misconfiguration at <paramref name="level"/>; returns false.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public bool EndEptMisconfiguration(int maxLevel, int level, LevelAccess ptAccess) =>
        Fail(maxLevel, level, 0, WalkFault.EptMisconfiguration, ptAccess);

    /// <summary>Ends an EPT walk with a violation because the entry at <paramref name="gpa"/> is not in memory, recorded as 0.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public bool EndEptOutsideMemory(int maxLevel, int level, ulong gpa, uint qualification, LevelAccess ptAccess) =>
        Outside(maxLevel, level, gpa, qualification, WalkFault.EptViolation, ptAccess);

    /// <summary>A short description for people: the translation or the fault.</summary>
    public readonly override string ToString() => Fault switch
    {
        WalkFault.None => $"0x{Va:x} -> 0x{PhysicalAddress:x} ({PageSize >> 10} KiB page, access {PteAccess})",
        WalkFault.PageFault => $"0x{Va:x}: #PF error code 0x{ErrorCode:x} at level {Level}",
        WalkFault.EptViolation => $"0x{Va:x}: EPT violation, exit qualification 0x{ErrorCode:x}, at level {Level}",
        WalkFault.EptMisconfiguration => $"0x{Va:x}: EPT misconfiguration at level {Level}",
        _ => $"0x{Va:x}: #GP(0)",
    };
}
