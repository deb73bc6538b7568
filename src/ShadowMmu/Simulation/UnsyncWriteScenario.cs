using System;
using System.Collections.Generic;
using System.IO;

namespace ShadowMmu;

/// <summary>When the guest's write to its unsync page table lands relative to its flush (<c>simulate --scenario unsync-write --order</c>).</summary>
public enum UnsyncWriteOrder
{
    /// <summary>The guest rewrites the PTE, then flushes it with INVLPG (as an OS does).</summary>
    BeforeFlush,

    /// <summary>The guest flushes with INVLPG, then rewrites the PTE (and flushes only later, with a CR3 load).</summary>
    AfterFlush,
}

/// <summary>
/// A guest write to an unsync page table, deterministic: the guest's kernel stores into its own page table through its
/// direct map, which makes the table unsync (its shadow page stops write-protecting it), then rewrites the PTE of an
/// address a vCPU uses, and flushes that address before or after the write.
/// </summary>
/// <remarks>
/// Neither order goes stale, and that is the point: before-flush, INVLPG re-reads the PTE (KVM's sync of that entry) and
/// the vCPU sees the new frame; after-flush, INVLPG found the PTE unchanged, so the write lands after the flush with no
/// trap, and the vCPU may go on using the old frame: the architecture lets a TLB keep a translation until the guest
/// flushes it, and the audit counts that leaf as pending, not stale. The CR3 load that follows syncs the table (and
/// write-protects it again), after which the vCPU sees the new frame and nothing is pending.
/// </remarks>
public static class UnsyncWriteScenario
{
    /// <summary>The scenario's name on the command line.</summary>
    public const string Name = "unsync-write";

    /// <summary>Where the guest's kernel maps the page table it rewrites.</summary>
    public const ulong DirectMapVa = 0x8000_0000;

    /// <summary>The orders' names: <c>before-flush</c>, <c>after-flush</c>.</summary>
    public static IReadOnlyList<string> OrderNames { get; } = new[] { "before-flush", "after-flush" };

