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
public sealed record RaceScenarioResult(string Mode, RaceCase Case, RaceOrder Order, RecheckOrder Recheck, IReadOnlyList<string> Steps, AuditResult Audit);

/// <summary>The seed's deterministic interleavings, with hooks between walk and fetch and inside fetch.</summary>
public static partial class RaceScenario
{
    /// <summary>Runs one combination in <paramref name="mode"/>; <paramref name="log"/> receives each step as it happens.</summary>
    public static partial RaceScenarioResult Run(string mode, RaceCase raceCase, RaceOrder order, RecheckOrder recheck, TextWriter? log = null);
}
