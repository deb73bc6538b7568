using System;
using System.Collections.Generic;
using System.Linq;

namespace ShadowMmu.Tests.RealGuests;

/// <summary>A memory region mmtest printed: [Start, End), its protection as mmap saw it ("rw-"), what it is, and the stop after which it was printed.</summary>
internal sealed record MmtestRegion(string Name, ulong Start, ulong End, string Protection, string Kind, int Stop);

/// <summary>
/// What the guest program (capture/mmtest.c) printed on the serial console: its regions, the protection key and the
/// PKRU of its threads (which <c>info registers</c> does not show), the THP size, and /proc/self/maps at each stop.
/// </summary>
internal sealed record MmtestLog(IReadOnlyList<MmtestRegion> Regions, int? ProtectionKey, uint? Pkru, ulong HugePageSize, IReadOnlyDictionary<int, IReadOnlyList<string>> Maps)
{
    public MmtestRegion Region(string name) => Regions.Single(r => r.Name == name);

    public static MmtestLog Parse(string console)
    {
        var regions = new List<MmtestRegion>();
        var maps = new Dictionary<int, List<string>>();
        int? key = null;
        uint? pkru = null;
        ulong hugePageSize = 0;
        int stop = 1;
        foreach (string line in QemuTlbEntry.Lines(console))
        {
            if (!line.StartsWith("MMTEST ", StringComparison.Ordinal))
            {
                continue;
            }

            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (words[1])
            {
                case "region":
                    regions.Add(new MmtestRegion(words[2], QemuTlbEntry.ParseHex(words[3]), QemuTlbEntry.ParseHex(words[4]), words[5], words[6], stop));
                    break;
                case "pkey" when words[2] != "none":
                    key = int.Parse(words[2], System.Globalization.CultureInfo.InvariantCulture);
                    pkru = (uint)QemuTlbEntry.ParseHex(words[4]);
                    break;
                case "hpage_pmd_size":
                    hugePageSize = QemuTlbEntry.ParseHex(words[2]);
                    break;
                case "maps":
                    int mapsStop = int.Parse(words[2], System.Globalization.CultureInfo.InvariantCulture);
                    if (!maps.TryGetValue(mapsStop, out List<string>? lines))
                    {
                        maps[mapsStop] = lines = new List<string>();
                    }

                    lines.Add(string.Join(' ', words.Skip(3)));
                    break;
                case "stop":
                    stop = int.Parse(words[2], System.Globalization.CultureInfo.InvariantCulture) + 1;
                    break;
            }
        }

        return new MmtestLog(regions, key, pkru, hugePageSize, maps.ToDictionary(p => p.Key, p => (IReadOnlyList<string>)p.Value));
    }
}
