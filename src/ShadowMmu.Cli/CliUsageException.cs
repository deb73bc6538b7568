using System;

namespace ShadowMmu.Cli;

/// <summary>
/// Bad input found while a command runs (an unreadable image, an impossible register combination, a VA too wide for
/// the mode): <see cref="CommandLineHost"/> prints its message as one line on stderr and exits with
/// <see cref="CommandLineHost.UsageExitCode"/>.
/// </summary>
public sealed class CliUsageException : Exception
{
    /// <summary>Creates the exception with a one-line message for the user.</summary>
    public CliUsageException(string message)
        : base(message)
    {
    }
}
