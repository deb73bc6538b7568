using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ShadowMmu.Dumps;

namespace ShadowMmu.Roots;

/// <summary>
/// The guest-physical memory a dump holds, as the root finder reads it: whether a table lies wholly inside the dump
/// (a real page table always does: the guest's CPU read it from RAM, and every dump holds the RAM), and the bytes
/// themselves, read in place without copying.
/// </summary>
internal sealed class HeldMemory
{
    private readonly ulong[] _starts;
    private readonly ulong[] _ends;
    private readonly GuestMemory _memory;

    public HeldMemory(GuestMemory memory, IReadOnlyList<PhysicalRange> present)
    {
        _memory = memory;
        var starts = new List<ulong>(present.Count);
        var ends = new List<ulong>(present.Count);
        foreach (PhysicalRange range in present)
        {
            ulong end = Math.Min(range.Start + range.Length, memory.Size);
            if (range.Length > 0 && range.Start < end)
            {
                starts.Add(range.Start);
                ends.Add(end);
            }
        }

        _starts = starts.ToArray();
        _ends = ends.ToArray();
    }

    /// <summary>The held ranges as (start, end) pairs, sorted.</summary>
    public int RangeCount => _starts.Length;

    /// <summary>The start of held range <paramref name="index"/>.</summary>
    public ulong RangeStart(int index) => _starts[index];

    /// <summary>The end (exclusive) of held range <paramref name="index"/>.</summary>
    public ulong RangeEnd(int index) => _ends[index];

    /// <summary>Bytes held in all.</summary>
    public ulong Bytes
    {
        get
        {
            ulong total = 0;
            for (int i = 0; i < _starts.Length; i++)
            {
                total += _ends[i] - _starts[i];
            }

            return total;
        }
    }

    /// <summary>True when the dump holds every byte of [<paramref name="address"/>, + <paramref name="length"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Holds(ulong address, ulong length)
    {
        ulong[] starts = _starts;
        if (starts.Length > 0 && address - starts[0] < _ends[0] - starts[0] && length <= _ends[0] - address)
        {
            return true;   // most of a guest's memory is its first range
        }

        int lo = 0, hi = starts.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            if (starts[mid] <= address)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        // hi: the last range starting at or below the address. Ranges never touch, so a run held lies in one.
        return hi >= 0 && address - starts[hi] < _ends[hi] - starts[hi] && length <= _ends[hi] - address;
    }

    /// <summary>The 8-byte words at <paramref name="address"/> (which the caller has checked are held).</summary>
    public ReadOnlySpan<ulong> Words(ulong address, int count) =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, ulong>(ref Unsafe.Add(ref _memory.DangerousGetBaseReference(), (nint)address)), count);

    /// <summary>The 4-byte words at <paramref name="address"/> (which the caller has checked are held).</summary>
    public ReadOnlySpan<uint> Dwords(ulong address, int count) =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, uint>(ref Unsafe.Add(ref _memory.DangerousGetBaseReference(), (nint)address)), count);
}
