using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ShadowMmu.Dumps;
using ShadowMmu.Roots;
using ShadowMmu.Tests.RealGuests;
using Xunit;

namespace ShadowMmu.Tests.Roots;

/// <summary>The root finder's answer for each real-guest file, found once per test run.</summary>
internal static class RealGuestRoots
{
    /// <summary>"Near the top": the recorded CR3 must be among this many first candidates of its mode.</summary>
    /// <remarks>
    /// Why 4: a stopped Linux guest holds one top table per process plus the kernel's own (and, with PTI, a user table
    /// beside each), and nothing in the tables says which process a CPU was running; the ranking puts the address
    /// spaces that map most first. In these guests (init, a shell, mmtest and its child; PTI pairs in long4) the CR3 a
    /// vCPU held is the first to the fourth of its mode in every raw file, and in files with CPU notes the notes name
    /// it (certain), after VMCOREINFO's kernel root and its PTI partner at most.
    /// </remarks>
    public const int NearTop = 4;

    /// <summary>The file kinds of a stop: "raw" (pmemsave), "elf", "kdump" (dump-guest-memory -z).</summary>
    public static readonly string[] Files = { "raw", "elf", "kdump" };

    private static readonly ConcurrentDictionary<string, Lazy<RootSearch>> Searches = new(StringComparer.Ordinal);

    public static string PathOf(GuestStop stop, string file) => file switch
    {
        "raw" => stop.RawPath,
        "elf" => stop.ElfPath,
        _ => stop.KdumpZlibPath,
    };

    public static RootSearch Search(GuestStop stop, string file) =>
        Searches.GetOrAdd($"{stop.Guest.Mode}/{stop.Number}/{file}", _ => new Lazy<RootSearch>(
            () =>
            {
                using MemoryDump dump = MemoryDump.Open(PathOf(stop, file));
                return RootFinder.Find(dump);
            },
            LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    /// <summary>The candidates of <paramref name="mode"/>, in the search's order.</summary>
    public static List<RootCandidate> OfMode(RootSearch search, string mode) => search.Candidates.Where(c => c.Mode.Name == mode).ToList();

    /// <summary>Every (mode, stop, cpu) of the fixtures.</summary>
    public static TheoryData<string, int, int> Vcpus() => RealGuestTranslateTests.Vcpus();

    /// <summary>Every (mode, stop).</summary>
    public static TheoryData<string, int> Stops()
    {
        var data = new TheoryData<string, int>();
        foreach (ModeEntry mode in RealGuestFixtures.Manifest.Modes)
        {
            foreach (StopEntry stop in mode.Stops)
            {
                data.Add(mode.Mode, stop.Stop);
            }
        }

        return data;
    }

    /// <summary>Every (mode, stop, cpu, file).</summary>
    public static TheoryData<string, int, int, string> VcpuFiles()
    {
        var data = new TheoryData<string, int, int, string>();
        foreach (object[] row in Vcpus())
        {
            foreach (string file in Files)
            {
                data.Add((string)row[0], (int)row[1], (int)row[2], file);
            }
        }

        return data;
    }
}
