using System;

namespace ShadowMmu.Benchmarks;

/// <summary>
/// Marks a benchmark class whose operation allocates by design (a search that returns what it found), so that the
/// quick run's check that benchmarks allocate nothing (the walks and the fault path must not) leaves it out; its
/// allocations are still measured and reported.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class AllocatesByDesignAttribute : Attribute
{
    public AllocatesByDesignAttribute(string why) => Why = why;

    /// <summary>Why the operation allocates.</summary>
    public string Why { get; }
}
