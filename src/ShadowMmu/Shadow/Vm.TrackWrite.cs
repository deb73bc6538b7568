using System;
using System.Threading;

namespace ShadowMmu;

public sealed partial class Vm
{
    /// <summary>
    /// A guest write of <paramref name="size"/> (1, 2, 4 or 8) bytes of <paramref name="value"/> at
    /// <paramref name="gpa"/>, as a guest instruction makes it: the bytes land in memory first; then, if a shadow page
    /// shadows the frame (it is write-protected, so on hardware the write would have trapped), the MMU zaps the shadow
    /// entries derived from what was written (KVM: the emulator writes, then <c>kvm_mmu_pte_write</c>). False when the
    /// bytes are not in memory (nothing is written).
    /// </summary>
    public bool GuestWrite(ulong gpa, ulong value, int size) => GuestWrite(gpa, value, size, null);

    /// <summary>
    /// <see cref="GuestWrite(ulong, ulong, int)"/>, calling <paramref name="afterMemoryWrite"/> once the bytes are in
    /// memory and before the MMU is told: deterministic scenarios use it to know the write has landed while the trap
    /// handler still waits for the mmu_lock.
    /// </summary>
    public bool GuestWrite(ulong gpa, ulong value, int size, Action? afterMemoryWrite)
    {
        if (!StoreGuest(gpa, value, size))
        {
            return false;
        }

        afterMemoryWrite?.Invoke();
        AfterGuestStore(gpa, size);
        return true;
    }

    /// <summary>
    /// The memory half of a guest write: the bytes stored. A store into a shadowed guest table (in sync or not) is
    /// recorded for <see cref="Tlb"/> with the value it overwrote, so that the audit knows what the guest's TLB may
    /// still hold. False when the bytes are not in memory.
    /// </summary>
    internal bool StoreGuest(ulong gpa, ulong value, int size)
    {
        if (size is not (1 or 2 or 4 or 8) || !Memory.Contains(gpa, (ulong)size))
        {
            return false;
        }

        ulong first = gpa >> 12, last = (gpa + (ulong)size - 1) >> 12;
        if (!IsShadowed(first) && !IsShadowed(last))
        {
            Store(gpa, value, size);
            return true;
        }

        Stats.Vm.AddAtomic(ShadowCounter.GuestPteWrites);
        ulong word = gpa & ~7UL, lastWord = (gpa + (ulong)size - 1) & ~7UL;
        lock (Tlb.Gate)
        {
            // The 8-byte words the store touches, before it (the audit takes a 4-byte entry's half from its word).
            ulong before = Memory.ReadEntry(word, 8);
            ulong beforeLast = lastWord != word ? Memory.ReadEntry(lastWord, 8) : 0;
            Store(gpa, value, size);
            Tlb.RecordWriteLocked(word, before);
            if (lastWord != word)
            {
                Tlb.RecordWriteLocked(lastWord, beforeLast);
            }
        }

        return true;
    }

