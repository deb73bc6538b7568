using System;
using System.Collections.Generic;
using System.Linq;

namespace ShadowMmu;

/// <summary>What a protocol scenario (beyond the seed's race) did and what the audit found afterwards.</summary>
/// <param name="Scenario">Its command-line name (<c>host-invalidate</c>, <c>unsync-write</c>).</param>
/// <param name="Mode">The paging mode.</param>
/// <param name="Order">The order's command-line name.</param>
/// <param name="Settings">The other choices, as <c>name value</c> (<c>seq-check on</c>).</param>
/// <param name="Steps">What happened, step by step.</param>
/// <param name="Audit">The audit after the scenario.</param>
public sealed record ProtocolScenarioResult(string Scenario, string Mode, string Order, string Settings, IReadOnlyList<string> Steps, AuditResult Audit)
{
    /// <summary>The VM's counters at the end.</summary>
    public ShadowStats Stats { get; init; } = new();

    /// <summary>Whether the fault path re-checked the sequence, for the scenarios that choose it (host-invalidate); else null.</summary>
    public bool? SequenceCheck { get; init; }
}

/// <summary>Setup shared by the protocol scenarios: one guest mapping, its vCPU, and the narration helpers.</summary>
internal sealed class ScenarioGuest : IDisposable
{
    public const ulong Va = 0x40_0000;
    public const ulong OldFrame = 0x30_0000;
    public const ulong NewFrame = 0x50_0000;
    private const ulong MemorySize = 0x80_0000;

    private ScenarioGuest(PagingModeInfo info, GuestMemory memory, PageTableBuilder builder, CpuState cpu, GuestEntryFlags flags)
    {
        Info = info;
        Memory = memory;
        Builder = builder;
        Cpu = cpu;
        Flags = flags;
    }

    public PagingModeInfo Info { get; }

    public GuestMemory Memory { get; }

    public PageTableBuilder Builder { get; }

    public CpuState Cpu { get; }

    public GuestEntryFlags Flags { get; }

    public ulong FrameMask => Info.EntryBytes == 4 ? 0xFFFF_F000UL : 0x000F_FFFF_FFFF_F000UL;

    /// <summary>A guest in <paramref name="mode"/> whose tables map <see cref="Va"/> (and the page after it) to <see cref="OldFrame"/> onwards.</summary>
    /// <exception cref="ArgumentException">No built-in mode is named <paramref name="mode"/>.</exception>
    public static ScenarioGuest Build(string mode)
    {
        ArgumentNullException.ThrowIfNull(mode);
        PagingModeInfo info = PagingModes.All.FirstOrDefault(m => m.Name == mode)
            ?? throw new ArgumentException($"No paging mode is named '{mode}' (modes: {string.Join(", ", PagingModes.All.Select(m => m.Name))}).", nameof(mode));
        GuestMemory memory = GuestMemory.Allocate(MemorySize);
        var builder = new PageTableBuilder(memory, info, 0x1000, 0x20_0000);
        GuestEntryFlags flags = GuestEntryFlags.For(info);
        ulong leaf = flags.Present | flags.Leaf(writable: true, user: true, execute: true);
        ulong table = flags.Present | flags.Writable | flags.User | flags.Executable | flags.Accessed;
        builder.Map(Va, OldFrame, 0x1000, leaf, table);
        builder.Map(Va + 0x1000, OldFrame + 0x1000, 0x1000, leaf, table);
        return new ScenarioGuest(info, memory, builder, PagingModeFacts.Of(info).SelectingState(builder.Root), flags);
    }

    public ulong PteGpa => Builder.EntryAddress(Va, 1)!.Value;

    public void Dispose() => Memory.Dispose();

    /// <summary>The leaf on <paramref name="va"/>'s shadow path and its index, or null.</summary>
    public static ShadowPage? LeafPage(Vcpu vcpu, ulong va, out int index)
    {
        index = Vcpu.ShadowIndex(va, 1);
        ShadowPage? page = vcpu.RootFor(va);
        for (int level = page?.Role.Level ?? 0; page != null && level > 1; level--)
        {
            ulong link = page[Vcpu.ShadowIndex(va, level)];
            page = Spte.IsPresent(link) ? vcpu.Vm.Page(Spte.ChildId(link)) : null;
        }

        return page;
    }

    /// <summary>The shadow leaf of <paramref name="va"/> for people: its guest frame and host frame, or "none".</summary>
    public static string DescribeLeaf(Vcpu vcpu, ulong va)
    {
        ShadowPage? page = LeafPage(vcpu, va, out int index);
        ulong spte = page?[index] ?? 0;
        return !Spte.IsPresent(spte)
            ? "no shadow leaf"
            : $"sp#{page!.Id}[{index}] -> guest frame 0x{page.GfnAt(index) << 12:x}, host frame 0x{Spte.Frame(spte) << 12:x}"
              + ((spte & Spte.Writable) != 0 ? ", writable" : ", read-only");
    }

    /// <summary>Adds the audit's verdict to <paramref name="steps"/>.</summary>
    public static void NarrateAudit(RaceScenario.StepLog steps, AuditResult audit)
    {
        if (audit.Clean)
        {
            steps.Add($"audit: clean ({audit.PagesChecked} shadow pages, {audit.EntriesChecked} present entries{(audit.Pending > 0 ? $", {audit.Pending} pending" : "")})");
        }

        foreach (StaleEntry stale in audit.Stale)
        {
            steps.Add($"audit: stale: {stale}");
        }
    }
}
