using System;
using System.Collections.Generic;

namespace ShadowMmu;

/// <summary>
/// What the guest's TLBs may still hold, by the architecture's rules (Intel SDM Vol. 3A, "Invalidation of TLBs and
/// Paging-Structure Caches"; Vol. 3C, "Invalidation of Cached EPT Translations"): the audit's oracle for shadow entries
/// derived from unsync tables. It records every guest write to a shadowed guest table (the value the entry held until
/// then) and every flush the guest makes, on one clock; a shadow entry that differs from its guest entry now is
/// <em>pending</em> when it equals a value that entry held after the last flush that covered its address, and stale
/// otherwise.
/// </summary>
/// <remarks>
/// <para>The rules, each a test in GuestTlbRulesTests with the SDM's words:</para>
/// <list type="bullet">
/// <item><description>A translation may be cached only from a value the entry held; once the guest changed the entry it
/// may keep using the cached one until it invalidates it (SDM "Recommended Invalidation": software must invalidate after
/// changing an entry, or the processor may use the old one).</description></item>
/// <item><description>INVLPG m invalidates the translations of the page of m in the current address space, and global
/// ones for that page in every address space.</description></item>
/// <item><description>MOV to CR3 invalidates every non-global translation of the address space it loads (with CR4.PCIDE = 0,
/// of every address space: PCID 000H); global translations survive it when CR4.PGE = 1.</description></item>
/// <item><description>A change of CR4.PGE invalidates every translation, global ones too.</description></item>
/// <item><description>INVEPT single-context invalidates the guest-physical translations of one EPTP; all-context, of
/// every EPTP.</description></item>
/// </list>
/// <para>An address space is a shadow root (its guest table and role): a flush by a vCPU counts for the roots it uses,
/// as KVM syncs what those roots reach. Thread-safe (one lock of its own, never held with the mmu_lock waiting).</para>
/// </remarks>
public sealed class GuestTlb
{
    /// <summary>Values kept per guest entry; past that the oldest are forgotten (the audit may then call a legal entry stale).</summary>
    public const int MaxHistory = 64;

    // The history lives in arrays made once (guest stores into shadowed tables allocate nothing): an open-addressing
    // table from an 8-byte word's address to its newest record, and records chained newest first.
    private const int KeyBits = 16;
    private const int KeySlots = 1 << KeyBits;
    private const int Records = 1 << 17;
    private const ulong EmptyKey = ulong.MaxValue, DeletedKey = ulong.MaxValue - 1;

    private readonly object _lock = new();
    private readonly ulong[] _keys = new ulong[KeySlots];
    private readonly int[] _newest = new int[KeySlots];
    private readonly int[] _counts = new int[KeySlots];
    private readonly ulong[] _values = new ulong[Records];
    private readonly long[] _untils = new long[Records];
    private readonly int[] _older = new int[Records];
    private readonly Dictionary<(ulong Context, ulong Page), long> _pageFlushes = new();
    private readonly Dictionary<ulong, long> _globalPageFlushes = new();
    private readonly Dictionary<ulong, long> _contextFlushes = new();
    private readonly Dictionary<ulong, long> _contextGlobalFlushes = new();
    private int _freeRecord;
    private long _clock;
    private long _flushAll;

    /// <summary>An empty TLB record.</summary>
    public GuestTlb()
    {
        System.Array.Fill(_keys, EmptyKey);
        for (int i = 0; i < Records; i++)
        {
            _older[i] = i + 1;
        }

        _older[Records - 1] = -1;
    }

    /// <summary>Values forgotten because an entry changed more than <see cref="MaxHistory"/> times between flushes, or the store was full.</summary>
    public long Forgotten { get; private set; }

    /// <summary>
    /// The lock a guest store into a shadowed table holds while it reads the old value, stores and records (so that two
    /// writers' records come in the order of their stores): <c>lock (tlb.Gate) { …; tlb.RecordWriteLocked(…); }</c>.
    /// </summary>
    internal object Gate => _lock;

    /// <summary>The guest overwrote the 8-byte word at <paramref name="gpa"/>, which held <paramref name="oldValue"/> until now.</summary>
    public void RecordWrite(ulong gpa, ulong oldValue)
    {
        lock (_lock)
        {
            RecordWriteLocked(gpa, oldValue);
        }
    }

    /// <summary><see cref="RecordWrite"/> for a caller that holds <see cref="Gate"/>.</summary>
    internal void RecordWriteLocked(ulong gpa, ulong oldValue)
    {
        int slot = Slot(gpa, insert: true);
        if (slot < 0)
        {
            Forgotten++;
            return;
        }

        if (_counts[slot] == MaxHistory || _freeRecord < 0)
        {
            // Reuse this entry's oldest record.
            if (_counts[slot] == 0)
            {
                Forgotten++;
                return;
            }

            Forgotten++;
            FreeOldest(slot);
        }

        int record = _freeRecord;
        _freeRecord = _older[record];
        _values[record] = oldValue;
        _untils[record] = ++_clock;
        _older[record] = _counts[slot] == 0 ? -1 : _newest[slot];
        _newest[slot] = record;
        _counts[slot]++;
    }

