using System;
using System.Buffers.Binary;

namespace ShadowMmu.Tests.RealGuests;

/// <summary>
/// zlib 1.2.13's <c>compress2(dest, &amp;len, page, 4096, Z_BEST_SPEED)</c>, byte for byte: what QEMU's
/// <c>dump-guest-memory -z</c> stores for each page. The fixtures keep a kdump file's page blobs as "deflate this
/// page" so that they need not store 18 MB of already-compressed data per dump; .NET's own ZLibStream (zlib-ng)
/// compresses differently, so the fixture loader carries this port of zlib's level-1 path (deflate_fast with its
/// configuration 4/4/8/4, a 32 KiB window, memLevel 8, one block ended by Z_FINISH; trees.c's Huffman trees with their
/// tie-breaks). It is checked by the SHA-256 of every rebuilt kdump file. Not thread-safe: one instance per thread.
/// </summary>
internal sealed partial class ZlibLevel1Deflater
{
    private const int WSize = 32768, WMask = WSize - 1;
    private const int HashSize = 1 << 15, HashMask = HashSize - 1, HashShift = 5;
    private const int MinMatch = 3, MaxMatch = 258, MinLookahead = MaxMatch + MinMatch + 1, MaxDist = WSize - MinLookahead;
    private const int NiceLength = 8, MaxChain = 4, MaxInsertLength = 4, PrevLength = MinMatch - 1;
    private const int Literals = 256, LengthCodes = 29, LCodes = Literals + 1 + LengthCodes, DCodes = 30, BlCodes = 19;
    private const int HeapSize = 2 * LCodes + 1, MaxBits = 15, MaxBlBits = 7, EndBlock = 256;
    private const int Rep3To6 = 16, RepZ3To10 = 17, RepZ11To138 = 18;

