using System.Runtime.CompilerServices;

namespace ShadowMmu;

/// <summary>Which dimension of a two-dimensional walk ended it.</summary>
public enum NestedFault : byte
{
    /// <summary>The linear address translated to a host-physical address.</summary>
    None,

    /// <summary>The guest's own tables: a #PF or #GP, in <see cref="NestedWalk.Guest"/>.</summary>
    Guest,

    /// <summary>EPT: a violation or misconfiguration, in <see cref="NestedWalk.Ept"/>, translating a guest table entry or the final address.</summary>
    Ept,
}

/// <summary>Up to 32 EPT entries whose A/D flags a two-dimensional walk set (up to six EPT walks of up to five levels).</summary>
[InlineArray(32)]
public struct NestedUpdates
{
    private PteUpdate _first;
}

/// <summary>
/// The record of a two-dimensional walk (a guest's page tables, each of whose entries and the final address are
/// translated through EPT, as the processor walks a VMX guest's linear addresses).
/// </summary>
public struct NestedWalk
{
    /// <summary>The guest's walk: its tables' guest-physical addresses, the entries read, its translation (a guest-physical address) or #PF/#GP.</summary>
    public GuestWalk Guest;

    /// <summary>The last EPT walk: of the final guest-physical address, or the one that faulted.</summary>
    public GuestWalk Ept;

    /// <summary>Which dimension ended the walk, if any.</summary>
    public NestedFault Fault;

    /// <summary>With an EPT fault: true when it translated a guest paging-structure entry (at <see cref="GuestWalk.Level"/> of <see cref="Guest"/>), false for the final address.</summary>
    public bool EptOnGuestTable;

    /// <summary>The host-physical address of the accessed byte.</summary>
    public ulong HostPhysicalAddress;

    /// <summary>Host-physical address of the guest entry read at each level.</summary>
    public LevelValues GuestEntryHpa;

    /// <summary>Number of entries in <see cref="EptUpdates"/>.</summary>
    public int EptUpdateCount;

    /// <summary>EPT entries whose A/D flags the walk set (host-physical addresses), first value and last.</summary>
    public NestedUpdates EptUpdates;

    /// <summary>The guest-physical address an EPT fault was translating.</summary>
    public readonly ulong FaultGpa => Fault == NestedFault.Ept ? Ept.Va : 0;

    /// <summary>Starts a walk: no fault, no EPT updates (the guest record is the guest walk's to start).</summary>
    public void Begin()
    {
        Fault = NestedFault.None;
        EptOnGuestTable = false;
        HostPhysicalAddress = 0;
        EptUpdateCount = 0;
    }

    /// <summary>
    /// A guest paging-structure entry at <paramref name="gpa"/>, of guest <paramref name="level"/>, through EPT before it
    /// is read (a read with a valid linear address, not the final translation; with EPT A/D flags a write) or, for
    /// <paramref name="update"/>, before a guest A/D flag is written into it (a write). True with its host-physical
    /// address; false with the EPT exit recorded, the guest walk ending at that level.
    /// </summary>
    public bool TranslateGuestEntry(IEptWalker ept, int level, ulong gpa, bool update, out ulong hostAddress)
    {
        AccessKind kind = update ? AccessKind.Write : AccessKind.Read;
        if (EptWalk(ept, gpa, kind, EptAccessFlags.GuestLinearAddressValid | EptAccessFlags.GuestPagingStructure))
        {
            hostAddress = Ept.PhysicalAddress;
            GuestEntryHpa[level - 1] = hostAddress;
            return true;
        }

        // The guest walk ends here, with no fault of its own: its ending fields cleared, its level the entry's.
        hostAddress = 0;
        EptOnGuestTable = true;
        Guest.PageFault(level, 0);
        Guest.Fault = WalkFault.None;
        if (!update)
        {
            Guest.PteGpa[level - 1] = gpa;
            Guest.Ptes[level - 1] = 0;
        }

        return false;
    }

    /// <summary>
    /// After the guest walk translated: its guest-physical address through EPT for the access itself, the guest's U/S,
    /// R/W and XD for the linear address going into the qualification. True with <see cref="HostPhysicalAddress"/> set.
    /// </summary>
    public bool TranslateFinal(IEptWalker ept, AccessKind kind)
    {
        uint rights = Guest.PteAccess;
        EptAccessFlags flags = EptAccessFlags.Final
            | ((rights & AccessRights.User) != 0 ? EptAccessFlags.GuestUser : 0)
            | ((rights & AccessRights.Write) != 0 ? EptAccessFlags.GuestWritable : 0)
            | ((rights & AccessRights.Execute) == 0 ? EptAccessFlags.GuestExecuteDisable : 0);
        if (!EptWalk(ept, Guest.PhysicalAddress, kind, flags))
        {
            return false;
        }

        HostPhysicalAddress = Ept.PhysicalAddress;
        Fault = NestedFault.None;
        return true;
    }

    // One EPT walk into Ept, its A/D updates kept; a fault is the walk's end.
    private bool EptWalk(IEptWalker ept, ulong gpa, AccessKind kind, EptAccessFlags flags)
    {
        bool translated = ept.WalkGpa(ref Ept, gpa, kind, flags);
        for (int i = 0; i < Ept.UpdateCount; i++)
        {
            NoteEptUpdate(Ept.Updates[i]);
        }

        if (!translated)
        {
            Fault = NestedFault.Ept;
        }

        return translated;
    }

    /// <summary>Records an EPT A/D update, merging repeated updates of one entry.</summary>
    public void NoteEptUpdate(in PteUpdate update)
    {
        for (int i = 0; i < EptUpdateCount; i++)
        {
            if (EptUpdates[i].Gpa == update.Gpa)
            {
                EptUpdates[i] = EptUpdates[i] with { New = update.New };
                return;
            }
        }

        if (EptUpdateCount < 32)
        {
            EptUpdates[EptUpdateCount++] = update;
        }
    }

    /// <summary>A short description for people.</summary>
    public readonly override string ToString() => Fault switch
    {
        NestedFault.None => $"0x{Guest.Va:x} -> gpa 0x{Guest.PhysicalAddress:x} -> hpa 0x{HostPhysicalAddress:x}",
        NestedFault.Guest => Guest.ToString(),
        _ => (EptOnGuestTable ? $"guest level-{Guest.Level} entry at gpa 0x{Ept.Va:x}: " : "final address: ") + Ept,
    };
}
