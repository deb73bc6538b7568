using System;

namespace ShadowMmu.Dumps;

/// <summary>
/// A safe LZO1X decompressor, written after the Linux kernel's lzo1x_decompress_safe (lib/lzo): every read of the
/// input, every write of the output and every back-reference is checked, so corrupt input ends in false, never
/// outside the buffers. It reads the standard LZO1X stream that liblzo2's lzo1x_1_compress writes (QEMU's and
/// makedumpfile's -l); the kernel's LZO-RLE variant (a leading 17 and a version byte) is not accepted.
/// </summary>
internal static class Lzo1x
{
    private const int M2MaxOffset = 0x0800;
    private const int Max255Count = int.MaxValue / 255 - 2;

    /// <summary>Decompresses <paramref name="input"/> into <paramref name="output"/>; the bytes written, or -1 when the input is not a complete LZO1X stream that fits.</summary>
    public static int Decompress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int ip = 0;
        int op = 0;
        int state = 0;
        int t = 0;
        int next = 0;
        int matchPosition;
        Step step = Step.Instruction;

        if (input.Length < 3)
        {
            return -1;
        }

        if (input[0] > 17)
        {
            t = input[ip++] - 17;
            if (t < 4)
            {
                next = t;
                step = Step.TrailingLiterals;
            }
            else
            {
                step = Step.LiteralRun;
            }
        }

        while (true)
        {
            if (step == Step.LiteralRun)
            {
                if (input.Length - ip < t || output.Length - op < t)
                {
                    return -1;
                }

                input.Slice(ip, t).CopyTo(output[op..]);
                ip += t;
                op += t;
                state = 4;
                step = Step.Instruction;
                continue;
            }

            if (step == Step.TrailingLiterals)
            {
                // the 0-3 literals that follow a match (its low two bits)
                state = next;
                t = next;
                if (input.Length - ip < t || output.Length - op < t)
                {
                    return -1;
                }

                input.Slice(ip, t).CopyTo(output[op..]);
                ip += t;
                op += t;
                step = Step.Instruction;
                continue;
            }

            if (ip >= input.Length)
            {
                return -1;
            }

            t = input[ip++];
            if (t < 16)
            {
                if (state == 0)
                {
                    if (t == 0)
                    {
                        if (!ReadLength(input, ref ip, 15, out int extra))
                        {
                            return -1;
                        }

                        t = extra;
                    }

                    t += 3;
                    step = Step.LiteralRun;
                    continue;
                }

                if (ip >= input.Length)
                {
                    return -1;
                }

                next = t & 3;
                if (state != 4)
                {
                    // a 2-byte match right after a short literal run
                    matchPosition = op - 1 - (t >> 2) - (input[ip++] << 2);
                    if (matchPosition < 0 || output.Length - op < 2)
                    {
                        return -1;
                    }

                    output[op] = output[matchPosition];
                    output[op + 1] = output[matchPosition + 1];
                    op += 2;
                    step = Step.TrailingLiterals;
                    continue;
                }

                // a 3-byte match at distance 2049..3072 right after a long literal run
                matchPosition = op - (1 + M2MaxOffset) - (t >> 2) - (input[ip++] << 2);
                t = 3;
            }
            else if (t >= 64)
            {
                if (ip >= input.Length)
                {
                    return -1;
                }

                next = t & 3;
                matchPosition = op - 1 - ((t >> 2) & 7) - (input[ip++] << 3);
                t = (t >> 5) - 1 + 2;
            }
            else if (t >= 32)
            {
                t = (t & 31) + 2;
                if (t == 2)
                {
                    if (!ReadLength(input, ref ip, 31, out int extra))
                    {
                        return -1;
                    }

                    t += extra;
                }

                if (input.Length - ip < 2)
                {
                    return -1;
                }

                next = input[ip] | (input[ip + 1] << 8);
                ip += 2;
                matchPosition = op - 1 - (next >> 2);
                next &= 3;
            }
            else
            {
                matchPosition = op - ((t & 8) << 11);
                t = (t & 7) + 2;
                if (t == 2)
                {
                    if (!ReadLength(input, ref ip, 7, out int extra))
                    {
                        return -1;
                    }

                    t += extra;
                }

                if (input.Length - ip < 2)
                {
                    return -1;
                }

                next = input[ip] | (input[ip + 1] << 8);
                ip += 2;
                matchPosition -= next >> 2;
                next &= 3;
                if (matchPosition == op)
                {
                    // the end marker: a complete stream has consumed its input exactly
                    return t == 3 && ip == input.Length ? op : -1;
                }

                matchPosition -= 0x4000;
            }

            // the match: t bytes from matchPosition (an overlapping copy repeats bytes, as intended)
            if (matchPosition < 0 || t > output.Length - op)
            {
                return -1;
            }

            if (op - matchPosition >= t)
            {
                output.Slice(matchPosition, t).CopyTo(output[op..]);
            }
            else
            {
                for (int i = 0; i < t; i++)
                {
                    output[op + i] = output[matchPosition + i];
                }
            }

            op += t;
            step = Step.TrailingLiterals;
        }
    }

    /// <summary>A run length that continues in zero bytes (255 each) and a final byte, plus <paramref name="bias"/>.</summary>
    private static bool ReadLength(ReadOnlySpan<byte> input, ref int ip, int bias, out int length)
    {
        length = 0;
        int start = ip;
        while (ip < input.Length && input[ip] == 0)
        {
            ip++;
        }

        if (ip >= input.Length || ip - start > Max255Count)
        {
            return false;
        }

        length = ((ip - start) * 255) + bias + input[ip++];
        return true;
    }

    private enum Step
    {
        Instruction,
        LiteralRun,
        TrailingLiterals,
    }
}
