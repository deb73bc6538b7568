using System;
using System.IO;
using System.Text;

namespace ShadowMmu.Cli;

/// <summary>
/// Output written as UTF-8 bytes in large blocks (a batch's answers, maps' JSON): straight to the stream under the
/// tool's standard output (a <see cref="StreamWriter"/> that writes UTF-8 without a byte order mark, as
/// <see cref="Program.Main"/> makes it), or decoded for any other <see cref="TextWriter"/> (the tests' in-process runs).
/// </summary>
internal sealed class Utf8Output
{
    private readonly TextWriter _writer;
    private readonly Stream? _stream;
    private readonly Decoder _decoder = new UTF8Encoding(false).GetDecoder();
    private char[] _chars = Array.Empty<char>();

    public Utf8Output(TextWriter writer)
    {
        _writer = writer;
        if (writer is StreamWriter { Encoding: UTF8Encoding encoding } stream && encoding.Preamble.Length == 0)
        {
            stream.Flush();
            _stream = stream.BaseStream;
        }
    }

    /// <summary>The writer's line break (<see cref="TextWriter.NewLine"/>).</summary>
    public void WriteLine()
    {
        if (_stream != null)
        {
            _stream.Write(Encoding.UTF8.GetBytes(_writer.NewLine));
        }
        else
        {
            _writer.WriteLine();
        }
    }

    /// <summary>Writes whole characters (no UTF-8 sequence cut in two).</summary>
    public void Write(ReadOnlySpan<byte> utf8)
    {
        if (_stream != null)
        {
            _stream.Write(utf8);
            return;
        }

        int count = _decoder.GetCharCount(utf8, flush: false);
        if (_chars.Length < count)
        {
            _chars = new char[Math.Max(count, 2 * _chars.Length)];
        }

        _decoder.GetChars(utf8, _chars, flush: false);
        _writer.Write(_chars, 0, count);
    }

    public void Flush()
    {
        if (_stream != null)
        {
            _stream.Flush();
        }
        else
        {
            _writer.Flush();
        }
    }
}
