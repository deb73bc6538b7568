using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ShadowMmu;

/// <summary>
/// The runner: builds a guest, brings the shadow into the case's starting state, then makes one access fault and
/// injects the guest's write at the order's point, through <see cref="IFetchHooks"/> (see <see cref="RaceHooks"/>).
/// </summary>
/// <remarks>
/// <para>The rewritten entry, per case:</para>
/// <list type="bullet">
/// <item><description><see cref="RaceCase.Seed1a"/>: the PDE (level 2, the entry that points at the page table) of an
/// address whose whole shadow path exists; its shadow leaf is dropped with INVLPG so that the access faults while the
/// page directory is shadowed. The new PDE points at another page table. In 32-bit and PAE guests the page directory
/// is the root table, so the entry is re-checked (by the fixed orders) before fetch descends at all.</description></item>
/// <item><description><see cref="RaceCase.Seed1b"/>: the entry in the highest table below the root that is not yet
/// shadowed and that this fault will shadow; its parent table is shadowed through another address. With 4 and 5
/// levels that is the PDE in a page directory first shadowed by this fault. In 32-bit and PAE guests the only table
/// below the root is the page table, so the entry is the PTE, in a page table first shadowed by this
/// fault.</description></item>
/// <item><description><see cref="RaceCase.Seed2"/>: the PTE, in a page table shadowed before the fault (the leaf was
/// dropped with INVLPG). The new PTE maps another frame.</description></item>
/// </list>
/// <para>Orders: <see cref="RaceOrder.WriteFirst"/> writes between the walk and the mmu_lock, on the faulting
/// thread, through <see cref="Vm.GuestWrite(ulong, ulong, int)"/>: a trapped write's handling completes before
/// fetch. <see cref="RaceOrder.FetchFirst"/> writes while fetch holds the mmu_lock, once the table that holds the
/// entry is write-protected and before fetch re-reads the entry: at <see cref="IFetchHooks.AfterChildPage"/> for that
/// table; at <see cref="IFetchHooks.BeforeFetch"/> when the table is the root's (its re-check is fetch's first step);
/// at <see cref="IFetchHooks.AfterFetch"/> when fetch passed that level without a lookup (the pre-fix order with the
/// shadow entry present: nothing in fetch reads the entry). The write is made by a second thread; its trap handler
/// waits for the mmu_lock and runs when the fault path releases it, and the faulting thread joins it in
/// <see cref="IFetchHooks.AfterUnlock"/>, before the access is retried.</para>
/// </remarks>
public static partial class RaceScenario
{
    private const ulong Va = 0x40_0000;
    private const ulong OldFrame = 0x30_0000;
    private const ulong NewFrame = 0x50_0000;
    private const ulong OtherFrame = 0x60_0000;
    private const ulong MemorySize = 0x80_0000;
    private const ulong TablesStart = 0x1000;
    private const ulong TablesEnd = 0x20_0000;

    /// <summary>Leaves: present, writable, user, executable, accessed, dirty (so that no walk of this scenario writes A or D).</summary>
    private static ulong LeafFlags(GuestEntryFlags f) => f.Present | f.Leaf(writable: true, user: true, execute: true);

    /// <summary>Tables on the way: present, writable, user, executable, accessed.</summary>
    private static ulong TableFlags(GuestEntryFlags f) => f.Present | f.Writable | f.User | f.Executable | f.Accessed;

