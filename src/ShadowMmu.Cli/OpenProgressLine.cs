using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace ShadowMmu.Cli;

/// <summary>
/// One line on a terminal that says how far a long step has got (<c>opening dump: 41% of 2.0 GiB</c>), drawn over
/// itself and cleared at the end; silent for a step that ends in under half a second.
/// </summary>
internal sealed class OpenProgressLine
{
    private readonly TextWriter _terminal;
    private readonly string _what;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private bool _shown;

    /// <param name="terminal">Where the line is drawn.</param>
    /// <param name="what">What is in progress: "opening dump", "scanning for page tables".</param>
    public OpenProgressLine(TextWriter terminal, string what = "opening dump")
    {
        _terminal = terminal;
        _what = what;
    }

    /// <summary>Told (bytes done, bytes in all) by the dump's reader.</summary>
    public void Report(long done, long total)
    {
        if (done >= total)
        {
            if (_shown)
            {
                _terminal.Write("\r\u001b[K");
                _terminal.Flush();
            }

            return;
        }

        if (_clock.ElapsedMilliseconds < 500 || total <= 0)
        {
            return;
        }

        _shown = true;
        string percent = (done * 100 / total).ToString(CultureInfo.InvariantCulture);
        _terminal.Write($"\r{_what}: {percent}% of {TranslationFormat.SizeText((ulong)total)}");
        _terminal.Flush();
    }
}
