using System;

namespace ShadowMmu.Tests.RealGuests;

/// <summary>zlib 1.2.13's trees.c for one block: the Huffman trees with zlib's tie-breaks, their lengths sent as zlib sends them.</summary>
internal sealed partial class ZlibLevel1Deflater
{
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
}
