using System;
using System.Globalization;
using System.IO;

namespace ShadowMmu.Cli;

/// <summary>
/// The progress display of <c>shadowmmu simulate</c>: one line on stderr, rewritten in place a few times a second and
/// erased at the end. Only when stderr is a terminal, so that redirected output and <c>--json</c> stay clean.
/// </summary>
internal sealed class SimulateProgress : IProgress<SimulationProgress>
{
    private readonly TextWriter _error;
    private int _width;

    private SimulateProgress(TextWriter error) => _error = error;

    /// <summary>A display on the process's stderr when it is a terminal; null otherwise (tests, pipes, files).</summary>
    public static SimulateProgress? ForTerminal(CliContext context) =>
        ReferenceEquals(context.Error, Console.Error) && !Console.IsErrorRedirected ? new SimulateProgress(context.Error) : null;

    /// <inheritdoc/>
    public void Report(SimulationProgress value)
    {
        string line = string.Format(
            CultureInfo.InvariantCulture,
            "simulate: {0} ({1}/{2}) {3,3:0}%  {4:N0} operations, {5:N0} faults",
            value.Mode,
            value.ModeIndex + 1,
            value.ModeCount,
            value.Fraction * 100,
            value.Operations,
            value.Faults);
        _error.Write("\r" + line.PadRight(_width));
        _width = Math.Max(_width, line.Length);
        _error.Flush();
    }

    /// <summary>Erases the line.</summary>
    public void Clear()
    {
        if (_width > 0)
        {
            _error.Write("\r" + new string(' ', _width) + "\r");
            _error.Flush();
        }
    }
}
