using System;
using System.IO;

namespace ShadowMmu.Cli;

/// <summary>The streams one run of the tool uses; commands get it when they are built.</summary>
/// <param name="Out">Standard output (results).</param>
/// <param name="Error">Standard error (the one-line error).</param>
/// <param name="In">Standard input (<c>--batch -</c>).</param>
/// <param name="ErrorIsTerminal">True when standard error is a terminal: a dump that takes seconds to open shows a progress line there.</param>
/// <param name="OpenInBytes">Standard input as bytes, when <paramref name="In"/> is the process's own (<c>--batch -</c> reads UTF-8 without decoding it).</param>
internal sealed record CliContext(TextWriter Out, TextWriter Error, TextReader In, bool ErrorIsTerminal = false, Func<Stream>? OpenInBytes = null)
{
    /// <summary>What a dump's opening reports its progress to: a line on the terminal, or nothing.</summary>
    public Action<long, long>? Progress => ErrorIsTerminal ? new OpenProgressLine(Error).Report : null;

    /// <summary>What the search for page tables in a dump (<c>roots</c>, <c>--root</c>) reports its progress to.</summary>
    public Action<long, long>? ScanProgress => ErrorIsTerminal ? new OpenProgressLine(Error, "scanning for page tables").Report : null;
}
