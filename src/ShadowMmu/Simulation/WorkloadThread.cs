using System;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// State the threads of one mode's run share: the stop request, each thread's published operation count, and the
/// pause through which the coordinator audits mid-run (every thread parked between two operations).
/// </summary>
internal sealed class WorkloadRun
{
    private const int Stride = 16;   // 128 bytes between published counters: no false sharing

    private readonly long[] _published;
    private readonly object _gate = new();
    private int _stop;
    private int _pauseRequested;
    private int _running, _parked, _generation;

    public WorkloadRun(int threads)
    {
        _published = new long[threads * Stride];
        _running = threads;
    }

    /// <summary>Set when the last thread has finished.</summary>
    public ManualResetEventSlim AllFinished { get; } = new(false);

    public bool StopRequested => Volatile.Read(ref _stop) != 0;

    public void RequestStop() => Volatile.Write(ref _stop, 1);

    public void Publish(int slot, long operations) => Volatile.Write(ref _published[slot * Stride], operations);

    /// <summary>Called by a thread between operations: parks it while the coordinator has every thread paused.</summary>
    public void PausePoint()
    {
        if (Volatile.Read(ref _pauseRequested) == 0)
        {
            return;
        }

        lock (_gate)
        {
            int generation = _generation;
            _parked++;
            Monitor.PulseAll(_gate);
            while (_pauseRequested != 0 && generation == _generation)
            {
                Monitor.Wait(_gate);
            }

            _parked--;
        }
    }

    /// <summary>Coordinator: returns once every running thread is parked at <see cref="PausePoint"/> (or finished).</summary>
    public void PauseAll()
    {
        lock (_gate)
        {
            Volatile.Write(ref _pauseRequested, 1);
            while (_parked < _running)
            {
                Monitor.Wait(_gate);
            }
        }
    }

    /// <summary>Coordinator: lets the parked threads go on.</summary>
    public void ResumeAll()
    {
        lock (_gate)
        {
            Volatile.Write(ref _pauseRequested, 0);
            _generation++;
            Monitor.PulseAll(_gate);
        }
    }

    public void Finished()
    {
        lock (_gate)
        {
            _running--;
            Monitor.PulseAll(_gate);
            if (_running == 0)
            {
                AllFinished.Set();
            }
        }
    }

    public long Total()
    {
        long total = 0;
        for (int i = 0; i < _published.Length; i += Stride)
        {
            total += Volatile.Read(ref _published[i]);
        }

        return total;
    }
}

/// <summary>
/// One thread of the workload: a vCPU making seeded random accesses over the working set, or a writer (a guest kernel
/// CPU) that also rewrites page-table entries at every level, issues INVLPG, switches CR3 and, rarely, zaps every
/// shadow page. Its stream of operations depends only on its seed; the loop allocates nothing.
/// </summary>
internal sealed class WorkloadThread
{
    // Probabilities in parts per million of an operation.
    private const int VcpuCr3SwitchPpm = 250;
    private const int WriterZapAllPpm = 20;
    private const int WriterCr3SwitchPpm = 2_000;

    // Entries a writer has taken rights away from and not yet put back: the guest stays mostly accessible while its
    // tables churn.
    private const int Pending = 8;


    private readonly WorkloadGuest _guest;
    private readonly Vm _vm;
    private readonly Vcpu _vcpu;
    private readonly Random _random;
    private readonly WorkloadRun _run;
    private readonly int _slot;
    private readonly long _budget;
    private readonly int _tableWritePpm;
    private readonly bool _cr3Switches;
    private readonly WorkloadPreemption? _races;
    private readonly WorkloadEntry[] _pending = new WorkloadEntry[Pending];
    private int _pendingFirst, _pendingCount;
    private bool _inB;

