using System.Linq;
using Xunit;

namespace ShadowMmu.Tests.Shadow.Unsync;

/// <summary>
/// Unsync shadow pages under KVM's conditions (mmu_try_to_unsync_pages): a table of 4 KiB pages that the guest maps
/// writable goes unsync; tables of upper levels, frames also shadowed at an upper level, prefetch and a VM with unsync
/// off stay write-protected; the flushes sync (INVLPG one entry, a CR3 load every table the root reaches).
/// </summary>
public class UnsyncTests
{
    private const ulong Va = ScenarioGuest.Va;
    private const ulong TableMap = 0x8000_0000, DirectoryMap = 0x8020_0000;

    private sealed class Rig : System.IDisposable
    {
        public Rig(string mode, bool unsync = true, ulong extraCr4 = 0)
        {
            Guest = ScenarioGuest.Build(mode);
            GuestEntryFlags f = Guest.Flags;
            ulong leaf = f.Present | f.Leaf(writable: true, user: f.IsEpt, execute: false);
            ulong table = f.Present | f.Writable | f.User | f.Executable | f.Accessed;
            PteGpa = Guest.PteGpa;
            PdeGpa = Guest.Builder.EntryAddress(Va, 2)!.Value;
            Guest.Builder.Map(TableMap, PteGpa & ~0xFFFUL, 0x1000, leaf, table);
            Guest.Builder.Map(DirectoryMap, PdeGpa & ~0xFFFUL, 0x1000, leaf, table);
            Vm = new Vm(Guest.Memory) { UnsyncEnabled = unsync };
            Vcpu = Vm.AddVcpu(Guest.Cpu with { Cr4 = Guest.Cpu.Cr4 | extraCr4 });
            Assert.Equal(AccessOutcome.Translated, Vcpu.Access(Va, AccessKind.Read, 3).Outcome);
        }

        public ScenarioGuest Guest { get; }

        public Vm Vm { get; }

        public Vcpu Vcpu { get; }

        public ulong PteGpa { get; }

        public ulong PdeGpa { get; }

        public int EntryBytes => Guest.Info.EntryBytes;

        public ShadowPage Table => ScenarioGuest.LeafPage(Vcpu, Va, out _)!;

        public ulong Pte => Guest.Memory.ReadEntry(PteGpa, EntryBytes);

        public ulong Remapped => (Pte & ~Guest.FrameMask) | ScenarioGuest.NewFrame;

        public AccessResult StoreTable(ulong gpa, ulong value) => Vcpu.Write(TableMap + (gpa & 0xFFF), value, EntryBytes, 0);

        public ulong Read() => Vcpu.Access(Va, AccessKind.Read, 3).Gpa;

        public void Dispose() => Guest.Dispose();
    }

    public static TheoryData<string> Modes => new() { "legacy32", "pae", "long4", "long5", "ept4", "ept5" };

    public static TheoryData<string> X86Modes => new() { "legacy32", "pae", "long4", "long5" };

