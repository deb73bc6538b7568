using System;
using System.Globalization;
using System.IO;

namespace ShadowMmu.Cli;

/// <summary>
/// <c>hexdump -C</c>'s layout with linear addresses: 16 bytes a line, two groups of eight, then the printable
/// characters; a line the same as the one before is printed once and a <c>*</c> stands for the repeats; a range that
/// cannot be read is one line that says why, in place of its bytes.
/// </summary>
internal sealed class HexdumpWriter
{
    private readonly TextWriter _output;
    private readonly byte[] _line = new byte[16];
    private readonly byte[] _previous = new byte[16];
    private int _filled;
    private ulong _lineVa;
    private bool _havePrevious;
    private bool _starred;

    public HexdumpWriter(TextWriter output) => _output = output;

    /// <summary>Bytes read at <paramref name="va"/> (continuing the last call's, or after a gap).</summary>
    public void Bytes(ulong va, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            if (_filled == 0)
            {
                _lineVa = va;
            }

            // Lines end at 16-byte boundaries: a range that starts inside one gets a short first line.
            _line[_filled++] = b;
            va++;
            if ((va & 15) == 0)
            {
                EmitLine();
            }
        }
    }

    /// <summary>A range that could not be read, and why.</summary>
    public void Gap(ulong va, ulong length, string why)
    {
        FlushPartial();
        _output.Write($"{va:x16}  -- {Numbers.Hex(va)}-{Numbers.Hex(va + length)} ({TranslationFormat.SizeText(length)}): {why} --\n");
        _havePrevious = false;
        _starred = false;
    }

    /// <summary>Ends the dump at <paramref name="end"/>, the address after the last byte, as hexdump prints it.</summary>
    public void End(ulong end)
    {
        FlushPartial();
        _output.Write(end.ToString("x16", CultureInfo.InvariantCulture));
        _output.Write('\n');
    }

    private void EmitLine()
    {
        if (_filled < 16)
        {
            FlushPartial();
            _havePrevious = false;
            return;
        }

        if (_havePrevious && _line.AsSpan().SequenceEqual(_previous))
        {
            if (!_starred)
            {
                _output.Write("*\n");
                _starred = true;
            }
        }
        else
        {
            Write(16);
            _line.CopyTo(_previous, 0);
            _havePrevious = true;
            _starred = false;
        }

        _filled = 0;
    }

    private void FlushPartial()
    {
        if (_filled > 0)
        {
            Write(_filled);
            _filled = 0;
        }
    }

    private void Write(int count)
    {
        Span<char> text = stackalloc char[16 + 2 + 16 * 3 + 1 + 2 + 16 + 1];
        int n = 0;
        _lineVa.TryFormat(text, out int written, "x16", CultureInfo.InvariantCulture);
        n += written;
        text[n++] = ' ';
        text[n++] = ' ';
        for (int i = 0; i < 16; i++)
        {
            if (i < count)
            {
                _line[i].TryFormat(text[n..], out written, "x2", CultureInfo.InvariantCulture);
                n += written;
            }
            else
            {
                text[n++] = ' ';
                text[n++] = ' ';
            }

            text[n++] = ' ';
            if (i == 7)
            {
                text[n++] = ' ';
            }
        }

        text[n++] = ' ';
        text[n++] = '|';
        for (int i = 0; i < count; i++)
        {
            byte b = _line[i];
            text[n++] = b is >= 0x20 and < 0x7F ? (char)b : '.';
        }

        text[n++] = '|';
        _output.Write(text[..n]);
        _output.Write('\n');
    }
}