    /// <summary>A thread of <paramref name="vcpu"/> doing <paramref name="budget"/> operations drawn from <paramref name="seed"/>.</summary>
    /// <param name="guest">The guest.</param>
    /// <param name="vm">Its VM.</param>
    /// <param name="vcpu">This thread's vCPU.</param>
    /// <param name="writer">True for a writer thread.</param>
    /// <param name="seed">Seed of the thread's stream of operations.</param>
    /// <param name="run">What the mode's threads share.</param>
    /// <param name="slot">This thread's number in <paramref name="run"/>.</param>
    /// <param name="budget">Operations to do (long.MaxValue: until stopped).</param>
    /// <param name="tableWritePercent">Writers: the share of operations that rewrite a table entry.</param>
    /// <param name="cr3Switches">False to make CR3 switches (and a PAE writer's PDPTE reloads) plain accesses instead:
    /// <see cref="Vcpu.SetState"/> builds a new walker, the one thing an operation may allocate.</param>
    /// <param name="races">Writers: the race windows vCPUs open, to write into.</param>
    public WorkloadThread(WorkloadGuest guest, Vm vm, Vcpu vcpu, bool writer, int seed, WorkloadRun run, int slot, long budget, int tableWritePercent, bool cr3Switches = true, WorkloadPreemption? races = null)
    {
        _races = races;
        _cr3Switches = cr3Switches;
        _guest = guest;
        _vm = vm;
        _vcpu = vcpu;
        IsWriter = writer;
        _random = new Random(seed);
        _run = run;
        _slot = slot;
        _budget = budget;
        _tableWritePpm = tableWritePercent * 10_000;
        _inB = vcpu.State.Cr3 == guest.StateB.Cr3;
    }

    public bool IsWriter { get; }

    /// <summary>A writer of the fork workload (<see cref="SimulationWorkload.Fork"/>): whole tables rewritten, then a flush.</summary>
    public bool Fork { get; init; }

    // The fork workload's place: which table, which of its PTEs next, and whether this pass takes W away or gives it back.
    private int _forkTable, _forkEntry;
    private bool _forkRestores;

    public long Operations, Reads, Writes, Fetches, DirectMapWrites, LargePageSwitches, MisalignedWrites, Cr3Switches, ZapAlls;

    /// <summary>Table writes by level (index 1 = PTE).</summary>
    public readonly long[] TableWrites = new long[6];

    /// <summary>What stopped the thread, if not its budget or the stop request.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>The thread body.</summary>
    public void Main()
    {
        try
        {
            while (Operations < _budget && !_run.StopRequested)
            {
                if (IsWriter)
                {
                    WriterOperation();
                }
                else
                {
                    VcpuOperation();
                }

                Operations++;
                if ((Operations & 255) == 0)
                {
                    _run.Publish(_slot, Operations);
                }

                _run.PausePoint();
            }
        }
        catch (Exception e)
        {
            Failure = e;
            _run.RequestStop();
        }
        finally
        {
            _run.Publish(_slot, Operations);
            _run.Finished();
        }
    }

    private void VcpuOperation()
    {
        if (_random.Next(1_000_000) < VcpuCr3SwitchPpm)
        {
            SwitchCr3();
            return;
        }

        Access();
    }

    private void WriterOperation()
    {
        if (Fork)
        {
            ForkOperation();
            return;
        }

        int roll = _random.Next(1_000_000);
        if (roll < WriterZapAllPpm)
        {
            _vm.ZapAll();
            ZapAlls++;
        }
        else if (roll < WriterZapAllPpm + WriterCr3SwitchPpm)
        {
            SwitchCr3();
        }
        else if (roll < WriterZapAllPpm + WriterCr3SwitchPpm + _tableWritePpm)
        {
            TableWrite();
        }
        else
        {
            Access();
        }
    }

    /// <summary>
    /// A read, write or fetch at CPL 3 (mostly) or 0: a quarter in the hot region, most anywhere in the working set,
    /// large pages now and then.
    /// </summary>
    private void Access()
    {
        ulong[] pages = _guest.Pages;
        int small = _guest.SmallPages;
        int where = _random.Next(20);
        ulong page = where < 5 ? pages[_random.Next(WorkloadGuest.HotPages)]
            : where < 18 ? pages[_random.Next(small)]
            : pages[small + _random.Next(pages.Length - small)];
        ulong va = page | ((ulong)_random.Next(512) << 3);
        int cpl = _random.Next(4) == 0 ? 0 : 3;
        int kind = _random.Next(100);
        if (kind < 60)
        {
            _vcpu.Access(va, AccessKind.Read, cpl);
            Reads++;
        }
        else if (kind < 85)
        {
            _vcpu.Write(va, (ulong)_random.NextInt64(), 8, cpl);
            Writes++;
        }
        else
        {
            _vcpu.Access(va, AccessKind.Fetch, cpl);
            Fetches++;
        }
    }

    private void SwitchCr3()
    {
        if (!_cr3Switches)
        {
            Access();
            return;
        }

        _inB = !_inB;
        _vcpu.SetState(_inB ? _guest.StateB : _guest.StateA);
        Cr3Switches++;
    }