    [Theory]
    [MemberData(nameof(Modes))]
    public void A_table_of_4k_pages_goes_unsync_when_the_guest_writes_it_through_a_writable_mapping(string mode)
    {
        using var rig = new Rig(mode);
        Assert.True(rig.Vm.IsWriteProtected(rig.PteGpa >> 12));

        AccessResult first = rig.StoreTable(rig.PteGpa + (ulong)rig.EntryBytes, rig.Guest.Memory.ReadEntry(rig.PteGpa + (ulong)rig.EntryBytes, rig.EntryBytes));
        long trapped = rig.Vm.Stats.TrappedWrites;
        rig.StoreTable(rig.PteGpa, rig.Remapped);

        Assert.Equal(AccessOutcome.Translated, first.Outcome);
        Assert.True(rig.Table.Unsync);
        Assert.False(rig.Vm.IsWriteProtected(rig.PteGpa >> 12));
        Assert.Equal(trapped, rig.Vm.Stats.TrappedWrites);
        Assert.Equal(1, rig.Vm.Stats.UnsyncPages);
        Assert.Equal(2, rig.Vm.Stats.GuestPteWrites);
        // The vCPU may still use the old translation: the guest has not flushed.
        Assert.Equal(ScenarioGuest.OldFrame, rig.Read());
        AuditResult audit = rig.Vm.Audit();
        Assert.True(audit.Clean, string.Join("\n", audit.Stale));
        Assert.Equal(1, audit.Pending);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void With_unsync_off_every_write_to_a_shadowed_table_traps(string mode)
    {
        using var rig = new Rig(mode, unsync: false);

        AccessResult store = rig.StoreTable(rig.PteGpa, rig.Remapped);

        Assert.Equal(AccessOutcome.Emulated, store.Outcome);
        Assert.False(rig.Table.Unsync);
        Assert.Equal(1, rig.Vm.Stats.TrappedWrites);
        Assert.Equal(0, rig.Vm.Stats.UnsyncPages);
        Assert.Equal(ScenarioGuest.NewFrame, rig.Read());
        Assert.True(rig.Vm.Audit() is { Clean: true, Pending: 0 });
    }

    [Theory]
    [InlineData("long4")]
    [InlineData("long5")]
    [InlineData("ept4")]
    public void A_page_directory_never_goes_unsync(string mode)
    {
        using var rig = new Rig(mode);
        ulong pde = rig.Guest.Memory.ReadEntry(rig.PdeGpa, rig.EntryBytes);

        AccessResult store = rig.Vcpu.Write(DirectoryMap + (rig.PdeGpa & 0xFFF), pde, rig.EntryBytes, 0);

        Assert.Equal(AccessOutcome.Emulated, store.Outcome);
        Assert.True(rig.Vm.IsWriteProtected(rig.PdeGpa >> 12));
        Assert.Equal(1, rig.Vm.Stats.TrappedWrites);
        Assert.Equal(0, rig.Vm.Stats.UnsyncPages);
    }

    [Fact]
    public void A_table_also_shadowed_at_an_upper_level_stays_write_protected_and_its_unsync_pages_are_zapped()
    {
        using var rig = new Rig("long4");
        rig.StoreTable(rig.PteGpa, rig.Pte);
        ShadowPage unsync = rig.Table;
        Assert.True(unsync.Unsync);

        // The guest now uses the page table's frame as a page directory too: the next PDPTE points at it, and the
        // page its entry 0 names (read as a page table) maps a page.
        ulong pdpteGpa = rig.Guest.Builder.EntryAddress(Va, 3)!.Value + 8;
        ulong tableFrame = rig.PteGpa & ~0xFFFUL;
        rig.Vm.GuestWrite(pdpteGpa, tableFrame | 0x27, 8);
        rig.Vm.GuestWrite(ScenarioGuest.OldFrame, 0x60_0000 | 0x67, 8);
        Assert.Equal(0x60_0000UL, rig.Vcpu.Access(0x4000_0000, AccessKind.Read, 0).Gpa);

        Assert.False(unsync.Valid);
        Assert.True(rig.Vm.IsWriteTracked(tableFrame >> 12));
        Assert.Equal(AccessOutcome.Emulated, rig.StoreTable(rig.PteGpa, rig.Pte).Outcome);
        Assert.True(rig.Vm.Audit().Clean, string.Join("\n", rig.Vm.Audit().Stale));
    }

    [Theory]
    [MemberData(nameof(X86Modes))]
    public void Invlpg_syncs_the_entry_and_a_cr3_load_syncs_and_write_protects_the_table(string mode)
    {
        using var rig = new Rig(mode);
        rig.StoreTable(rig.PteGpa, rig.Remapped);
        ulong secondGpa = rig.PteGpa + (ulong)rig.EntryBytes;
        ulong second = rig.Guest.Memory.ReadEntry(secondGpa, rig.EntryBytes);
        rig.StoreTable(secondGpa, second & ~rig.Guest.Flags.Writable);

        rig.Vcpu.Invlpg(Va);

        Assert.Equal(ScenarioGuest.NewFrame, rig.Read());
        Assert.True(rig.Table.Unsync);
        Assert.Equal(1, rig.Vm.Audit().Pending);   // the second entry: not flushed yet

        rig.Vcpu.SetState(rig.Vcpu.State);

        Assert.False(rig.Table.Unsync);
        Assert.True(rig.Vm.IsWriteProtected(rig.PteGpa >> 12));
        Assert.True(rig.Vm.Audit() is { Clean: true, Pending: 0 });
        Assert.Equal(AccessOutcome.Translated, rig.StoreTable(rig.PteGpa, rig.Pte).Outcome);   // goes unsync again
        Assert.True(rig.Table.Unsync);
    }

    [Fact]
    public void A_pcid_no_flush_load_of_a_cached_root_keeps_the_write_pending_and_a_flushing_load_syncs_it()
    {
        using var rig = new Rig("long4", extraCr4: Cr4.PCIDE | Cr4.PGE);
        ulong cr3 = rig.Vcpu.State.Cr3;
        rig.StoreTable(rig.PteGpa, rig.Remapped);
        Assert.Equal(1, rig.Vm.Audit().Pending);

        // Away to another address space (PCID 1, its own root) and back to PCID 0 without a flush.
        ulong otherRoot = rig.Guest.Builder.AllocatePage();
        rig.Vcpu.MovToCr3(otherRoot | 1);
        rig.Vcpu.MovToCr3(cr3 | (1UL << 63));

        Assert.True(rig.Table.Unsync);
        Assert.Equal(ScenarioGuest.OldFrame, rig.Read());
        Assert.True(rig.Vm.Audit() is { Clean: true, Pending: 1 });

        rig.Vcpu.MovToCr3(cr3);
        Assert.Equal(ScenarioGuest.NewFrame, rig.Read());
        Assert.True(rig.Vm.Audit() is { Clean: true, Pending: 0 });
    }

    [Theory]
    [MemberData(nameof(X86Modes))]
    public void The_audit_calls_a_leaf_stale_once_the_guest_flushed_its_address_and_the_mmu_did_not_sync(string mode)
    {
        using var rig = new Rig(mode);
        rig.StoreTable(rig.PteGpa, rig.Remapped);
        Assert.Equal(1, rig.Vm.Audit().Pending);

        // A broken MMU: the guest's INVLPG is recorded, but nothing re-reads the entry.
        ShadowPage root = rig.Vcpu.RootFor(Va)!;
        rig.Vm.Tlb.Invlpg(Vm.ContextOf(root), Vm.WithinRoot(root, Va));

        AuditResult audit = rig.Vm.Audit();
        StaleEntry stale = Assert.Single(audit.Stale);
        Assert.Contains($"but the guest maps 0x{ScenarioGuest.NewFrame >> 12:x}", stale.Problem);
        Assert.Equal(0, audit.Pending);
    }

    [Fact]
    public void Prefetch_never_makes_a_table_unsync()
    {
        using var rig = new Rig("long4");
        // The table maps itself writable at a neighbour of va: prefetch may map it, read-only.
        ulong selfPteGpa = rig.PteGpa + (ulong)rig.EntryBytes * 2;
        ulong self = (rig.Guest.Memory.ReadEntry(rig.PteGpa, 8) & ~rig.Guest.FrameMask) | (rig.PteGpa & ~0xFFFUL);
        rig.Vm.GuestWrite(selfPteGpa, self, 8);
        rig.Vcpu.Invlpg(Va);
        rig.Vcpu.Access(Va, AccessKind.Read, 3);

        ShadowPage table = rig.Table;
        Assert.False(table.Unsync);
        Assert.Equal(0UL, table[2] & Spte.Writable);
    }

    /// <summary>
    /// A guest store into an unsync table during a sync (issue 17, section 4 b): the vCPU's store comes after the sync
    /// (a CR3 load; INVEPT for a nested guest) write-protected the table and before it re-reads the entries. The store
    /// must not be lost: its write fault waits for the mmu_lock the sync holds, then makes the table unsync again, and
    /// the store lands; the leaf the sync re-read is pending until the guest flushes it. A sync that re-read the entries
    /// before it write-protected the table would let the store land unseen into a table it then calls in sync: stale.
    /// </summary>
    [Theory]
    [MemberData(nameof(Modes))]
    public void A_store_during_a_sync_waits_for_it_and_is_never_lost(string mode)
    {
        using var rig = new Rig(mode);
        ulong neighbourGpa = rig.PteGpa + (ulong)rig.EntryBytes;
        rig.StoreTable(neighbourGpa, rig.Guest.Memory.ReadEntry(neighbourGpa, rig.EntryBytes));
        Assert.True(rig.Table.Unsync);
        ulong remapped = rig.Remapped;
        long trapped = rig.Vm.Stats.TrappedWrites;
        bool ept = rig.Guest.Flags.IsEpt;

        var during = new StoreDuringSync(() => rig.StoreTable(rig.PteGpa, remapped));
        rig.Vm.Scheduling = during;
        if (ept)
        {
            rig.Vcpu.Invept(allContexts: false);
        }
        else
        {
            rig.Vcpu.SetState(rig.Vcpu.State);
        }

        rig.Vm.Scheduling = null;
        during.Finish();

        Assert.True(during.StoreWaitedForTheLock, "the store did not wait for the sync's mmu_lock");
        Assert.Equal(remapped, rig.Pte);
        Assert.True(rig.Table.Unsync);
        Assert.Equal(trapped, rig.Vm.Stats.TrappedWrites);
        AuditResult audit = rig.Vm.Audit();
        Assert.True(audit.Clean, string.Join("\n", audit.Stale));
        Assert.Equal(1, audit.Pending);

        if (ept)
        {
            rig.Vcpu.Invept(allContexts: false);
        }
        else
        {
            rig.Vcpu.Invlpg(Va);
        }

        Assert.Equal(ScenarioGuest.NewFrame, rig.Read());
        Assert.True(rig.Vm.Audit() is { Clean: true, Pending: 0 });
    }

    /// <summary>
    /// At the sync's <see cref="SchedulingPoint.SyncAfterProtect"/>, starts the store on another thread and lets the sync
    /// go on once the store waits for the mmu_lock (or has landed without it).
    /// </summary>
    private sealed class StoreDuringSync : ISchedulingPoints
    {
        private readonly System.Action _store;
        private readonly System.Threading.ManualResetEventSlim _waitingOrDone = new();
        private System.Threading.Thread? _writer;
        private System.Exception? _error;

        public StoreDuringSync(System.Action store) => _store = store;

        public bool StoreWaitedForTheLock { get; private set; }

        public void At(SchedulingPoint point)
        {
            if (point != SchedulingPoint.SyncAfterProtect || _writer != null)
            {
                return;
            }

            _writer = new System.Threading.Thread(() =>
            {
                try
                {
                    _store();
                }
                catch (System.Exception e)
                {
                    _error = e;
                }
                finally
                {
                    _waitingOrDone.Set();
                }
            });
            _writer.Start();
            Assert.True(_waitingOrDone.Wait(System.TimeSpan.FromSeconds(30)), "the store neither landed nor waited for the mmu_lock");
        }

        public void Spin()
        {
            if (System.Threading.Thread.CurrentThread == _writer)
            {
                StoreWaitedForTheLock = true;
                _waitingOrDone.Set();
            }

            System.Threading.Thread.Yield();
        }

        public void Finish()
        {
            Assert.NotNull(_writer);
            _writer.Join();
            Assert.Null(_error);
        }
    }
}
