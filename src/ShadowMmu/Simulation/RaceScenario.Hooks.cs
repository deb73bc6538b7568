using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace ShadowMmu;

public static partial class RaceScenario
{
    /// <summary>
    /// The scenario's hooks in the fault path: they narrate what the walk and fetch do, and inject the guest write at
    /// the order's point. Every hook runs on the faulting thread; a fetch-first write runs on a second thread, which
    /// only writes (the faulting thread narrates its trap handling after joining it).
    /// </summary>
    private sealed class RaceHooks : IFetchHooks
    {
        private static readonly TimeSpan WriterTimeout = TimeSpan.FromSeconds(30);

        private readonly Vm _vm;
        private readonly StepLog _steps;
        private readonly RaceOrder _order;
        private readonly string _recheckName;
        private readonly bool _checkRoot, _passPresent, _checkLeaf;
        private readonly RaceWrite _write;
        private readonly ulong _tableGfn;

        private GuestWalk _walk;
        private string _leafRead = string.Empty;   // the leaf as the walk read it, for the log: formatted before the lock
        private Vcpu? _vcpu;
        private int _fault;
        private int _next;              // the shadow level fetch handles next
        private int _pendingCheck;      // the guest level whose entry fetch re-checks after the last AfterChildPage, or 0
        private bool _rootCheckPending; // fetch's first step, the root entry's re-check, is not narrated yet
        private string? _pendingLink;   // the link fetch makes once the pending re-check passes
        private long _created, _prefetched;

        private Thread? _writer;
        private ManualResetEventSlim? _landed;
        private Exception? _writerError;
        private bool _writerOk;
        private List<(ShadowPage Page, ulong[] Entries)>? _beforeHandler;

        public RaceHooks(Vm vm, StepLog steps, RaceOrder order, RecheckOrder recheck, RaceWrite write)
        {
            _vm = vm;
            _steps = steps;
            _order = order;
            _recheckName = Name(recheck);
            (_checkRoot, _passPresent, _checkLeaf) = (recheck.ChecksRoot(), recheck.PassesPresentEntries(), recheck.ChecksLeaf());
            _write = write;
            _tableGfn = write.Gpa >> 12;
        }

        /// <summary>True once the guest's write is in memory.</summary>
        public bool Written { get; private set; }

        private string Entry => $"{EntryName(_write.Level)} at 0x{_write.Gpa:x}";

        private GuestMemory Memory => _vm.Memory;

        private IShadowFetcher Fetcher => (IShadowFetcher)_vcpu!.Walker;

        public void AfterChildPage(int level, ShadowPage child)
        {
            ResolveRootCheck(retry: false);
            ResolvePendingCheck(retry: false);
            PassLevels(level + 2);
            int parentLevel = level + 1;
            ShadowPage? parent = PageAt(parentLevel);
            int index = Vcpu.ShadowIndex(_walk.Va, parentLevel);
            bool created = _vm.Stats.ShadowPagesCreated > _created;
            _created = _vm.Stats.ShadowPagesCreated;
            bool linked = parent != null && Spte.IsPresent(parent[index]) && Spte.ChildId(parent[index]) == child.Id;
            string what = $"{Page(child)} for the {TableName(level)} the walk's {EntryName(parentLevel)} names";
            string how = created
                ? $"created {what}; that table is write-protected from now on"
                : $"found {what}{(linked ? ", already linked" : "")}";
            _steps.Add($"fetch: level-{parentLevel} shadow entry {Slot(parent, index)}: {how}");
            _next = level;
            _pendingCheck = level;
            _pendingLink = linked ? null : $"fetch: links {Slot(parent, index)} -> sp#{child.Id}";
            if (_order == RaceOrder.FetchFirst && !Written && level == _write.Level)
            {
                LandFromOtherThread($"after fetch obtained the shadow page of the {TableName(level)}, before it re-checks the {EntryName(level)}");
            }
        }