    private static readonly int[] ExtraLBits = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
    private static readonly int[] ExtraDBits = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };
    private static readonly int[] ExtraBlBits = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7 };
    private static readonly int[] BlOrder = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };
    private static readonly byte[] LengthCode = new byte[256];
    private static readonly byte[] DistCode = new byte[512];
    private static readonly int[] BaseLength = new int[LengthCodes];
    private static readonly int[] BaseDist = new int[DCodes];
    private static readonly int[] StaticLLen = new int[LCodes + 2], StaticLCode = new int[LCodes + 2];
    private static readonly int[] StaticDLen = new int[DCodes], StaticDCode = new int[DCodes];

    private readonly byte[] _window = new byte[2 * WSize + MaxMatch + 8];
    private readonly ushort[] _head = new ushort[HashSize];
    private readonly ushort[] _prev = new ushort[WSize];
    private readonly ushort[] _symDist = new ushort[WSize];
    private readonly byte[] _symLc = new byte[WSize];
    private readonly Tree _ltree = new(HeapSize, StaticLLen, ExtraLBits, Literals + 1, LCodes, MaxBits);
    private readonly Tree _dtree = new(2 * DCodes + 1, StaticDLen, ExtraDBits, 0, DCodes, MaxBits);
    private readonly Tree _bltree = new(2 * BlCodes + 1, null, ExtraBlBits, 0, BlCodes, MaxBlBits);
    private readonly int[] _heap = new int[HeapSize];
    private readonly byte[] _depth = new byte[HeapSize];
    private readonly int[] _blCount = new int[MaxBits + 1];
    private readonly BitWriter _bits = new();
    private int _heapLen, _heapMax, _symCount;
    private long _optLen, _staticLen;

    // deflate_fast's state
    private int _strstart, _lookahead, _matchLength, _matchStart, _insH;

    static ZlibLevel1Deflater()
    {
        // trees.c tr_static_init
        int length = 0, code;
        for (code = 0; code < LengthCodes - 1; code++)
        {
            BaseLength[code] = length;
            for (int n = 0; n < 1 << ExtraLBits[code]; n++)
            {
                LengthCode[length++] = (byte)code;
            }
        }

        LengthCode[length - 1] = (byte)code;
        int dist = 0;
        for (code = 0; code < 16; code++)
        {
            BaseDist[code] = dist;
            for (int n = 0; n < 1 << ExtraDBits[code]; n++)
            {
                DistCode[dist++] = (byte)code;
            }
        }

        dist >>= 7;
        for (; code < DCodes; code++)
        {
            BaseDist[code] = dist << 7;
            for (int n = 0; n < 1 << (ExtraDBits[code] - 7); n++)
            {
                DistCode[256 + dist++] = (byte)code;
            }
        }

        var count = new int[MaxBits + 1];
        for (int n = 0; n <= 287; n++)
        {
            StaticLLen[n] = n <= 143 ? 8 : n <= 255 ? 9 : n <= 279 ? 7 : 8;
            count[StaticLLen[n]]++;
        }

        GenCodes(StaticLCode, StaticLLen, LCodes + 1, count);
        for (int n = 0; n < DCodes; n++)
        {
            StaticDLen[n] = 5;
            StaticDCode[n] = Reverse(n, 5);
        }
    }

    /// <summary>The zlib stream compress2 at level 1 writes for <paramref name="input"/> (at most 32 KiB).</summary>
    public byte[] Compress(ReadOnlySpan<byte> input)
    {
        if (input.Length > WSize)
        {
            throw new ArgumentException("one window at most", nameof(input));
        }

        Reset(input);
        DeflateFast();
        _bits.Clear();
        _bits.WriteByte(0x78);
        _bits.WriteByte(0x01); // level 1: FLEVEL 0, no dictionary
        FlushBlock(input);
        _bits.AlignToByte();
        uint adler = Adler32(input);
        _bits.WriteByte((byte)(adler >> 24));
        _bits.WriteByte((byte)(adler >> 16));
        _bits.WriteByte((byte)(adler >> 8));
        _bits.WriteByte((byte)adler);
        return _bits.ToArray();
    }

    private void Reset(ReadOnlySpan<byte> input)
    {
        Array.Clear(_head);
        input.CopyTo(_window);
        Array.Clear(_window, input.Length, MaxMatch + 8); // fill_window's high-water zeroing
        _strstart = 0;
        _lookahead = input.Length;
        _matchLength = PrevLength;
        _matchStart = 0;
        _insH = 0;
        if (_lookahead >= MinMatch)
        {
            _insH = ((_window[0] << HashShift) ^ _window[1]) & HashMask;
        }

        _symCount = 0;
        _ltree.ClearFreq(LCodes);
        _dtree.ClearFreq(DCodes);
        _bltree.ClearFreq(BlCodes);
        _ltree.Fc[EndBlock] = 1;
        _optLen = _staticLen = 0;
    }

    private int InsertString(int str)
    {
        _insH = ((_insH << HashShift) ^ _window[str + MinMatch - 1]) & HashMask;
        int matchHead = _prev[str & WMask] = _head[_insH];
        _head[_insH] = (ushort)str;
        return matchHead;
    }

    private void DeflateFast()
    {
        while (_lookahead != 0)
        {
            int hashHead = 0;
            if (_lookahead >= MinMatch)
            {
                hashHead = InsertString(_strstart);
            }

            if (hashHead != 0 && _strstart - hashHead <= MaxDist)
            {
                _matchLength = LongestMatch(hashHead);
            }

            if (_matchLength >= MinMatch)
            {
                TallyDist(_strstart - _matchStart, _matchLength - MinMatch);
                _lookahead -= _matchLength;
                if (_matchLength <= MaxInsertLength && _lookahead >= MinMatch)
                {
                    _matchLength--;
                    do
                    {
                        _strstart++;
                        InsertString(_strstart);
                    }
                    while (--_matchLength != 0);
                    _strstart++;
                }
                else
                {
                    _strstart += _matchLength;
                    _matchLength = 0;
                    _insH = ((_window[_strstart] << HashShift) ^ _window[_strstart + 1]) & HashMask;
                }
            }
            else
            {
                TallyLit(_window[_strstart]);
                _lookahead--;
                _strstart++;
            }
        }
    }

    private int LongestMatch(int curMatch)
    {
        byte[] w = _window;
        int chainLength = MaxChain;
        int scan = _strstart;
        int bestLen = PrevLength;
        int niceMatch = NiceLength;
        int limit = _strstart > MaxDist ? _strstart - MaxDist : 0;
        int strend = _strstart + MaxMatch;
        byte scanEnd1 = w[scan + bestLen - 1];
        byte scanEnd = w[scan + bestLen];

        // zlib quarters the chain when prev_length >= good_match; deflate_fast never raises prev_length above 2.
        if (niceMatch > _lookahead)
        {
            niceMatch = _lookahead;
        }

        do
        {
            int match = curMatch;
            if (w[match + bestLen] != scanEnd || w[match + bestLen - 1] != scanEnd1 || w[match] != w[scan] || w[++match] != w[scan + 1])
            {
                continue;
            }

            // scan[2] and match[2] are not compared, as in zlib: equal hashes make them equal.
            int s = scan + 2;
            match++;
            while (w[++s] == w[++match] && w[++s] == w[++match] && w[++s] == w[++match] && w[++s] == w[++match]
                && w[++s] == w[++match] && w[++s] == w[++match] && w[++s] == w[++match] && w[++s] == w[++match]
                && s < strend)
            {
            }

            int len = MaxMatch - (strend - s);
            if (len > bestLen)
            {
                _matchStart = curMatch;
                bestLen = len;
                if (len >= niceMatch)
                {
                    break;
                }

                scanEnd1 = w[scan + bestLen - 1];
                scanEnd = w[scan + bestLen];
            }
        }
        while ((curMatch = _prev[curMatch & WMask]) > limit && --chainLength != 0);

        return bestLen <= _lookahead ? bestLen : _lookahead;
    }

    private void TallyLit(byte c)
    {
        _symDist[_symCount] = 0;
        _symLc[_symCount++] = c;
        _ltree.Fc[c]++;
    }

    private void TallyDist(int distance, int length)
    {
        _symDist[_symCount] = (ushort)distance;
        _symLc[_symCount++] = (byte)length;
        _ltree.Fc[LengthCode[length] + Literals + 1]++;
        _dtree.Fc[DCode(distance - 1)]++;
    }

    private static int DCode(int dist) => dist < 256 ? DistCode[dist] : DistCode[256 + (dist >> 7)];

    // trees.c _tr_flush_block, last = 1, level 1, default strategy
    private void FlushBlock(ReadOnlySpan<byte> input)
    {
        BuildTree(_ltree);
        BuildTree(_dtree);
        int maxBlIndex = BuildBlTree();
        long optLenB = (_optLen + 3 + 7) >> 3;
        long staticLenB = (_staticLen + 3 + 7) >> 3;
        if (staticLenB <= optLenB)
        {
            optLenB = staticLenB;
        }

        if (input.Length + 4 <= optLenB)
        {
            _bits.Send((0 << 1) + 1, 3);
            _bits.AlignToByte();
            _bits.WriteByte((byte)input.Length);
            _bits.WriteByte((byte)(input.Length >> 8));
            _bits.WriteByte((byte)~input.Length);
            _bits.WriteByte((byte)(~input.Length >> 8));
            foreach (byte b in input)
            {
                _bits.WriteByte(b);
            }
        }
        else if (staticLenB == optLenB)
        {
            _bits.Send((1 << 1) + 1, 3);
            CompressBlock(StaticLCode, StaticLLen, StaticDCode, StaticDLen);
        }
        else
        {
            _bits.Send((2 << 1) + 1, 3);
            SendAllTrees(_ltree.MaxCode + 1, _dtree.MaxCode + 1, maxBlIndex + 1);
            CompressBlock(_ltree.Fc, _ltree.Dl, _dtree.Fc, _dtree.Dl);
        }
    }

    private static uint Adler32(ReadOnlySpan<byte> data)
    {
        uint a = 1, b = 0;
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, 5552); // zlib's NMAX: the sums cannot overflow before the modulo
            foreach (byte x in data[..n])
            {
                a += x;
                b += a;
            }

            a %= 65521;
            b %= 65521;
            data = data[n..];
        }

        return (b << 16) | a;
    }

    /// <summary>Deflate's bit order: least significant bit first.</summary>
    private sealed class BitWriter
    {
        private readonly byte[] _bytes = new byte[2 * WSize];
        private int _length;
        private ulong _buffer;
        private int _count;

        public void Clear()
        {
            _length = 0;
            _buffer = 0;
            _count = 0;
        }

        public void Send(int value, int length)
        {
            _buffer |= (ulong)(uint)value << _count;
            _count += length;
            while (_count >= 8)
            {
                _bytes[_length++] = (byte)_buffer;
                _buffer >>= 8;
                _count -= 8;
            }
        }

        public void AlignToByte()
        {
            if (_count > 0)
            {
                _bytes[_length++] = (byte)_buffer;
            }

            _buffer = 0;
            _count = 0;
        }

        public void WriteByte(byte value) => Send(value, 8);

        public byte[] ToArray() => _bytes.AsSpan(0, _length).ToArray();
    }
}
