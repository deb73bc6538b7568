using System;

namespace ShadowMmu;

public sealed partial class ReferenceWalker
{
    // Set while a two-dimensional walk runs: the EPT walker the guest's table accesses go through, and the record
    // they are written to. Null for ordinary walks, which read guest memory directly.
    private NestedContext? _nested;

    /// <summary>
    /// A reference walker for a guest in <paramref name="cpu"/>'s x86 mode whose guest-physical addresses
    /// <paramref name="ept"/> translates: the two-dimensional walk of <see cref="WalkNested"/>. PAE's PDPTE registers
    /// are loaded through EPT now, as the MOV to CR3 would load them.
    /// </summary>
    /// <exception cref="ArgumentException">The registers select no x86 mode, or the EPT walker's memory is not <paramref name="memory"/>.</exception>
    public static ReferenceWalker Nested(GuestMemory memory, in CpuState cpu, IEptWalker ept)
    {
        ArgumentNullException.ThrowIfNull(ept);
        if (!ReferenceEquals(ept.Memory, memory))
        {
            throw new ArgumentException("The EPT tables and the guest's tables must be in the same (host) memory.", nameof(ept));
        }

        PagingModeInfo mode = PagingModes.Select(cpu) ?? throw new ArgumentException("CR0.PG is clear: the guest has no page tables to walk.", nameof(cpu));
        return new ReferenceWalker(mode.SpecText, mode.SpecFile, memory, cpu, ept);
    }

    /// <summary>
    /// The two-dimensional walk of <paramref name="va"/> (Intel SDM Vol. 3C, "EPT Translation Mechanism" with guest
    /// paging): each guest paging-structure entry's guest-physical address is translated through EPT before it is read
    /// (a read, or with EPT A/D flags on a write, of a guest paging structure), the guest's checks follow (#PF or #GP
    /// take precedence over EPT for the final access), each guest A/D update is a write through EPT, and the final
    /// guest-physical address is translated for the access itself with the guest's U/S, R/W and XD in the qualification.
    /// True when the address translated to a host-physical address.
    /// </summary>
    /// <exception cref="InvalidOperationException">This walker was not made by <see cref="Nested"/>.</exception>
    public bool WalkNested(ref NestedWalk nested, ulong va, AccessKind kind, int cpl, bool ac)
    {
        IEptWalker ept = _ept ?? throw new InvalidOperationException("Not a nested walker: make one with ReferenceWalker.Nested.");
        nested = default;
        if (_registerLoadExit is GuestWalk loadExit)
        {
            // The PDPTE registers could not be loaded through EPT: the MOV to CR3 exited, and this state is never walked.
            nested.Guest.Begin(va);
            nested.Ept = loadExit;
            nested.Fault = NestedFault.Ept;
            nested.EptOnGuestTable = true;
            return false;
        }

        var context = new NestedContext(ept);
        _nested = context;
        try
        {
            if (!WalkAddr(ref nested.Guest, va, kind, cpl, ac))
            {
                nested.Fault = context.Exited ? NestedFault.Ept : NestedFault.Guest;
                nested.EptOnGuestTable = context.Exited;
                nested.Ept = context.Exit;
                context.CopyTo(ref nested);
                return false;
            }
        }
        finally
        {
            _nested = null;
        }

        // The final access: the guest's rights for the linear address go into bits 9 to 11 of a qualification.
        uint rights = nested.Guest.PteAccess;
        EptAccessFlags flags = EptAccessFlags.Final
            | ((rights & AccessRights.User) != 0 ? EptAccessFlags.GuestUser : 0)
            | ((rights & AccessRights.Write) != 0 ? EptAccessFlags.GuestWritable : 0)
            | ((rights & AccessRights.Execute) == 0 ? EptAccessFlags.GuestExecuteDisable : 0);
        bool translated = context.Translate(nested.Guest.PhysicalAddress, kind, flags, out ulong hpa);
        nested.Ept = context.Last;
        context.CopyTo(ref nested);
        if (!translated)
        {
            nested.Fault = NestedFault.Ept;
            return false;
        }

        nested.HostPhysicalAddress = hpa;
        return true;
    }

    // A guest table entry at gpa, read at `level`: its host-physical address, or false with the EPT exit recorded
    // (the guest walk then ends at this level, the entry unread).
    private bool TryTranslateGuestEntry(ref GuestWalk walk, int level, ulong gpa, out ulong hostAddress)
    {
        if (_nested == null)
        {
            hostAddress = gpa;
            return true;
        }

        if (_nested.Translate(gpa, AccessKind.Read, EptAccessFlags.GuestLinearAddressValid | EptAccessFlags.GuestPagingStructure, out hostAddress))
        {
            _nested.EntryHpa[level - 1] = hostAddress;
            return true;
        }

        walk.Level = level;
        walk.PteGpa[level - 1] = gpa;
        walk.Ptes[level - 1] = 0;
        return false;
    }

    // Setting a guest A/D flag writes the guest entry: through EPT, as a write. Null: done (or restart when false);
    // an EPT exit ends the walk.
    private PassResult SetFlagNested(ref GuestWalk walk, int level, ulong flags)
    {
        if ((walk.Ptes[level - 1] & flags) == flags)
        {
            return PassResult.Translated;
        }

        if (!_nested!.Translate(walk.PteGpa[level - 1], AccessKind.Write, EptAccessFlags.GuestLinearAddressValid | EptAccessFlags.GuestPagingStructure, out ulong hostAddress))
        {
            walk.Level = level;
            return PassResult.Faulted;
        }

        return walk.TrySetFlagsAt(Memory, hostAddress, level, flags, _spec.EntryBytes) ? PassResult.Translated : PassResult.Restart;
    }

    // PAE: a PDPTE register load by MOV to CR3 is a guest paging-structure access without a linear address.
    private bool TryTranslateRegisterLoad(ulong gpa, out ulong hostAddress)
    {
        if (_ept == null)
        {
            hostAddress = gpa;
            return true;
        }

        var walk = default(GuestWalk);
        if (_ept.WalkGpa(ref walk, gpa, AccessKind.Read, EptAccessFlags.GuestPagingStructure))
        {
            hostAddress = walk.PhysicalAddress;
            return true;
        }

        _registerLoadExit ??= walk;
        hostAddress = 0;
        return false;
    }

    private sealed class NestedContext(IEptWalker ept)
    {
        private NestedWalk _updates;

        public GuestWalk Exit;

        public GuestWalk Last;

        public bool Exited;

        public LevelValues EntryHpa;

        // One EPT walk; its A/D updates are kept. On a fault the walk is kept as the exit.
        public bool Translate(ulong gpa, AccessKind kind, EptAccessFlags flags, out ulong hostAddress)
        {
            Last = default;
            bool translated = ept.WalkGpa(ref Last, gpa, kind, flags);
            for (int i = 0; i < Last.UpdateCount; i++)
            {
                _updates.NoteEptUpdate(Last.Updates[i]);
            }

            hostAddress = Last.PhysicalAddress;
            if (!translated)
            {
                Exit = Last;
                Exited = true;
            }

            return translated;
        }

        public void CopyTo(ref NestedWalk nested)
        {
            nested.GuestEntryHpa = EntryHpa;
            for (int i = 0; i < _updates.EptUpdateCount; i++)
            {
                nested.NoteEptUpdate(_updates.EptUpdates[i]);
            }
        }
    }
}