        public void AfterWalk(Vcpu vcpu, in GuestWalk walk)
        {
            _vcpu = vcpu;
            _walk = walk;
            _fault++;
            _steps.Add($"fault {_fault}: the shadow tables miss 0x{walk.Va:x}; the guest walk runs without the mmu_lock");
            for (int level = walk.MaxLevel; level >= walk.Level; level--)
            {
                ulong pte = walk.Ptes[level - 1];
                string target = Fetcher.TryDecodeGpte(pte, level, out GpteInfo info)
                    ? (info.MapsPage ? $"page 0x{info.Gfn << 12:x}" : $"table 0x{info.Gfn << 12:x}")
                    : "not present";
                _steps.Add($"walk: read {EntryName(level)} at 0x{walk.PteGpa[level - 1]:x} = 0x{pte:x} -> {target}");
            }

            _leafRead = $"0x{walk.Ptes[walk.Level - 1]:x}";

            if (_order == RaceOrder.WriteFirst && !Written)
            {
                WriteNow();
            }
        }

        public void BeforeFetch(Vcpu vcpu, in GuestWalk walk)
        {
            _walk = walk;
            ShadowPage? root = vcpu.RootFor(walk.Va);
            _next = root?.Role.Level ?? Fetcher.ShadowRootLevel;
            _pendingCheck = 0;
            _pendingLink = null;
            _rootCheckPending = _checkRoot && (_checkLeaf || walk.Level != _next);
            _created = _vm.Stats.ShadowPagesCreated;
            _prefetched = _vm.Stats.Prefetched;
            _steps.Add($"fetch: mmu_lock taken; re-check order {_recheckName}; root {(root == null ? "none" : Page(root))}");
            if (_order == RaceOrder.FetchFirst && !Written && _write.Level == _next)
            {
                LandFromOtherThread($"the {TableName(_next)} is the root's table, write-protected since the root was made, and fetch has not re-checked it yet");
            }
        }

        public void AfterFetch(Vcpu vcpu, FetchOutcome outcome)
        {
            bool retry = outcome == FetchOutcome.Retry;
            bool explained = _rootCheckPending || _pendingCheck != 0;
            ResolveRootCheck(retry);
            ResolvePendingCheck(retry);
            if (!retry)
            {
                PassLevels(2);
                ShadowPage? leafPage = PageAt(1);
                int index = Vcpu.ShadowIndex(_walk.Va, 1);
                ulong spte = leafPage?[index] ?? 0;
                _steps.Add($"fetch: installs the leaf {Slot(leafPage, index)} -> frame 0x{(leafPage?.GfnAt(index) ?? 0) << 12:x}, "
                    + $"from the {EntryName(_walk.Level)} the walk read ({_leafRead})");
                long prefetched = _vm.Stats.Prefetched - _prefetched;
                if (prefetched > 0)
                {
                    _steps.Add($"fetch: prefetches {prefetched} neighbour(s) from the group read");
                }
            }
            else if (!explained)
            {
                _steps.Add("fetch: retry");
            }

            if (_order == RaceOrder.FetchFirst && !Written)
            {
                LandFromOtherThread($"fetch passed the {TableName(_write.Level)} without a lookup, so nothing in it reads the {EntryName(_write.Level)}: the write lands at the end of fetch, before the mmu_lock is released");
            }

            if (_writer != null && _beforeHandler == null)
            {
                _beforeHandler = Snapshot(_vm.SnapshotPagesHeld());
            }
        }

        public void AfterUnlock(Vcpu vcpu)
        {
            _steps.Add($"fault {_fault}: mmu_lock released");
            JoinWriter();
        }

        /// <summary>Joins the writer if the fault path never did (an exception), so no thread outlives the scenario.</summary>
        public void Finish()
        {
            if (_writer != null && _beforeHandler == null)
            {
                _beforeHandler = Snapshot(_vm.SnapshotPages());
            }

            JoinWriter();
        }

