using System;

namespace ShadowMmu;

public sealed partial class ReferenceWalker
{
    // While a two-dimensional walk runs: its EPT walker, and its record (the guest walk inside it is the one WalkAddr
    // fills). Null for ordinary walks, which read guest memory directly.
    private IEptWalker? _walkingEpt;
    private NestedWalk _current;

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

        _current.Begin();
        _current.Fault = NestedFault.Guest;   // unless EPT exits or everything translates
        _walkingEpt = ept;
        try
        {
            if (!WalkAddr(ref _current.Guest, va, kind, cpl, ac))
            {
                nested = _current;
                return false;
            }
        }
        finally
        {
            _walkingEpt = null;
        }

        bool translated = _current.TranslateFinal(ept, kind);
        nested = _current;
        return translated;
    }

    // A guest table entry at gpa, read at `level`: its host-physical address, or false with the EPT exit recorded
    // (the guest walk then ends at this level, the entry unread).
    private bool TryTranslateGuestEntry(ref GuestWalk walk, int level, ulong gpa, out ulong hostAddress)
    {
        if (_walkingEpt == null)
        {
            hostAddress = gpa;
            return true;
        }

        return _current.TranslateGuestEntry(_walkingEpt, level, gpa, update: false, out hostAddress);
    }

    // Setting a guest A/D flag writes the guest entry: through EPT, as a write. Faulted: EPT refused it.
    private PassResult SetFlagNested(ref GuestWalk walk, int level, ulong flags)
    {
        if ((walk.Ptes[level - 1] & flags) == flags)
        {
            return PassResult.Translated;
        }

        if (!_current.TranslateGuestEntry(_walkingEpt!, level, walk.PteGpa[level - 1], update: true, out ulong hostAddress))
        {
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
}
