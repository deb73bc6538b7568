using System;

namespace ShadowMmu.Dumps;

/// <summary>
/// A dump that cannot be read: truncated, corrupt, or contradicting itself. The message is one line that names the
/// file and its problem, meant to be shown to the user as it is.
/// </summary>
public sealed class DumpFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/> with the problem <paramref name="problem"/>.</summary>
    public DumpFormatException(string path, string problem)
        : base($"{path}: {problem}")
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The dump's path, as it was given.</summary>
    public string Path { get; }

    /// <summary>What is wrong with it, without the path.</summary>
    public string Problem { get; }
}