    /// <summary>Runs one combination (see the class remarks for what each case rewrites and where each order writes).</summary>
    /// <exception cref="ArgumentException">No built-in mode is named <paramref name="mode"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An enum value is not defined.</exception>
    /// <exception cref="InvalidOperationException">The case's starting state could not be reached, or the write never landed.</exception>
    public static partial RaceScenarioResult Run(string mode, RaceCase raceCase, RaceOrder order, RecheckOrder recheck, TextWriter? log)
    {
        ArgumentNullException.ThrowIfNull(mode);
        PagingModeInfo info = PagingModes.All.FirstOrDefault(m => m.Name == mode)
            ?? throw new ArgumentException($"No paging mode is named '{mode}' (modes: {string.Join(", ", PagingModes.All.Select(m => m.Name))}).", nameof(mode));
        if (!Enum.IsDefined(raceCase))
        {
            throw new ArgumentOutOfRangeException(nameof(raceCase), raceCase, null);
        }

        if (!Enum.IsDefined(order))
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, null);
        }

        if (!Enum.IsDefined(recheck))
        {
            throw new ArgumentOutOfRangeException(nameof(recheck), recheck, null);
        }

        var steps = new StepLog(log);
        steps.Add($"scenario: {Name(raceCase)} {Name(order)} with re-check order {Name(recheck)}, {info.Name} guest");

        using GuestMemory memory = GuestMemory.Allocate(MemorySize);
        var builder = new PageTableBuilder(memory, info, TablesStart, TablesEnd);
        int entryBytes = info.EntryBytes;
        ulong addressMask = entryBytes == 4 ? 0xFFFF_F000UL : 0x000F_FFFF_FFFF_F000UL;
        int indexBits = entryBytes == 4 ? 10 : 9;
        GuestEntryFlags flags = GuestEntryFlags.For(info);
        ulong leafGpa = builder.Map(Va, OldFrame, 0x1000, LeafFlags(flags), TableFlags(flags));
        // The registers that select the mode; for EPT, A/D flags on (set in the entries already, so no walk writes them).
        CpuState cpu = PagingModeFacts.Of(info).SelectingState(builder.Root);
        int shadowRootLevel = ((IShadowFetcher)PagingModes.CreateWalker(info.Name, memory, cpu)).ShadowRootLevel;
        steps.Add($"setup: guest tables (CR3 0x{builder.Root:x}) map 0x{Va:x} -> 0x{OldFrame:x}: "
            + string.Join(", ", Enumerable.Range(1, shadowRootLevel).Reverse().Select(l => $"{EntryName(l)} at 0x{builder.EntryAddress(Va, l)!.Value:x}")));

        // What the guest will rewrite, and the tables it needs for that.
        int level = raceCase switch
        {
            RaceCase.Seed1a => 2,
            RaceCase.Seed1b => shadowRootLevel > 2 ? 2 : 1,
            _ => 1,
        };
        ulong entryGpa = builder.EntryAddress(Va, level)!.Value;
        ulong oldValue = memory.ReadEntry(entryGpa, entryBytes);
        ulong newValue;
        if (level == 1)
        {
            newValue = (oldValue & ~addressMask) | NewFrame;
        }
        else
        {
            ulong newTable = builder.AllocatePage();
            memory.WriteEntry(newTable + (leafGpa & 0xFFF), LeafFlags(flags) | NewFrame, entryBytes);
            newValue = (oldValue & ~addressMask) | newTable;
            steps.Add($"setup: a second page table at 0x{newTable:x} maps 0x{Va:x} -> 0x{NewFrame:x}; nothing references it yet");
        }

        ulong otherVa = 0;
        if (raceCase == RaceCase.Seed1b)
        {
            // An address that shares every table above the rewritten entry's table, not that table itself.
            otherVa = Va + (1UL << (12 + (indexBits * level)));
            builder.Map(otherVa, OtherFrame, 0x1000, LeafFlags(flags), TableFlags(flags));
        }

        // The scenario narrates the seed's protocol, one exclusive hold per fault (the shared side's own scenarios: SharedSideScenario).
        var vm = new Vm(memory) { RecheckOrder = recheck, SharedFaults = false };
        Vcpu vcpu = vm.AddVcpu(cpu);
        ulong tableGfn = entryGpa >> 12;
        switch (raceCase)
        {
            case RaceCase.Seed1a:
            case RaceCase.Seed2:
                Translate(vcpu, Va, steps, "setup");
                vcpu.Invlpg(Va);
                steps.Add($"setup: invlpg 0x{Va:x} drops the shadow leaf; the next access faults");
                Require(vm.IsWriteProtected(tableGfn), $"the {TableName(level)} at 0x{tableGfn << 12:x} is shadowed");
                steps.Add($"setup: the {TableName(level)} at 0x{tableGfn << 12:x} holding the {EntryName(level)} is shadowed by {PagesOf(vm, tableGfn)}: writes to it trap");
                break;
            default:
                Translate(vcpu, otherVa, steps, "setup");
                ulong parentGfn = builder.EntryAddress(Va, level + 1)!.Value >> 12;
                Require(vm.IsWriteProtected(parentGfn), $"the {TableName(level + 1)} at 0x{parentGfn << 12:x} is shadowed");
                Require(!vm.IsWriteProtected(tableGfn), $"the {TableName(level)} at 0x{tableGfn << 12:x} is not shadowed yet");
                steps.Add($"setup: the {TableName(level + 1)} at 0x{parentGfn << 12:x} is shadowed by {PagesOf(vm, parentGfn)}; "
                    + $"the {TableName(level)} at 0x{tableGfn << 12:x} holding the {EntryName(level)} is not shadowed: writes to it do not trap");
                break;
        }

        Require(!vcpu.TryTranslate(Va, AccessKind.Read, 3, false, out _), $"0x{Va:x} misses in the shadow tables");
        steps.Add($"the guest will rewrite the {EntryName(level)} at 0x{entryGpa:x}: 0x{oldValue:x} -> 0x{newValue:x}, "
            + (order == RaceOrder.WriteFirst ? "between the walk and fetch" : "once fetch has begun, from another thread"));

        var write = new RaceWrite(level, entryGpa, entryBytes, oldValue, newValue, false);
        var hooks = new RaceHooks(vm, steps, order, recheck, write);
        long recheckFailures = vm.Stats.RecheckFailures, trapped = vm.Stats.TrappedWrites, faults = vm.Stats.Faults;
        steps.Add($"vCPU 0 reads 0x{Va:x}");
        vm.FetchHooks = hooks;
        AccessResult access;
        try
        {
            access = vcpu.Access(Va, AccessKind.Read, 3);
        }
        finally
        {
            vm.FetchHooks = null;
            hooks.Finish();
        }

        Require(hooks.Written, "the guest write landed");
        write = write with { Trapped = vm.Stats.TrappedWrites > trapped };
        recheckFailures = vm.Stats.RecheckFailures - recheckFailures;
        steps.Add(access.Outcome == AccessOutcome.Translated
            ? $"access: 0x{Va:x} -> 0x{access.Gpa:x} after {vm.Stats.Faults - faults} fault(s), {recheckFailures} re-check failure(s)"
            : $"access: {access.Outcome}");
        var walk = default(GuestWalk);
        steps.Add(PagingModes.CreateWalker(info.Name, memory, cpu).WalkAddr(ref walk, Va, AccessKind.Read, 3, false)
            ? $"guest tables now: 0x{Va:x} -> 0x{walk.PhysicalAddress:x}"
            : $"guest tables now: 0x{Va:x} does not translate");

        AuditResult audit = vm.Audit();
        if (audit.Clean)
        {
            steps.Add($"audit: clean ({audit.PagesChecked} shadow pages, {audit.EntriesChecked} present entries)");
        }

        foreach (StaleEntry stale in audit.Stale)
        {
            steps.Add($"audit: stale: {stale}");
        }

        return new RaceScenarioResult(info.Name, raceCase, order, recheck, steps.Lines, audit)
        {
            Write = write,
            RecheckFailures = recheckFailures,
            Stats = vm.Stats,
        };
    }

    private static void Translate(Vcpu vcpu, ulong va, StepLog steps, string phase)
    {
        AccessResult result = vcpu.Access(va, AccessKind.Read, 3);
        Require(result.Outcome == AccessOutcome.Translated, $"0x{va:x} translates");
        var path = new List<string>();
        ShadowPage? page = vcpu.RootFor(va);
        for (int level = page?.Role.Level ?? 0; page != null && level >= 1; level--)
        {
            path.Add($"sp#{page.Id}");
            ulong spte = page[Vcpu.ShadowIndex(va, level)];
            page = level > 1 && Spte.IsPresent(spte) ? vcpu.Vm.Page(Spte.ChildId(spte)) : null;
        }

        steps.Add($"{phase}: vCPU 0 reads 0x{va:x} -> 0x{result.Gpa:x}; shadow path {string.Join(" -> ", path)}");
    }

    private static string PagesOf(Vm vm, ulong gfn) =>
        string.Join(", ", vm.SnapshotPages().Where(p => !p.Role.Direct && p.Gfn == gfn).Select(p => $"sp#{p.Id}"));

    private static void Require(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"Race scenario: expected that {what}, but it is not so.");
        }
    }

    internal static string EntryName(int level) => level switch
    {
        1 => "PTE",
        2 => "PDE",
        3 => "PDPTE",
        4 => "PML4E",
        _ => "PML5E",
    };

    internal static string TableName(int level) => level switch
    {
        1 => "page table",
        2 => "page directory",
        3 => "PDPT",
        4 => "PML4",
        _ => "PML5",
    };

    /// <summary>The steps, kept and echoed to the log as they happen (only the faulting thread adds them).</summary>
    internal sealed class StepLog
    {
        private readonly TextWriter? _log;

        public StepLog(TextWriter? log) => _log = log;

        public List<string> Lines { get; } = new();

        public void Add(string line)
        {
            Lines.Add(line);
            _log?.WriteLine(line);
        }
    }
}
