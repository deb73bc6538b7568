namespace ShadowMmu;

/// <summary>What <c>Fetch</c> did.</summary>
public enum FetchOutcome
{
    /// <summary>The leaf is installed.</summary>
    Mapped,

    /// <summary>A guest entry changed since the walk read it: nothing stale was installed; the fault is retried.</summary>
    Retry,
}
