using System;
using System.IO;
using System.Text;

namespace ShadowMmu.Cli;

/// <summary>
/// A batch's bytes, UTF-8, cut into chunks of whole lines for the threads that answer them: one thread at a time
/// takes the next chunk (<see cref="TryTake"/> is called under a lock), each numbered, with the number of its first
/// line. Lines end as <see cref="TextReader.ReadLine"/> ends them: at <c>\n</c>, <c>\r</c> or <c>\r\n</c>. A UTF-8
/// byte order mark at the start is not part of the first line.
/// </summary>
internal sealed class BatchInput
{
    /// <summary>About how many bytes a chunk holds (more when a line is longer).</summary>
    public const int ChunkBytes = 1 << 16;

    private readonly Stream _stream;
    private byte[] _carry = new byte[ChunkBytes];
    private int _carryLength;
    private bool _atStart = true;
    private bool _ended;
    private int _nextLine = 1;
    private long _nextSequence;

    public BatchInput(Stream utf8)
    {
        _stream = utf8;
    }

    /// <summary>
    /// Opens a batch file: UTF-8 by default; a file that starts with a UTF-16 or UTF-32 byte order mark is read in that
    /// encoding, as a <see cref="StreamReader"/> that detects byte order marks reads it.
    /// </summary>
    public static Stream OpenFile(string path)
    {
        var file = new FileStream(path, new FileStreamOptions { Access = FileAccess.Read, Share = FileShare.ReadWrite, BufferSize = 0, Options = FileOptions.SequentialScan });
        Span<byte> head = stackalloc byte[4];
        int length = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..length];
        (Encoding? encoding, int bom) =
            head.StartsWith(new byte[] { 0xFF, 0xFE, 0, 0 }) ? (Encoding.UTF32, 4)
            : head.StartsWith(new byte[] { 0, 0, 0xFE, 0xFF }) ? (new UTF32Encoding(bigEndian: true, byteOrderMark: true), 4)
            : head.StartsWith(new byte[] { 0xFF, 0xFE }) ? (Encoding.Unicode, 2)
            : head.StartsWith(new byte[] { 0xFE, 0xFF }) ? (Encoding.BigEndianUnicode, 2)
            : ((Encoding?)null, 0);
        file.Position = bom;
        return encoding == null ? file : Encoding.CreateTranscodingStream(file, encoding, Encoding.UTF8);
    }

    /// <summary>
    /// Fills <paramref name="chunk"/> with the next lines; false when the input has ended. A line longer than a chunk
    /// makes the chunk longer.
    /// </summary>
    public bool TryTake(BatchChunk chunk)
    {
        if (_ended && _carryLength == 0)
        {
            return false;
        }

        byte[] bytes = chunk.Input;
        if (bytes.Length < _carryLength + ChunkBytes)
        {
            bytes = chunk.Input = new byte[_carryLength + ChunkBytes];
        }

        _carry.AsSpan(0, _carryLength).CopyTo(bytes);
        int length = _carryLength;
        int cut;
        while (true)
        {
            while (!_ended && length < bytes.Length)
            {
                int read = _stream.Read(bytes, length, bytes.Length - length);
                _ended = read == 0;
                length += read;
            }

            if (length == 0)
            {
                return false;   // the input ended with the last line's break
            }

            cut = _ended ? length : LastBreak(bytes.AsSpan(0, length));
            if (cut > 0)
            {
                break;
            }

            Array.Resize(ref bytes, bytes.Length * 2);   // one line longer than the chunk
            chunk.Input = bytes;
        }

        int start = 0;
        if (_atStart)
        {
            _atStart = false;
            start = bytes.AsSpan(0, length).StartsWith("\uFEFF"u8) ? 3 : 0;
        }

        _carryLength = length - cut;
        if (_carry.Length < _carryLength)
        {
            _carry = new byte[_carryLength];
        }

        bytes.AsSpan(cut, _carryLength).CopyTo(_carry);
        chunk.Start(_nextSequence++, _nextLine, start, cut);
        _nextLine += Breaks(bytes.AsSpan(start, cut - start));
        return true;
    }

    // Where a chunk can end: after its last \n, or after a \r that is not the last byte read (it may be a \r\n's); 0 if none.
    private static int LastBreak(ReadOnlySpan<byte> bytes)
    {
        int newline = bytes.LastIndexOf((byte)'\n');
        int carriageReturn = bytes[..^1].LastIndexOf((byte)'\r');
        return Math.Max(newline, carriageReturn) + 1;
    }

    // The number of line breaks: \n, \r and \r\n each count once.
    private static int Breaks(ReadOnlySpan<byte> bytes)
    {
        int breaks = bytes.Count((byte)'\n');
        if (bytes.Contains((byte)'\r'))
        {
            for (int i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == '\r' && (i + 1 == bytes.Length || bytes[i + 1] != '\n'))
                {
                    breaks++;
                }
            }
        }

        return breaks;
    }
}

/// <summary>One chunk of a batch: its lines' bytes, its number in the input's order, and its answers when done.</summary>
internal sealed class BatchChunk
{
    public byte[] Input = new byte[BatchInput.ChunkBytes];

    /// <summary>The answers, one line each, in the order of the cases.</summary>
    public readonly System.Buffers.ArrayBufferWriter<byte> Output = new(BatchInput.ChunkBytes * 2);

    public long Sequence { get; private set; }

    /// <summary>The number of the chunk's first line in the whole input (1-based).</summary>
    public int FirstLine { get; private set; }

    /// <summary>Where the chunk's lines start in <see cref="Input"/> (after a byte order mark).</summary>
    public int Offset { get; private set; }

    /// <summary>Where the chunk's lines end in <see cref="Input"/>.</summary>
    public int End { get; private set; }

    /// <summary>Cases the chunk held.</summary>
    public int Cases;

    /// <summary>Cases answered with an error.</summary>
    public int Errors;

    /// <summary>The first such answer's message.</summary>
    public string? FirstError;

    public ReadOnlySpan<byte> Lines => Input.AsSpan(Offset, End - Offset);

    public void Start(long sequence, int firstLine, int offset, int end)
    {
        Sequence = sequence;
        FirstLine = firstLine;
        Offset = offset;
        End = end;
        Cases = 0;
        Errors = 0;
        FirstError = null;
        Output.ResetWrittenCount();
    }
}
