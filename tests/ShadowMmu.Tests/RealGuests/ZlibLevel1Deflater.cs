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
internal sealed class ZlibLevel1Deflater
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

    private bool Smaller(Tree tree, int n, int m) =>
        tree.Fc[n] < tree.Fc[m] || (tree.Fc[n] == tree.Fc[m] && _depth[n] <= _depth[m]);

    private void PqDownHeap(Tree tree, int k)
    {
        int v = _heap[k];
        int j = k << 1;
        while (j <= _heapLen)
        {
            if (j < _heapLen && Smaller(tree, _heap[j + 1], _heap[j]))
            {
                j++;
            }

            if (Smaller(tree, v, _heap[j]))
            {
                break;
            }

            _heap[k] = _heap[j];
            k = j;
            j <<= 1;
        }

        _heap[k] = v;
    }

    private void BuildTree(Tree tree)
    {
        int[] fc = tree.Fc, dl = tree.Dl;
        int maxCode = -1;
        _heapLen = 0;
        _heapMax = HeapSize;
        for (int n = 0; n < tree.Elems; n++)
        {
            if (fc[n] != 0)
            {
                _heap[++_heapLen] = maxCode = n;
                _depth[n] = 0;
            }
            else
            {
                dl[n] = 0;
            }
        }

        while (_heapLen < 2)
        {
            int node = _heap[++_heapLen] = maxCode < 2 ? ++maxCode : 0;
            fc[node] = 1;
            _depth[node] = 0;
            _optLen--;
            if (tree.StaticLen != null)
            {
                _staticLen -= tree.StaticLen[node];
            }
        }

        tree.MaxCode = maxCode;
        for (int n = _heapLen / 2; n >= 1; n--)
        {
            PqDownHeap(tree, n);
        }

        int next = tree.Elems;
        do
        {
            int n = _heap[1];
            _heap[1] = _heap[_heapLen--];
            PqDownHeap(tree, 1);
            int m = _heap[1];
            _heap[--_heapMax] = n;
            _heap[--_heapMax] = m;
            fc[next] = fc[n] + fc[m];
            _depth[next] = (byte)((_depth[n] >= _depth[m] ? _depth[n] : _depth[m]) + 1);
            dl[n] = dl[m] = next;
            _heap[1] = next++;
            PqDownHeap(tree, 1);
        }
        while (_heapLen >= 2);

        _heap[--_heapMax] = _heap[1];
        GenBitLen(tree);
        GenCodes(fc, dl, maxCode, _blCount);
    }

    private void GenBitLen(Tree tree)
    {
        int[] fc = tree.Fc, dl = tree.Dl;
        int maxCode = tree.MaxCode, maxLength = tree.MaxLength;
        int overflow = 0;
        Array.Clear(_blCount);
        dl[_heap[_heapMax]] = 0;
        int h;
        for (h = _heapMax + 1; h < HeapSize; h++)
        {
            int n = _heap[h];
            int bits = dl[dl[n]] + 1;
            if (bits > maxLength)
            {
                bits = maxLength;
                overflow++;
            }

            dl[n] = bits;
            if (n > maxCode)
            {
                continue;
            }

            _blCount[bits]++;
            int xbits = n >= tree.ExtraBase ? tree.ExtraBits[n - tree.ExtraBase] : 0;
            int f = fc[n];
            _optLen += (long)f * (bits + xbits);
            if (tree.StaticLen != null)
            {
                _staticLen += (long)f * (tree.StaticLen[n] + xbits);
            }
        }

        if (overflow == 0)
        {
            return;
        }

        do
        {
            int bits = maxLength - 1;
            while (_blCount[bits] == 0)
            {
                bits--;
            }

            _blCount[bits]--;
            _blCount[bits + 1] += 2;
            _blCount[maxLength]--;
            overflow -= 2;
        }
        while (overflow > 0);

        for (int bits = maxLength; bits != 0; bits--)
        {
            int n = _blCount[bits];
            while (n != 0)
            {
                int m = _heap[--h];
                if (m > maxCode)
                {
                    continue;
                }

                if (dl[m] != bits)
                {
                    _optLen += ((long)bits - dl[m]) * fc[m];
                    dl[m] = bits;
                }

                n--;
            }
        }
    }

    private static void GenCodes(int[] code, int[] len, int maxCode, int[] blCount)
    {
        Span<int> nextCode = stackalloc int[MaxBits + 1];
        int c = 0;
        for (int bits = 1; bits <= MaxBits; bits++)
        {
            c = (c + blCount[bits - 1]) << 1;
            nextCode[bits] = c & 0xFFFF;
        }

        for (int n = 0; n <= maxCode; n++)
        {
            int l = len[n];
            if (l != 0)
            {
                code[n] = Reverse(nextCode[l]++, l);
            }
        }
    }

    private static int Reverse(int code, int length)
    {
        int result = 0;
        do
        {
            result |= code & 1;
            code >>= 1;
            result <<= 1;
        }
        while (--length > 0);
        return result >> 1;
    }

    private int BuildBlTree()
    {
        ScanTree(_ltree, _ltree.MaxCode);
        ScanTree(_dtree, _dtree.MaxCode);
        BuildTree(_bltree);
        int maxBlIndex;
        for (maxBlIndex = BlCodes - 1; maxBlIndex >= 3; maxBlIndex--)
        {
            if (_bltree.Dl[BlOrder[maxBlIndex]] != 0)
            {
                break;
            }
        }

        _optLen += (3 * ((long)maxBlIndex + 1)) + 5 + 5 + 4;
        return maxBlIndex;
    }

    private void ScanTree(Tree tree, int maxCode)
    {
        int[] dl = tree.Dl;
        int[] bl = _bltree.Fc;
        int prevLen = -1, nextLen = dl[0], count = 0, maxCount = 7, minCount = 4;
        if (nextLen == 0)
        {
            maxCount = 138;
            minCount = 3;
        }

        dl[maxCode + 1] = 0xFFFF; // guard
        for (int n = 0; n <= maxCode; n++)
        {
            int curLen = nextLen;
            nextLen = dl[n + 1];
            if (++count < maxCount && curLen == nextLen)
            {
                continue;
            }
            else if (count < minCount)
            {
                bl[curLen] += count;
            }
            else if (curLen != 0)
            {
                if (curLen != prevLen)
                {
                    bl[curLen]++;
                }

                bl[Rep3To6]++;
            }
            else if (count <= 10)
            {
                bl[RepZ3To10]++;
            }
            else
            {
                bl[RepZ11To138]++;
            }

            count = 0;
            prevLen = curLen;
            (maxCount, minCount) = nextLen == 0 ? (138, 3) : curLen == nextLen ? (6, 3) : (7, 4);
        }
    }

    private void SendTree(Tree tree, int maxCode)
    {
        int[] dl = tree.Dl;
        int prevLen = -1, nextLen = dl[0], count = 0, maxCount = 7, minCount = 4;
        if (nextLen == 0)
        {
            maxCount = 138;
            minCount = 3;
        }

        for (int n = 0; n <= maxCode; n++)
        {
            int curLen = nextLen;
            nextLen = dl[n + 1];
            if (++count < maxCount && curLen == nextLen)
            {
                continue;
            }
            else if (count < minCount)
            {
                do
                {
                    SendBlCode(curLen);
                }
                while (--count != 0);
            }
            else if (curLen != 0)
            {
                if (curLen != prevLen)
                {
                    SendBlCode(curLen);
                    count--;
                }

                SendBlCode(Rep3To6);
                _bits.Send(count - 3, 2);
            }
            else if (count <= 10)
            {
                SendBlCode(RepZ3To10);
                _bits.Send(count - 3, 3);
            }
            else
            {
                SendBlCode(RepZ11To138);
                _bits.Send(count - 11, 7);
            }

            count = 0;
            prevLen = curLen;
            (maxCount, minCount) = nextLen == 0 ? (138, 3) : curLen == nextLen ? (6, 3) : (7, 4);
        }
    }

    private void SendBlCode(int c) => _bits.Send(_bltree.Fc[c], _bltree.Dl[c]);

    private void SendAllTrees(int lcodes, int dcodes, int blcodes)
    {
        _bits.Send(lcodes - 257, 5);
        _bits.Send(dcodes - 1, 5);
        _bits.Send(blcodes - 4, 4);
        for (int rank = 0; rank < blcodes; rank++)
        {
            _bits.Send(_bltree.Dl[BlOrder[rank]], 3);
        }

        SendTree(_ltree, lcodes - 1);
        SendTree(_dtree, dcodes - 1);
    }

    private void CompressBlock(int[] lcode, int[] llen, int[] dcode, int[] dlen)
    {
        for (int sx = 0; sx < _symCount; sx++)
        {
            int dist = _symDist[sx];
            int lc = _symLc[sx];
            if (dist == 0)
            {
                _bits.Send(lcode[lc], llen[lc]);
                continue;
            }

            int code = LengthCode[lc];
            _bits.Send(lcode[code + Literals + 1], llen[code + Literals + 1]);
            int extra = ExtraLBits[code];
            if (extra != 0)
            {
                _bits.Send(lc - BaseLength[code], extra);
            }

            dist--;
            code = DCode(dist);
            _bits.Send(dcode[code], dlen[code]);
            extra = ExtraDBits[code];
            if (extra != 0)
            {
                _bits.Send(dist - BaseDist[code], extra);
            }
        }

        _bits.Send(lcode[EndBlock], llen[EndBlock]);
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

    /// <summary>A ct_data array pair: Freq and Code share <see cref="Fc"/>, Dad and Len share <see cref="Dl"/>, as in zlib's union.</summary>
    private sealed class Tree
    {
        public Tree(int size, int[]? staticLen, int[] extraBits, int extraBase, int elems, int maxLength)
        {
            Fc = new int[size];
            Dl = new int[size];
            StaticLen = staticLen;
            ExtraBits = extraBits;
            ExtraBase = extraBase;
            Elems = elems;
            MaxLength = maxLength;
        }

        public int[] Fc { get; }

        public int[] Dl { get; }

        public int[]? StaticLen { get; }

        public int[] ExtraBits { get; }

        public int ExtraBase { get; }

        public int Elems { get; }

        public int MaxLength { get; }

        public int MaxCode { get; set; }

        public void ClearFreq(int count) => Array.Clear(Fc, 0, count);
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