        /// <summary>Write-first: the guest's write on the faulting thread, between the walk and the mmu_lock; its trap handling completes here.</summary>
        private void WriteNow()
        {
            List<(ShadowPage Page, ulong[] Entries)> before = Snapshot(_vm.SnapshotPages());
            long trapped = _vm.Stats.TrappedWrites;
            if (!_vm.GuestWrite(_write.Gpa, _write.NewValue, _write.Size))
            {
                throw new InvalidOperationException($"Race scenario: the guest write to 0x{_write.Gpa:x} did not land.");
            }

            Written = true;
            bool wasTrapped = _vm.Stats.TrappedWrites > trapped;
            _steps.Add($"guest writes the {Entry}: 0x{_write.OldValue:x} -> 0x{_write.NewValue:x} "
                + (wasTrapped
                    ? $"(trapped: the {TableName(_write.Level)} is shadowed by {string.Join(", ", before.Select(b => $"sp#{b.Page.Id}"))})"
                    : $"(not trapped: no shadow page shadows the {TableName(_write.Level)} yet)"));
            if (wasTrapped)
            {
                _steps.Add($"trap handler (takes the mmu_lock, finishes before fetch): {DescribeZaps(before)}");
            }
        }

        /// <summary>Fetch-first: a second thread writes while fetch holds the mmu_lock; we return once the bytes are in memory.</summary>
        private void LandFromOtherThread(string when)
        {
            var landed = new ManualResetEventSlim(false);
            _landed = landed;
            _writer = new Thread(() =>
            {
                try
                {
                    // Its trap handling takes the mmu_lock: it waits until the fault path releases it.
                    _writerOk = _vm.GuestWrite(_write.Gpa, _write.NewValue, _write.Size, () => landed.Set());
                }
                catch (Exception e)
                {
                    _writerError = e;
                }
                finally
                {
                    landed.Set();
                }
            })
            {
                IsBackground = true,
                Name = "race scenario: guest writer",
            };
            _writer.Start();
            if (!landed.Wait(WriterTimeout))
            {
                throw new TimeoutException("Race scenario: the guest writer thread did not write in time.");
            }

            if (_writerError != null)
            {
                throw new InvalidOperationException("Race scenario: the guest writer failed.", _writerError);
            }

            Written = true;
            bool protectedNow = _vm.IsWriteProtected(_tableGfn);
            _steps.Add($"guest writes the {Entry} from another thread ({when}): 0x{_write.OldValue:x} -> 0x{_write.NewValue:x} is in memory; "
                + (protectedNow
                    ? $"the {TableName(_write.Level)} is write-protected, so the write traps and its handler waits for the mmu_lock"
                    : $"the {TableName(_write.Level)} is not write-protected: the write does not trap"));
        }

        private void JoinWriter()
        {
            if (_writer == null)
            {
                return;
            }

            if (!_writer.Join(WriterTimeout))
            {
                throw new TimeoutException("Race scenario: the guest writer thread did not finish.");
            }

            _writer = null;
            _landed?.Dispose();
            _landed = null;
            if (_writerError != null)
            {
                throw new InvalidOperationException("Race scenario: the guest writer failed.", _writerError);
            }

            if (!_writerOk)
            {
                throw new InvalidOperationException($"Race scenario: the guest write to 0x{_write.Gpa:x} did not land.");
            }

            _steps.Add($"trap handler (the writer's thread, once the mmu_lock is free): {DescribeZaps(_beforeHandler ?? new())}");
            _beforeHandler = null;
        }

        /// <summary>Fetch's root re-check is narrated at the first event after it: it passed, or fetch retried right away.</summary>
        private void ResolveRootCheck(bool retry)
        {
            if (!_rootCheckPending)
            {
                return;
            }

            _rootCheckPending = false;
            NarrateCheck(_next, retry, "in the root's table, write-protected since the root was made");
        }

        private void ResolvePendingCheck(bool retry)
        {
            if (_pendingCheck == 0)
            {
                return;
            }

            int level = _pendingCheck;
            string? link = _pendingLink;
            _pendingCheck = 0;
            _pendingLink = null;
            if (!_checkLeaf && _walk.Level == level)
            {
                _steps.Add($"fetch: the {EntryName(level)} is not re-checked ({_recheckName})");
            }
            else
            {
                NarrateCheck(level, retry, level == 1 ? "read with its aligned group of 8, which the prefetch reuses" : null);
            }

            if (!retry && link != null)
            {
                _steps.Add(link);
            }
        }

