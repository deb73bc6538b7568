using System.Diagnostics;
using System.Globalization;
using System.IO;

namespace ShadowMmu.Cli;

/// <summary>
/// One line on a terminal that says how far a dump's opening has got (<c>opening dump: 41% of 2.0 GiB</c>), drawn
/// over itself and cleared at the end; silent for a dump that opens in under half a second.
/// </summary>
internal sealed class OpenProgressLine
{
    private readonly TextWriter _terminal;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private bool _shown;

    public OpenProgressLine(TextWriter terminal) => _terminal = terminal;

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
        _terminal.Write($"\ropening dump: {percent}% of {TranslationFormat.SizeText((ulong)total)}");
        _terminal.Flush();
    }
}
