using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace ShadowMmu.Oracle;

/// <summary>Entries whose bytes differ between two copies of the image, in entry-size units.</summary>
internal static class PteDiff
{
    public static IReadOnlyList<OraclePteUpdate> Compute(ReadOnlySpan<byte> before, ReadOnlySpan<byte> after, int entrySize)
    {
        var updates = new List<OraclePteUpdate>();
        for (int page = 0; page < before.Length; page += 4096)
        {
            ReadOnlySpan<byte> oldPage = before.Slice(page, 4096);
            ReadOnlySpan<byte> newPage = after.Slice(page, 4096);
            if (oldPage.SequenceEqual(newPage))
            {
                continue;
            }

            for (int offset = 0; offset < 4096; offset += entrySize)
            {
                ulong oldValue = Read(oldPage[offset..], entrySize);
                ulong newValue = Read(newPage[offset..], entrySize);
                if (oldValue != newValue)
                {
                    updates.Add(new OraclePteUpdate((ulong)(page + offset), oldValue, newValue, entrySize));
                }
            }
        }

        return updates;
    }

    private static ulong Read(ReadOnlySpan<byte> bytes, int size) =>
        size == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt64LittleEndian(bytes);
}