    /// <summary>
    /// The MMU half of a guest write: if a shadow page in sync shadows a frame the store touched (write-protected, so on
    /// hardware it trapped), the shadow entries derived from what was written are zapped under the lock. A store into
    /// an unsync table does not trap.
    /// </summary>
    internal void AfterGuestStore(ulong gpa, int size)
    {
        // The write is in memory before we look at the protection; Fetch write-protects before it re-reads. One of
        // the two sees the other (see WriteProtect).
        Interlocked.MemoryBarrier();
        Scheduling?.At(SchedulingPoint.GuestStoreLanded);
        ulong first = gpa >> 12, last = (gpa + (ulong)size - 1) >> 12;
        if (Flaw == SharedSideFlaw.TrapWithoutExclusion && (IsWriteProtected(first) || IsWriteProtected(last)))
        {
            TrapWithoutExclusion(gpa, size);
            return;
        }

        if (IsWriteProtected(first) || IsWriteProtected(last))
        {
            using (MmuLock.Enter())
            {
                Stats.Vm.Add(ShadowCounter.TrappedWrites);
                TrackWrite(gpa, size);
                if (last != first)
                {
                    TrackWrite(last << 12, (int)((gpa + (ulong)size) - (last << 12)));
                }
            }
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("ShadowMmu.Locking", "MMU0002", Justification = "Deliberately unsafe: SharedSideFlaw.TrapWithoutExclusion, for the test that shows why a trapped write takes the exclusive side.")]
    private void TrapWithoutExclusion(ulong gpa, int size)
    {
        Stats.Vm.AddAtomic(ShadowCounter.TrappedWrites);
        TrackWrite(gpa, size);
    }

    private void Store(ulong gpa, ulong value, int size)
    {
        if (size == 8 && (gpa & 7) == 0)
        {
            Memory.WriteUInt64(gpa, value);
        }
        else if (size == 4 && (gpa & 3) == 0)
        {
            Memory.WriteUInt32(gpa, (uint)value);
        }
        else
        {
            Span<byte> bytes = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
            Memory.Write(gpa, bytes[..size]);
        }
    }

    /// <summary>
    /// KVM's kvm_mmu_track_write for one page, under the mmu_lock: for every shadow page of the written frame, zap the
    /// whole page when the write is misaligned or the table is being flooded with writes, else zap the shadow
    /// entries that the written guest entry produced.
    /// </summary>
    [ShadowMmu.Annotations.RequiresMmuLock]
    private void TrackWrite(ulong gpa, int size)
    {
        ulong gfn = gpa >> 12;
        if (gfn >= (ulong)_gfnPagesHead.Length)
        {
            return;
        }

        int offset = (int)(gpa & 0xFFF);
        for (int node = _gfnPagesHead[gfn]; node != LinkPool.None;)
        {
            int next = _links.Next(node);
            ShadowPage page = _pages[_links.PageOf(node)]!;
            node = next;
            if (IsMisaligned(page, offset, size) || IsFlooded(page))
            {
                Zap(page);
                continue;
            }

            int count = WrittenEntries(page, offset, out int first);
            for (int i = first; i < first + count; i++)
            {
                if (Spte.IsPresent(page[i]))
                {
                    DropSpte(page, i);
                    Stats.Vm.Add(ShadowCounter.ZappedEntries);
                }
            }
        }
    }

    /// <summary>KVM's detect_write_misaligned: a write that crosses an entry or is narrower than 4 bytes.</summary>
    private static bool IsMisaligned(ShadowPage page, int offset, int size)
    {
        int entryBytes = page.Role.Cpu.HasFourByteGpte ? 4 : 8;
        // Operating systems clear status bits with one-byte writes (Linux's clear_bit uses andb): those are fine.
        if ((offset & (entryBytes - 1)) == 0 && size == 1)
        {
            return false;
        }

        return ((offset ^ (offset + size - 1)) & ~(entryBytes - 1)) != 0 || size < 4;
    }

    /// <summary>
    /// KVM's detect_write_flooding: three trapped writes to a table with no fault through it in between mean the
    /// guest no longer uses it as a page table; zap it and stop trapping. Tables of 4 KiB pages are exempt (KVM lets
    /// them go unsync instead).
    /// </summary>
    private static bool IsFlooded(ShadowPage page) => page.Role.Level > 1 && ++page.WriteFloodCount >= 3;

    /// <summary>
    /// KVM's get_written_sptes: the shadow entries that the guest entry at <paramref name="offset"/> produced. A guest
    /// with 4-byte entries has 1024 per table against the shadow's 512, so its tables are shadowed in quadrants, and
    /// a 4 MiB guest PDE became two 2 MiB shadow entries.
    /// </summary>
    private static int WrittenEntries(ShadowPage page, int offset, out int first)
    {
        if (!page.Role.Cpu.HasFourByteGpte)
        {
            first = offset / 8;
            return 1;
        }

        int shadowOffset = offset << 1;
        int count = 1;
        if (page.Role.Level == 2)
        {
            shadowOffset = (shadowOffset & ~7) << 1;
            count = 2;
        }

        int quadrant = shadowOffset >> 12;
        first = (shadowOffset & 0xFFF) / 8;
        return quadrant == page.Role.Quadrant ? count : 0;
    }
}