    /// <summary>
    /// Rewrites one guest entry (PTEs most often, then PDEs, then the levels above), the way a guest kernel does, then
    /// INVLPG for an address it maps; or gives back rights it took from an entry earlier (at most <see cref="Pending"/>
    /// are out at a time). PAE PDPTEs are registers: the writer reloads CR3 for its change to take effect.
    /// </summary>
    private void TableWrite()
    {
        int level = PickLevel();
        WorkloadEntry[] entries = _guest.EntriesByLevel[level];
        if (entries.Length == 0)
        {
            level = 1;
            entries = _guest.EntriesByLevel[1];
        }

        WorkloadEntry entry;
        ulong value;
        int window = -1;
        if (_pendingCount == Pending || (_pendingCount > 0 && _random.Next(4) == 0))
        {
            // Put back the oldest change still out (the guest's mprotect ends, the page comes back, the table is reused).
            entry = _pending[_pendingFirst];
            _pendingFirst = (_pendingFirst + 1) % Pending;
            _pendingCount--;
            level = entry.Level;
            value = entry.Original;
        }
        else
        {
            // A quarter of the PTE and PDE changes hit the hot region, where a quarter of the accesses go: races are likelier there.
            int pick = level <= 2 && _random.Next(4) == 0 ? _random.Next(Math.Min(level == 1 ? WorkloadGuest.HotPages : 1, entries.Length)) : _random.Next(entries.Length);

            // Half the time, an entry a sleeping vCPU's walk read at this level instead, if one is waiting (the same
            // draws either way: the stream of operations does not depend on the timing).
            if (_random.Next(2) == 0 && _races != null && _races.TryClaim(level, out ulong gpa, out window))
            {
                if (_guest.TryFindEntry(level, gpa, out int found))
                {
                    pick = found;
                }
            }

            entry = entries[pick];
            value = NewValue(in entry, out bool denies);
            if (denies)
            {
                _pending[(_pendingFirst + _pendingCount) % Pending] = entry;
                _pendingCount++;
            }
        }

        if (Store(entry.Gpa, value))
        {
            DirectMapWrites++;
        }

        if (window >= 0)
        {
            _races!.Done(window);
        }

        TableWrites[level]++;
        _vcpu.Invlpg(entry.Va);
        if (entry.Kind == WorkloadEntryKind.PaePdpte && _cr3Switches)
        {
            _vcpu.SetState(_inB ? _guest.StateB : _guest.StateA);
            Cr3Switches++;
        }
    }

    /// <summary>
    /// One step of the fork workload: the next PTE of the current table rewritten through the kernel's mapping of its
    /// page tables (W cleared for copy-on-write, or the original given back); after the table's last PTE, a flush:
    /// MOV to CR3 of the same address space (INVEPT single-context for a nested guest's L1), then the next table.
    /// </summary>
    private void ForkOperation()
    {
        WorkloadEntry[][] tables = _guest.LeafTables;
        WorkloadEntry[] table = tables[_forkTable];
        if (_forkEntry == table.Length)
        {
            if (_guest.Flags.IsEpt)
            {
                _vcpu.Invept(allContexts: false);
            }
            else if (_cr3Switches)
            {
                _vcpu.SetState(_inB ? _guest.StateB : _guest.StateA);
                Cr3Switches++;
            }

            _forkEntry = 0;
            _forkTable = _random.Next(tables.Length);
            _forkRestores = !_forkRestores;
            return;
        }

        WorkloadEntry entry = table[_forkEntry++];
        ulong value = _forkRestores ? entry.Original : entry.Original & ~_guest.Flags.Writable;
        if (Write(entry.Gpa, value, _guest.EntryBytes, viaMap: true))
        {
            DirectMapWrites++;
        }

        TableWrites[1]++;
    }

    private int PickLevel()
    {
        int roll = _random.Next(100);
        int root = _guest.Mode.RootLevel;
        if (roll < 65)
        {
            return 1;
        }

        if (roll < 85 || root == 2)
        {
            return 2;
        }

        return 3 + _random.Next(root - 2);
    }

