using System;
using System.IO;

namespace ShadowMmu;

// Placeholder until the scenario runner lands (being written now); replaced, not kept.
public static partial class RaceScenario
{
    public static partial RaceScenarioResult Run(string mode, RaceCase raceCase, RaceOrder order, RecheckOrder recheck, TextWriter? log) =>
        throw new InvalidOperationException("not written yet");
}
