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