    private void FreeOldest(int slot)
    {
        int previous = -1, record = _newest[slot];
        while (_older[record] >= 0)
        {
            previous = record;
            record = _older[record];
        }

        if (previous >= 0)
        {
            _older[previous] = -1;
        }

        _older[record] = _freeRecord;
        _freeRecord = record;
        _counts[slot]--;
    }

    /// <summary>The slot of <paramref name="gpa"/>'s key, or -1 (not there, or no room with <paramref name="insert"/>).</summary>
    private int Slot(ulong gpa, bool insert)
    {
        int mask = KeySlots - 1;
        int slot = (int)(((gpa >> 3) * 0x9E3779B97F4A7C15UL) >> (64 - KeyBits));
        int firstDeleted = -1;
        for (int probe = 0; probe < KeySlots; probe++, slot = (slot + 1) & mask)
        {
            ulong key = _keys[slot];
            if (key == gpa)
            {
                return slot;
            }

            if (key == DeletedKey)
            {
                firstDeleted = firstDeleted < 0 ? slot : firstDeleted;
                continue;
            }

            if (key == EmptyKey)
            {
                if (!insert)
                {
                    return -1;
                }

                slot = firstDeleted >= 0 ? firstDeleted : slot;
                _keys[slot] = gpa;
                _counts[slot] = 0;
                return slot;
            }
        }

        if (insert && firstDeleted >= 0)
        {
            _keys[firstDeleted] = gpa;
            _counts[firstDeleted] = 0;
            return firstDeleted;
        }

        return -1;
    }

    /// <summary>Forgets the values of the entries of guest frame <paramref name="gfn"/> (its shadow pages are all write-protected and exact again).</summary>
    public void ForgetFrame(ulong gfn)
    {
        lock (_lock)
        {
            for (ulong gpa = gfn << 12; gpa < (gfn + 1) << 12; gpa += 8)
            {
                int slot = Slot(gpa, insert: false);
                if (slot < 0)
                {
                    continue;
                }

                while (_counts[slot] > 0)
                {
                    FreeOldest(slot);
                }

                _keys[slot] = DeletedKey;
            }
        }
    }

    /// <summary>INVLPG of <paramref name="va"/> in address space <paramref name="context"/>: that page's translations there, and its global ones everywhere.</summary>
    public void Invlpg(ulong context, ulong va)
    {
        lock (_lock)
        {
            long now = ++_clock;
            _pageFlushes[(context, va >> 12)] = now;
            _globalPageFlushes[va >> 12] = now;
        }
    }

    /// <summary>
    /// MOV to CR3 that flushes address space <paramref name="context"/>: its non-global translations, and with
    /// <paramref name="globalPagesSurvive"/> false (CR4.PGE = 0: no translation is global) every one.
    /// </summary>
    public void FlushContext(ulong context, bool globalPagesSurvive)
    {
        lock (_lock)
        {
            long now = ++_clock;
            _contextFlushes[context] = now;
            if (!globalPagesSurvive)
            {
                _contextGlobalFlushes[context] = now;
            }
        }
    }

    /// <summary>Every translation of every address space, global ones too (a CR4.PGE change; INVEPT all-context).</summary>
    public void FlushAll()
    {
        lock (_lock)
        {
            _flushAll = ++_clock;
        }
    }

    /// <summary>
    /// The time of the last flush that removed from the TLB a translation of <paramref name="va"/> in address space
    /// <paramref name="context"/> (global when <paramref name="global"/>): the guest may still use any value the entry
    /// held after it, and no earlier one.
    /// </summary>
    public long LastFlush(ulong context, ulong va, bool global)
    {
        lock (_lock)
        {
            long last = _flushAll;
            last = Math.Max(last, _pageFlushes.GetValueOrDefault((context, va >> 12)));
            if (global)
            {
                last = Math.Max(last, _globalPageFlushes.GetValueOrDefault(va >> 12));
                last = Math.Max(last, _contextGlobalFlushes.GetValueOrDefault(context));
            }
            else
            {
                last = Math.Max(last, _contextFlushes.GetValueOrDefault(context));
            }

            return last;
        }
    }

    /// <summary>
    /// The values the 8-byte word at <paramref name="gpa"/> held after time <paramref name="since"/> and before it took
    /// the one it holds now (which the caller reads from memory), newest first, with the time each stopped being held.
    /// </summary>
    public void ValuesSince(ulong gpa, long since, List<(ulong Value, long Until)> values)
    {
        values.Clear();
        lock (_lock)
        {
            int slot = Slot(gpa, insert: false);
            if (slot < 0 || _counts[slot] == 0)
            {
                return;
            }

            for (int record = _newest[slot]; record >= 0 && _untils[record] > since; record = _older[record])
            {
                values.Add((_values[record], _untils[record]));
            }
        }
    }
}
