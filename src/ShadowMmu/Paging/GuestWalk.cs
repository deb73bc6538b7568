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
public struct GuestWalk
{
    /// <summary>The linear address walked.</summary>
    public ulong Va;

    /// <summary>The leaf level (1 = 4 KiB page); on a fault, the level where the walk stopped.</summary>
    public int Level;

    /// <summary>The first level read from guest memory (PAE: 2, under the PDPTE registers).</summary>
    public int MaxLevel;

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

    /// <summary>Guest-physical address of the entry read at each level.</summary>
    public LevelValues PteGpa;

    /// <summary>
    /// The entry read at each level (after this walk's own A/D updates). Read without the mmu_lock: under the lock a
    /// value may be trusted only after it was re-read (the mmu_lock analyzer enforces it).
    /// </summary>
    [ShadowMmu.Annotations.UnlockedGuestPte]
    public LevelValues Ptes;

    /// <summary>Rights inherited by each level from the levels above it (KVM's <c>pt_access</c>).</summary>
    public LevelAccess PtAccess;

    /// <summary>Rights of the translation (KVM's <c>pte_access</c>), <see cref="AccessRights"/>.</summary>
    public uint PteAccess;

    /// <summary>The physical address of the accessed byte.</summary>
    public ulong PhysicalAddress;

    /// <summary>Size of the page the leaf maps.</summary>
    public ulong PageSize;

    /// <summary>Protection key of the leaf (0 where the mode has none).</summary>
    public int ProtectionKey;

    /// <summary>How the walk ended.</summary>
    public WalkFault Fault;

    /// <summary>The #PF error code (<see cref="PageFaultErrorCode"/>) or 0.</summary>
    public uint ErrorCode;

    /// <summary>True when an entry lay outside guest memory; the walk reports that as a not-present #PF, as KVM does.</summary>
    public bool EntryOutsideMemory;

    /// <summary>Number of entries in <see cref="Updates"/>.</summary>
    public int UpdateCount;

    /// <summary>The entries whose A or D flag this walk set, first value and last.</summary>
    public PteUpdates Updates;

    /// <summary>EPT walks: the leaf's memory type (bits 5:3 of the entry).</summary>
    public byte MemoryType;

    /// <summary>EPT walks: the leaf's ignore-PAT bit.</summary>
    public bool IgnorePat;

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
    /// Starts the walk again after an entry changed under it: clears the ending fields (the A/D updates already made
    /// stay listed). The generated walkers set only <see cref="MaxLevel"/> instead, as every way out of their walk
    /// (<see cref="Translated"/>, <see cref="PageFault"/>, <see cref="OutsideMemory"/>) sets the ending fields itself.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Restart(int maxLevel)
    {
        Level = maxLevel;
        MaxLevel = maxLevel;
        PteAccess = 0;
        PhysicalAddress = 0;
        PageSize = 0;
        ProtectionKey = 0;
        Fault = WalkFault.None;
        ErrorCode = 0;
        EntryOutsideMemory = false;
    }

    /// <summary>
    /// Records the entry read at <paramref name="level"/> (at <paramref name="gpa"/>) and the rights inherited from above
    /// it. <see cref="Level"/> is set by the walk's end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Record(int level, ulong gpa, ulong pte, uint inherited)
    {
        PteGpa[level - 1] = gpa;
        Ptes[level - 1] = pte;
        PtAccess[level - 1] = (byte)inherited;
    }

    /// <summary>
    /// Ends the walk with a #PF at <paramref name="level"/>, setting every ending field (no translation); returns false for
    /// the caller to return. Out of line: it is on the walk's cold paths.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public bool PageFault(int level, uint errorCode)
    {
        Level = level;
        PteAccess = 0;
        PhysicalAddress = 0;
        PageSize = 0;
        ProtectionKey = 0;
        Fault = WalkFault.PageFault;
        ErrorCode = errorCode;
        EntryOutsideMemory = false;
        return false;
    }

    /// <summary>
    /// Ends the walk with a not-present #PF because the entry at <paramref name="gpa"/> is not in memory: recorded as an
    /// entry of 0 with the rights <paramref name="inherited"/> from above, as <see cref="Record"/> would.
    /// </summary>
    public bool OutsideMemory(int level, ulong gpa, uint inherited, uint errorCode)
    {
        Record(level, gpa, 0, inherited);
        PageFault(level, errorCode);
        EntryOutsideMemory = true;
        return false;
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
    public bool Translated(int level, ulong physicalAddress, ulong pageSize, uint access, int protectionKey)
    {
        Level = level;
        PhysicalAddress = physicalAddress;
        PageSize = pageSize;
        PteAccess = access;
        ProtectionKey = protectionKey;
        Fault = WalkFault.None;
        ErrorCode = 0;
        EntryOutsideMemory = false;
        return true;
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

    /// <summary>
    /// Ends an EPT walk with a violation at <paramref name="level"/>, setting every ending field as <see cref="PageFault"/>
    /// does; returns false for the caller to return.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public bool EptViolation(int level, uint qualification)
    {
        PageFault(level, qualification);
        Fault = WalkFault.EptViolation;
        MemoryType = 0;
        IgnorePat = false;
        return false;
    }

    /// <summary>Ends an EPT walk with a violation because the entry at <paramref name="gpa"/> is not in memory (as KVM reports it).</summary>
    public bool EptOutsideMemory(int level, ulong gpa, uint inherited, uint qualification)
    {
        Record(level, gpa, 0, inherited);
        EptViolation(level, qualification);
        EntryOutsideMemory = true;
        return false;
    }

    /// <summary>Ends an EPT walk with a misconfiguration at <paramref name="level"/> (no exit qualification).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public bool EptMisconfiguration(int level)
    {
        PageFault(level, 0);
        Fault = WalkFault.EptMisconfiguration;
        MemoryType = 0;
        IgnorePat = false;
        return false;
    }

    /// <summary>Ends an EPT walk with a translation and the leaf's memory type; returns true.</summary>
    public bool TranslatedEpt(int level, ulong hostPhysicalAddress, ulong pageSize, uint rights, int memoryType, bool ignorePat)
    {
        MemoryType = (byte)memoryType;
        IgnorePat = ignorePat;
        return Translated(level, hostPhysicalAddress, pageSize, rights, 0);
    }

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
