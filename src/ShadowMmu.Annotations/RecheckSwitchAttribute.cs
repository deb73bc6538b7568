using System;

namespace ShadowMmu.Annotations
{
    /// <summary>
    /// On a <see cref="bool"/> field or property: a switch that turns a re-check off on purpose, to reproduce the race
    /// the re-check exists for (a model's or a test's scenario). A re-check guarded by it,
    /// <c>bool stale = Switch &amp;&amp; RetryCheck(seq, gfn);</c> (or by a local read from it under the lock), counts as
    /// the re-check: the analysis takes the switch as on, and the code where it is off is the scenario's, not a finding.
    /// </summary>
    [AttributeUsage(AttributeTargets.Field | AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
    public sealed class RecheckSwitchAttribute : Attribute
    {
    }
}