        private void NarrateCheck(int level, bool retry, string? note)
        {
            ulong gpa = _walk.PteGpa[level - 1];
            ulong then = _walk.Ptes[level - 1];
            ulong now = Memory.ReadEntry(gpa, _write.Size);
            string what = $"fetch: re-check of the {EntryName(level)} at 0x{gpa:x}{(note == null ? "" : $" ({note})")}";
            _steps.Add(now != then
                ? $"{what}: changed since the walk (0x{then:x} -> 0x{now:x}){(retry ? ": retry the fault" : "")}"
                : $"{what}: unchanged{(retry ? "; fetch retries" : "")}");
        }

        /// <summary>The pre-fix order passes levels whose shadow entry is present: narrate them down to <paramref name="downTo"/>.</summary>
        private void PassLevels(int downTo)
        {
            for (int level = _next; level >= downTo; level--)
            {
                ShadowPage? page = PageAt(level);
                int index = Vcpu.ShadowIndex(_walk.Va, level);
                string child = page != null && Spte.IsPresent(page[index]) ? $" (links sp#{Spte.ChildId(page[index])})" : "";
                _steps.Add($"fetch: level-{level} shadow entry {Slot(page, index)} is present{child}: passed without a lookup or a re-check ({_recheckName})");
                _next = level - 1;
            }
        }

        /// <summary>The shadow page at <paramref name="level"/> on the faulting address's path, following present links from the root.</summary>
        private ShadowPage? PageAt(int level)
        {
            ShadowPage? page = _vcpu!.RootFor(_walk.Va);
            for (int at = page?.Role.Level ?? 0; page != null && at > level; at--)
            {
                ulong spte = page[Vcpu.ShadowIndex(_walk.Va, at)];
                page = Spte.IsPresent(spte) ? _vm.Page(Spte.ChildId(spte)) : null;
            }

            return page;
        }

        /// <summary>Those of <paramref name="valid"/> that shadow the rewritten entry's table, with their entries, to see what the trap handler zaps.</summary>
        private List<(ShadowPage Page, ulong[] Entries)> Snapshot(List<ShadowPage> valid)
        {
            var pages = new List<(ShadowPage Page, ulong[] Entries)>();
            foreach (ShadowPage page in valid)
            {
                if (!page.Role.Direct && page.Gfn == _tableGfn)
                {
                    var entries = new ulong[ShadowPage.EntryCount];
                    for (int i = 0; i < entries.Length; i++)
                    {
                        entries[i] = page[i];
                    }

                    pages.Add((page, entries));
                }
            }

            return pages;
        }

        private static string DescribeZaps(List<(ShadowPage Page, ulong[] Entries)> before)
        {
            var zapped = new List<string>();
            foreach ((ShadowPage page, ulong[] entries) in before)
            {
                if (!page.Valid)
                {
                    zapped.Add($"the whole page sp#{page.Id}");
                    continue;
                }

                for (int i = 0; i < entries.Length; i++)
                {
                    if (Spte.IsPresent(entries[i]) && !Spte.IsPresent(page[i]))
                    {
                        zapped.Add(page.Role.Level == 1
                            ? $"sp#{page.Id}[{i}] (it mapped frame 0x{page.GfnAt(i) << 12:x})"
                            : $"sp#{page.Id}[{i}] (it linked sp#{Spte.ChildId(entries[i])})");
                    }
                }
            }

            return zapped.Count == 0
                ? "zaps nothing: no shadow entry is derived from that guest entry now"
                : $"zaps shadow entry {string.Join(", ", zapped)}";
        }

        private static string Page(ShadowPage page) => $"sp#{page.Id} (level {page.Role.Level}, table 0x{page.Gfn << 12:x})";

        private static string Slot(ShadowPage? page, int index) => page == null ? $"?[{index}]" : $"sp#{page.Id}[{index}]";
    }
}