    /// <summary>
    /// A new value for <paramref name="entry"/>: its original changed one way. <paramref name="denies"/> tells whether
    /// the change takes rights away (present, R/W, U/S, NX): those are put back soon; the others (another frame,
    /// another table, A/D cleared, a table turned into a large page or back) stay until the entry is picked again.
    /// </summary>
    private ulong NewValue(in WorkloadEntry entry, out bool denies)
    {
        ulong original = entry.Original;
        GuestEntryFlags f = _guest.Flags;
        denies = false;
        switch (entry.Kind)
        {
            case WorkloadEntryKind.Leaf:
                switch (_random.Next(8))
                {
                    case 0:
                    case 1:
                        // Remap the page to another frame.
                        return (original & ~_guest.FrameMask) | WorkloadGuest.DataFrame(_random.Next(WorkloadGuest.DataFrames));
                    case 2:
                        denies = true;
                        return original ^ f.Writable;
                    case 3:
                        denies = true;
                        return original ^ f.User;
                    case 4:
                        denies = true;
                        return f.ExecuteToggle != 0 ? original ^ f.ExecuteToggle : original ^ f.Writable;
                    case 5:
                        denies = true;
                        return original & ~f.PresentMask;
                    case 6:
                        return original & ~(f.Accessed | f.Dirty);
                    default:
                        return original & ~f.Dirty;
                }

            case WorkloadEntryKind.PaePdpte:
                denies = _random.Next(2) == 0;
                return denies ? original & ~f.PresentMask : Retarget(original, entry.Level);

            default:
                bool large = (original & f.PageSize) != 0;
                switch (_random.Next(entry.Kind == WorkloadEntryKind.TableOrLarge ? 8 : 7))
                {
                    case 0:
                    case 1:
                        // Point at another existing table of the same level (or, for a large page, another frame).
                        return large ? (original & ~_guest.FrameMask) | LargeFrame(entry.Level) : Retarget(original, entry.Level);
                    case 2:
                        denies = true;
                        return original ^ f.Writable;
                    case 3:
                        denies = true;
                        return original ^ f.User;
                    case 4:
                        denies = true;
                        return f.ExecuteToggle != 0 ? original ^ f.ExecuteToggle : original ^ f.Writable;
                    case 5:
                        denies = true;
                        return original & ~f.PresentMask;
                    case 6:
                        return original & ~(f.Accessed | f.Dirty);
                    default:
                        // A table becomes a large page, a large page a table.
                        LargePageSwitches++;
                        return large
                            ? (original & (f.Writable | f.User | f.ExecuteToggle | f.Accessed)) | f.Present | Table(entry.Level)
                            : (original & (f.Writable | f.User | f.ExecuteToggle)) | f.Present | f.Accessed | f.Dirty | f.PageSize | f.LeafExtra | LargeFrame(entry.Level);
                }
        }
    }

    private ulong Retarget(ulong original, int level) => (original & ~_guest.FrameMask) | Table(level);

    private ulong Table(int level)
    {
        ulong[] tables = _guest.TablesByLevel[level];
        return tables[_random.Next(tables.Length)];
    }

    private ulong LargeFrame(int level) => level == 2
        ? _guest.LargeFrame(_random.Next(3))
        : WorkloadGuest.HugePageFrame * (ulong)(1 + _random.Next(2));

    /// <summary>
    /// Stores <paramref name="value"/> into the entry at <paramref name="gpa"/>: usually one write of the entry's size;
    /// sometimes two 4-byte halves (as a PAE kernel writes 8-byte entries), one byte (a status-bit update, when only
    /// the low byte changes), or two bytes (narrower than an entry: the MMU zaps the whole shadow page). Half the time
    /// through the writer's own vCPU and the guest's direct map of its page tables, otherwise straight to the MMU.
    /// </summary>
    /// <returns>True when the store went through the direct map.</returns>
    private bool Store(ulong gpa, ulong value)
    {
        int entryBytes = _guest.EntryBytes;
        ulong current = _guest.Memory.ReadEntry(gpa, entryBytes);
        bool viaMap = _random.Next(2) == 0;
        int shape = _random.Next(100);
        if (entryBytes == 8 && shape < 10)
        {
            bool low = Write(gpa, value & 0xFFFF_FFFF, 4, viaMap);
            return Write(gpa + 4, value >> 32, 4, viaMap) && low;
        }

        if (shape < 25 && ((value ^ current) & ~0xFFUL) == 0)
        {
            return Write(gpa, value & 0xFF, 1, viaMap);
        }

        if (shape < 28 && ((value ^ current) & ~0xFFFFUL) == 0)
        {
            MisalignedWrites++;
            return Write(gpa, value & 0xFFFF, 2, viaMap);
        }

        return Write(gpa, value, entryBytes, viaMap);
    }

    private bool Write(ulong gpa, ulong value, int size, bool viaMap)
    {
        if (viaMap && _vcpu.Write(_guest.DirectMap + gpa, value, size, 0).Outcome != AccessOutcome.GuestFault)
        {
            return true;
        }

        _vm.GuestWrite(gpa, value, size);
        return false;
    }
}
