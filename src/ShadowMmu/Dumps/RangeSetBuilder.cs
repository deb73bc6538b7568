using System;
using System.Collections.Generic;

namespace ShadowMmu.Dumps;

/// <summary>Gathers guest-physical ranges, in any order, into sorted ranges that neither overlap nor touch.</summary>
internal sealed class RangeSetBuilder
{
    private readonly List<PhysicalRange> _ranges = new();

    public void Add(ulong start, ulong end)
    {
        if (end <= start)
        {
            return;
        }

        if (_ranges.Count > 0 && _ranges[^1].End == start)
        {
            _ranges[^1] = _ranges[^1] with { End = end };   // pages in ascending order (kdump) merge here
            return;
        }

        _ranges.Add(new PhysicalRange(start, end));
    }

    public PhysicalRange[] Build()
    {
        _ranges.Sort((a, b) => a.Start.CompareTo(b.Start));
        var merged = new List<PhysicalRange>(_ranges.Count);
        foreach (PhysicalRange range in _ranges)
        {
            if (merged.Count > 0 && range.Start <= merged[^1].End)
            {
                merged[^1] = merged[^1] with { End = Math.Max(merged[^1].End, range.End) };
            }
            else
            {
                merged.Add(range);
            }
        }

        return merged.ToArray();
    }

    /// <summary>The index of the range holding <paramref name="gpa"/> in sorted <paramref name="ranges"/>, or -1.</summary>
    public static int Find(PhysicalRange[] ranges, ulong gpa)
    {
        int lo = 0, hi = ranges.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (gpa < ranges[mid].Start)
            {
                hi = mid - 1;
            }
            else if (gpa >= ranges[mid].End)
            {
                lo = mid + 1;
            }
            else
            {
                return mid;
            }
        }

        return -1;
    }
}
