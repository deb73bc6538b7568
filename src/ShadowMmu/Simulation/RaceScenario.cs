using System;
using System.Collections.Generic;
using System.IO;

namespace ShadowMmu;

/// <summary>The 2010 race's cases (x86-paging.md section 8.3): which guest entry is rewritten between walk and fetch.</summary>
public enum RaceCase
{
    /// <summary>A middle-level entry whose table is already shadowed: the write traps.</summary>
    Seed1a,

    /// <summary>A middle-level entry whose table is first shadowed inside this fault.</summary>
    Seed1b,

    /// <summary>The leaf entry of a shadowed table.</summary>
    Seed2,
}

/// <summary>When the guest's write lands relative to the fault.</summary>
public enum RaceOrder
{
    /// <summary>Between walk and fetch: the write, and its trap handling where it traps, before fetch.</summary>
    WriteFirst,

    /// <summary>After fetch has begun: inside fetch, once the table holding the entry is write-protected.</summary>
    FetchFirst,
}

/// <summary>What a scenario did and what the audit found afterwards.</summary>
/// <param name="Mode">The paging mode.</param>
/// <param name="Case">The case.</param>
/// <param name="Order">The order.</param>
/// <param name="Recheck">The re-check order.</param>
/// <param name="Steps">What happened, step by step, for people.</param>
/// <param name="Audit">The audit after the scenario.</param>
public sealed record RaceScenarioResult(string Mode, RaceCase Case, RaceOrder Order, RecheckOrder Recheck, IReadOnlyList<string> Steps, AuditResult Audit)
{
    /// <summary>The guest entry the scenario rewrote, and whether the write trapped.</summary>
    public RaceWrite Write { get; init; }

    /// <summary>How many times <c>Fetch</c> found a guest entry changed since the walk and retried, during the raced access.</summary>
    public long RecheckFailures { get; init; }

    /// <summary>The VM's counters at the end (they include the setup's faults).</summary>
    public ShadowStats Stats { get; init; } = new();
}

/// <summary>The guest write a scenario injects.</summary>
/// <param name="Level">Level of the rewritten entry (1 = a PTE).</param>
/// <param name="Gpa">Guest-physical address of the entry.</param>
/// <param name="Size">Bytes written: the mode's entry size.</param>
/// <param name="OldValue">The entry before the write (what the walk read).</param>
/// <param name="NewValue">The entry after it.</param>
/// <param name="Trapped">True when a shadow page shadowed the table when the write landed, so the MMU handled it.</param>
public readonly record struct RaceWrite(int Level, ulong Gpa, int Size, ulong OldValue, ulong NewValue, bool Trapped);

/// <summary>The seed's deterministic interleavings, with hooks between walk and fetch and inside fetch.</summary>
public static partial class RaceScenario
{
    /// <summary>Runs one combination in <paramref name="mode"/>; <paramref name="log"/> receives each step as it happens.</summary>
    public static partial RaceScenarioResult Run(string mode, RaceCase raceCase, RaceOrder order, RecheckOrder recheck, TextWriter? log = null);

    /// <summary>The cases' names, for command lines: <c>seed-1a</c>, <c>seed-1b</c>, <c>seed-2</c>.</summary>
    public static IReadOnlyList<string> CaseNames { get; } = new[] { "seed-1a", "seed-1b", "seed-2" };

    /// <summary>The orders' names: <c>write-first</c>, <c>fetch-first</c>.</summary>
    public static IReadOnlyList<string> OrderNames { get; } = new[] { "write-first", "fetch-first" };

    /// <summary>The re-check orders' names: <c>fixed</c>, <c>pre-fix</c>, <c>no-leaf</c>.</summary>
    public static IReadOnlyList<string> RecheckNames { get; } = new[] { "fixed", "pre-fix", "no-leaf" };

    /// <summary>The command-line name of <paramref name="raceCase"/> (<c>seed-1a</c>).</summary>
    public static string Name(RaceCase raceCase) => NameOf(CaseNames, (int)raceCase, raceCase);

    /// <summary>The command-line name of <paramref name="order"/> (<c>write-first</c>).</summary>
    public static string Name(RaceOrder order) => NameOf(OrderNames, (int)order, order);

    /// <summary>The command-line name of <paramref name="recheck"/> (<c>pre-fix</c>).</summary>
    public static string Name(RecheckOrder recheck) => NameOf(RecheckNames, (int)recheck, recheck);

    /// <summary>Parses <c>seed-1a</c>, <c>seed-1b</c> or <c>seed-2</c> (case-insensitive).</summary>
    public static bool TryParseCase(string? text, out RaceCase raceCase) => TryParse(text, CaseNames, out raceCase);

    /// <summary>Parses <c>write-first</c> or <c>fetch-first</c> (case-insensitive).</summary>
    public static bool TryParseOrder(string? text, out RaceOrder order) => TryParse(text, OrderNames, out order);

    /// <summary>Parses <c>fixed</c>, <c>pre-fix</c> or <c>no-leaf</c> (case-insensitive).</summary>
    public static bool TryParseRecheck(string? text, out RecheckOrder recheck) => TryParse(text, RecheckNames, out recheck);

    private static string NameOf<T>(IReadOnlyList<string> names, int index, T value)
        where T : struct, Enum => (uint)index < (uint)names.Count ? names[index] : value.ToString();

    /// <summary>The index of <paramref name="text"/> among a scenario's option <paramref name="names"/> (case-insensitive), or -1.</summary>
    public static int IndexOf(IReadOnlyList<string> names, string? text)
    {
        ArgumentNullException.ThrowIfNull(names);
        for (int i = 0; i < names.Count; i++)
        {
            if (string.Equals(text, names[i], StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool TryParse<T>(string? text, IReadOnlyList<string> names, out T value)
        where T : struct, Enum
    {
        int index = IndexOf(names, text);
        value = index >= 0 ? (T)Enum.ToObject(typeof(T), index) : default;
        return index >= 0;
    }
}
