using System;
using System.IO;
using System.Text;

namespace ShadowMmu.Cli;

/// <summary>
/// Where a batch's answers go, as UTF-8 bytes in large blocks: straight to the stream under the tool's standard
/// output (a <see cref="StreamWriter"/> that writes UTF-8 without a byte order mark, as <see cref="Program.Main"/>
/// makes it), or decoded for any other <see cref="TextWriter"/> (the tests' in-process runs).
/// </summary>
internal sealed class BatchOutput
{
    private readonly TextWriter _writer;
    private readonly Stream? _stream;
    private readonly Decoder _decoder = new UTF8Encoding(false).GetDecoder();
    private char[] _chars = Array.Empty<char>();

    public BatchOutput(TextWriter writer)
    {
        _writer = writer;
        if (writer is StreamWriter { Encoding: UTF8Encoding encoding } stream && encoding.Preamble.Length == 0)
        {
            stream.Flush();
            _stream = stream.BaseStream;
        }
    }

    /// <summary>Writes whole lines.</summary>
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

/// <summary>The characters of a <see cref="TextReader"/> as a stream of UTF-8 bytes (<c>--batch -</c> in-process).</summary>
internal sealed class Utf8TextReaderStream : Stream
{
    private readonly TextReader _reader;
    private readonly Encoder _encoder = new UTF8Encoding(false).GetEncoder();
    private readonly char[] _chars = new char[4096];
    private readonly byte[] _bytes = new byte[3 * 4096 + 8];
    private int _at;
    private int _length;
    private bool _ended;

    public Utf8TextReaderStream(TextReader reader)
    {
        _reader = reader;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        while (_at == _length && !_ended)
        {
            int chars = _reader.Read(_chars, 0, _chars.Length);
            _ended = chars == 0;
            _length = _encoder.GetBytes(_chars.AsSpan(0, chars), _bytes, flush: _ended);
            _at = 0;
        }

        int count = Math.Min(buffer.Length, _length - _at);
        _bytes.AsSpan(_at, count).CopyTo(buffer);
        _at += count;
        return count;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
