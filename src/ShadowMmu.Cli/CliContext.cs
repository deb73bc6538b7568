using System.IO;

namespace ShadowMmu.Cli;

/// <summary>The streams one run of the tool uses; commands get it when they are built.</summary>
/// <param name="Out">Standard output (results).</param>
/// <param name="Error">Standard error (the one-line error).</param>
/// <param name="In">Standard input (<c>--batch -</c>).</param>
internal sealed record CliContext(TextWriter Out, TextWriter Error, TextReader In);
