using System;
using BenchmarkDotNet.Attributes;

namespace ShadowMmu.Benchmarks.Shadow;

/// <summary>
/// Unsync page tables: what a sync costs. At INVLPG, a guest store into an unsync table (no trap) and the INVLPG that
/// re-reads that one entry (KVM's sync of one spte). At a CR3 load, the guest's first store into a table in sync (a
/// write fault that makes it unsync) and kvm_mmu_sync_roots (write-protect the table again, wait for stores through
/// writable leaves, re-read its 64 present entries). One operation is one of each.
/// </summary>
[MemoryDiagnoser]
public class UnsyncBenchmarks
{
    /// <summary>
    /// Operations per invocation: enough that the in-process quick run's own bytes per invocation (about 1 KB, not the
    /// benchmark thread's: the measured loop allocates nothing on it) stay under its per-operation threshold.
    /// </summary>
    public const int Ops = 1024;

    private ShadowRig _rig = null!;
    private Vcpu _vcpu = null!;
    private ulong _pteGpa, _pteOld, _pteNew, _storeVa;
    private int _entryBytes;

    /// <summary>The paging mode.</summary>
    [Params("legacy32", "pae", "long4", "long5", "ept4", "ept5")]
    public string Mode { get; set; } = "long4";

    [GlobalSetup]
    public void Setup()
    {
        _rig = new ShadowRig(Mode, 1);
        _vcpu = _rig.Vcpus[0];
        _entryBytes = _rig.Mode.EntryBytes;
        _pteGpa = _rig.LeafGpa;
        _pteOld = _rig.LeafValue;
        _pteNew = _pteOld ^ 0x2;   // W toggled: the same frame, other rights
        _storeVa = ShadowRig.TableMapVa + (_pteGpa & 0xFFF);
        for (int i = 0; i < 4; i++)
        {
            SyncAtInvlpg();
            if (UnsyncAndSyncAtCr3Load() != Ops)
            {
                throw new InvalidOperationException("The table did not go unsync at each first store.");
            }
        }

        if (!_rig.Vm.Audit().Clean)
        {
            throw new InvalidOperationException("The shadow MMU's audit failed after the unsync benchmarks' warm-up.");
        }
    }

    /// <summary>A store into the unsync table, then INVLPG of its address: the entry re-read (and its leaf updated).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public long SyncAtInvlpg()
    {
        Vcpu vcpu = _vcpu;
        long syncs = _rig.Vm.Stats.Syncs;
        for (int i = 0; i < Ops; i++)
        {
            vcpu.Write(_storeVa, (i & 1) == 0 ? _pteNew : _pteOld, _entryBytes, 3);
            vcpu.Invlpg(_rig.FaultVa);
        }

        return _rig.Vm.Stats.Syncs - syncs;
    }

    /// <summary>
    /// The sync a CR3 load makes (kvm_mmu_sync_roots: the unsync table write-protected again, its 64 present entries
    /// re-read), then the guest's first store into it (a write fault: the table goes unsync again). The CR3 write itself is left out: the
    /// model builds a new walker for it, which KVM does not.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public long UnsyncAndSyncAtCr3Load()
    {
        Vcpu vcpu = _vcpu;
        Vm vm = _rig.Vm;
        long unsync = vm.Stats.UnsyncPages;
        for (int i = 0; i < Ops; i++)
        {
            using (vm.MmuLock.Enter())
            {
                vm.SyncRoots(vcpu);
            }

            vcpu.Write(_storeVa, _pteOld, _entryBytes, 3);
        }

        return vm.Stats.UnsyncPages - unsync;
    }
}

/// <summary>
/// The fork workload's inner loop on one table of 64 pages, unsync on and off: the guest rewrites every PTE (W taken
/// away, then given back) through its mapping of the table, flushes each page with INVLPG, and touches each page
/// again. With unsync the table takes one write fault a round and INVLPG re-reads each entry; without, every store
/// traps (an exit each) and every access after INVLPG faults. One operation is one round; the counts per round are
/// printed at setup (faults and trapped writes: the exits a real hypervisor takes).
/// </summary>
[MemoryDiagnoser]
public class ForkWorkloadBenchmarks
{
    private ShadowRig _rig = null!;
    private Vcpu _vcpu = null!;
    private ulong[] _original = Array.Empty<ulong>();
    private int _entryBytes;
    private bool _protect;

    /// <summary>The paging mode.</summary>
    [Params("long4", "ept4")]
    public string Mode { get; set; } = "long4";

    /// <summary>Whether tables of 4 KiB pages go unsync.</summary>
    [Params(true, false)]
    public bool Unsync { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _rig = new ShadowRig(Mode, 1, Unsync);
        _vcpu = _rig.Vcpus[0];
        _entryBytes = _rig.Mode.EntryBytes;
        _original = new ulong[ShadowRig.Pages];
        for (int page = 0; page < ShadowRig.Pages; page++)
        {
            _original[page] = _rig.Memory.ReadEntry(_rig.TableGpa + (ulong)(page * _entryBytes), _entryBytes);
        }

        Round();
        if (_rig.Memory.ReadEntry(_rig.TableGpa, _entryBytes) != (_original[0] & ~2UL))
        {
            throw new InvalidOperationException("The guest's store into its page table did not land.");
        }

        ShadowStats s = _rig.Vm.Stats;
        long faults = s.Faults, trapped = s.TrappedWrites;
        const int Calibration = 64;
        for (int i = 0; i < Calibration; i++)
        {
            Round();
        }

        Console.WriteLine($"// fork round, {Mode}, unsync {(Unsync ? "on" : "off")}: {(double)(s.Faults - faults) / Calibration:0.##} faults and "
            + $"{(double)(s.TrappedWrites - trapped) / Calibration:0.##} trapped writes per round of {ShadowRig.Pages} PTE writes");
        if (!_rig.Vm.Audit().Clean)
        {
            throw new InvalidOperationException("The shadow MMU's audit failed after the fork rounds.");
        }
    }

    /// <summary>
    /// Rounds per invocation: enough that the in-process quick run's own bytes per invocation (about 1 KB, not the
    /// benchmark thread's) stay under its per-operation threshold.
    /// </summary>
    public const int Rounds = 128;

    /// <summary>One operation is one round.</summary>
    [Benchmark(OperationsPerInvoke = Rounds)]
    public int ForkRounds()
    {
        int translated = 0;
        for (int i = 0; i < Rounds; i++)
        {
            translated += Round();
        }

        return translated;
    }

    /// <summary>One round: 64 PTE stores through the guest's mapping of the table, 64 INVLPGs, 64 reads.</summary>
    private int Round()
    {
        Vcpu vcpu = _vcpu;
        _protect = !_protect;
        int translated = 0;
        for (int page = 0; page < ShadowRig.Pages; page++)
        {
            ulong value = _protect ? _original[page] & ~2UL : _original[page];
            vcpu.Write(ShadowRig.TableMapVa + (ulong)(page * _entryBytes), value, _entryBytes, 3);
        }

        for (int page = 0; page < ShadowRig.Pages; page++)
        {
            ulong va = ShadowRig.Base + ((ulong)page << 12);
            vcpu.Invlpg(va);
            translated += vcpu.Access(va, AccessKind.Read, 3).Outcome == AccessOutcome.Translated ? 1 : 0;
        }

        return translated;
    }
}