    /// <summary>Runs the scenario in <paramref name="mode"/>; <paramref name="log"/> receives each step as it happens.</summary>
    /// <exception cref="ArgumentException">No built-in mode is named <paramref name="mode"/>.</exception>
    public static ProtocolScenarioResult Run(string mode, UnsyncWriteOrder order, RecheckOrder recheck = RecheckOrder.Fixed, TextWriter? log = null)
    {
        if (!Enum.IsDefined(order))
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, null);
        }

        using ScenarioGuest guest = ScenarioGuest.Build(mode);
        var steps = new RaceScenario.StepLog(log);
        string orderName = OrderNames[(int)order];
        steps.Add($"scenario: {Name} {orderName}, re-check order {RaceScenario.Name(recheck)}, {guest.Info.Name} guest");
        int entryBytes = guest.Info.EntryBytes;
        ulong pteGpa = guest.PteGpa;
        ulong tableGpa = pteGpa & ~0xFFFUL;
        GuestEntryFlags f = guest.Flags;
        // The kernel's direct map of the page table: writable, supervisor (EPT: read-write).
        guest.Builder.Map(DirectMapVa, tableGpa, 0x1000, f.Present | f.Leaf(writable: true, user: f.IsEpt, execute: false),
            f.Present | f.Writable | f.User | f.Executable | f.Accessed);
        ulong oldPte = guest.Memory.ReadEntry(pteGpa, entryBytes);
        ulong newPte = (oldPte & ~guest.FrameMask) | ScenarioGuest.NewFrame;
        // The scenario narrates the exclusive side's INVLPG, which re-reads an unsync leaf in place (the shared side drops it).
        var vm = new Vm(guest.Memory) { RecheckOrder = recheck, SharedFaults = false };
        Vcpu vcpu = vm.AddVcpu(guest.Cpu);
        ulong va = ScenarioGuest.Va;

        Read(vcpu, steps, "setup");
        steps.Add($"setup: the page table at 0x{tableGpa:x} holding the PTE of 0x{va:x} (at 0x{pteGpa:x}) is shadowed; the kernel maps it at 0x{DirectMapVa:x}");

        // The kernel's first store into the table (the neighbour's PTE, unchanged) write-faults: the table goes unsync.
        ulong neighbourGpa = pteGpa + (ulong)entryBytes;
        long trapped = vm.Stats.TrappedWrites;
        vcpu.Write(DirectMapVa + (neighbourGpa & 0xFFF), guest.Memory.ReadEntry(neighbourGpa, entryBytes), entryBytes, 0);
        ShadowPage table = ScenarioGuest.LeafPage(vcpu, va, out _)!;
        steps.Add($"kernel stores into its page table through 0x{DirectMapVa:x}: the write fault finds the table shadowed only by sp#{table.Id} (level 1), "
            + (table.Unsync ? "which goes unsync: the store lands, no longer write-protected" : "which stays write-protected")
            + $" ({vm.Stats.TrappedWrites - trapped} trapped)");

        if (order == UnsyncWriteOrder.BeforeFlush)
        {
            Rewrite(vcpu, vm, steps, pteGpa, oldPte, newPte, entryBytes, "before the flush");
            Invlpg(vcpu, vm, steps);
            Read(vcpu, steps, "vCPU 0");
        }
        else
        {
            Invlpg(vcpu, vm, steps);
            Rewrite(vcpu, vm, steps, pteGpa, oldPte, newPte, entryBytes, "after the flush");
            Read(vcpu, steps, "vCPU 0");
            AuditResult pending = vm.Audit();
            steps.Add($"audit before the next flush: {(pending.Clean ? "clean" : "STALE")}, {pending.Pending} pending: the leaf shows the PTE's value from before the write, which the guest has not flushed since");
            vcpu.SetState(vcpu.State);
            steps.Add($"the guest reloads CR3: a flush of the address space; KVM syncs every unsync table the root reaches and write-protects it again (sp#{table.Id} {(table.Unsync ? "still unsync" : "in sync")})");
            Read(vcpu, steps, "vCPU 0");
        }

        AuditResult audit = vm.Audit();
        ScenarioGuest.NarrateAudit(steps, audit);
        return new ProtocolScenarioResult(Name, guest.Info.Name, orderName, "", steps.Lines, audit) { Stats = vm.Stats };
    }

    private static void Rewrite(Vcpu vcpu, Vm vm, RaceScenario.StepLog steps, ulong pteGpa, ulong oldPte, ulong newPte, int entryBytes, string when)
    {
        long trapped = vm.Stats.TrappedWrites;
        vcpu.Write(DirectMapVa + (pteGpa & 0xFFF), newPte, entryBytes, 0);
        steps.Add($"kernel rewrites the PTE at 0x{pteGpa:x} {when}: 0x{oldPte:x} -> 0x{newPte:x} "
            + (vm.Stats.TrappedWrites > trapped ? "(trapped)" : "(no trap: the table is unsync)")
            + $"; shadow leaf {ScenarioGuest.DescribeLeaf(vcpu, ScenarioGuest.Va)}");
    }

    private static void Invlpg(Vcpu vcpu, Vm vm, RaceScenario.StepLog steps)
    {
        long syncs = vm.Stats.Syncs;
        if (vcpu.Walker.Mode.IsEpt)
        {
            // L1 flushes its EPT with INVEPT (INVLPG does not touch guest-physical translations).
            vcpu.Invept(allContexts: false);
            steps.Add($"L1 flushes its EPT with INVEPT (single context): the unsync tables the root reaches are re-read ({vm.Stats.Syncs - syncs} sync); "
                + $"shadow leaf {ScenarioGuest.DescribeLeaf(vcpu, ScenarioGuest.Va)}");
            return;
        }

        vcpu.Invlpg(ScenarioGuest.Va);
        steps.Add($"kernel flushes 0x{ScenarioGuest.Va:x} with INVLPG: the PTE is re-read from the unsync table ({vm.Stats.Syncs - syncs} sync); "
            + $"shadow leaf {ScenarioGuest.DescribeLeaf(vcpu, ScenarioGuest.Va)}");
    }

    private static void Read(Vcpu vcpu, RaceScenario.StepLog steps, string who)
    {
        AccessResult result = vcpu.Access(ScenarioGuest.Va, AccessKind.Read, 3);
        steps.Add($"{who} reads 0x{ScenarioGuest.Va:x} -> 0x{result.Gpa:x} ({result.Outcome}); shadow leaf {ScenarioGuest.DescribeLeaf(vcpu, ScenarioGuest.Va)}");
    }
}
