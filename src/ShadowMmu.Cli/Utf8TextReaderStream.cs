using System;
using System.IO;
using System.Text;

namespace ShadowMmu.Cli;

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
