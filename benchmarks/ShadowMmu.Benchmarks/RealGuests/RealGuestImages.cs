using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using ShadowMmu.Tests.RealGuests;

namespace ShadowMmu.Benchmarks.RealGuests;

/// <summary>
/// One vCPU of a real Linux guest (tests/fixtures/real-guests): its raw memory image (pmemsave) rebuilt from the
/// fixture store by the tests' own loader, the registers <c>info registers</c> printed, and the addresses QEMU's
/// <c>gva2gpa</c> was asked about at that stop (mapped and unmapped, user and kernel).
/// </summary>
/// <param name="Mode">long4, long5, pae or legacy32.</param>
/// <param name="Stop">The stop (1 or 2).</param>
/// <param name="Cpu">The vCPU.</param>
/// <param name="RawPath">The raw image, 128 MiB.</param>
/// <param name="State">The registers as the walkers take them (CR3 as the paging structures see it, MAXPHYADDR 40).</param>
/// <param name="Samples">The sampled linear addresses, in QEMU's order.</param>
/// <param name="TlbLines">How many leaves QEMU's <c>info tlb</c> printed for this vCPU.</param>
internal sealed record RealGuestImage(string Mode, int Stop, int Cpu, string RawPath, CpuState State, ulong[] Samples, int TlbLines)
{
    /// <summary>Where rebuilt images are kept between benchmark processes (each BenchmarkDotNet case runs in its own).</summary>
    public static string CacheDirectory => Path.Combine(Path.GetTempPath(), "shadowmmu-bench-real-guests");

    /// <summary>The guest of <paramref name="mode"/> at <paramref name="stop"/>, seen by vCPU <paramref name="cpu"/>.</summary>
    public static RealGuestImage Get(string mode, int stop = 1, int cpu = 0)
    {
        GuestStop guestStop = RealGuestFixtures.Stop(mode, stop);
        VcpuRecord vcpu = guestStop.Cpus[cpu];
        QemuRegisters r = vcpu.Registers;
        var state = new CpuState(r.Cr0, r.PagingCr3, r.Cr4, r.Efer, 0, 40, CpuFeatures.All);
        ulong[] samples = vcpu.Gva2Gpa.Select(s => s.Va).ToArray();
        return new RealGuestImage(mode, stop, cpu, RawImage(guestStop), state, samples, vcpu.Tlb.Count);
    }

    /// <summary>
    /// The stop's raw image in <see cref="CacheDirectory"/>, rebuilt when missing or when its SHA-256 is not the one
    /// QEMU's file had (checked once after writing; a marker file holds the hash of the file it was checked on).
    /// </summary>
    private static string RawImage(GuestStop stop)
    {
        Directory.CreateDirectory(CacheDirectory);
        string path = Path.Combine(CacheDirectory, $"{stop.Guest.Mode}-stop{stop.Number}.raw");
        string marker = path + ".sha256";
        string expected = stop.RecordedSha256(GuestStop.Raw);
        if (File.Exists(path) && File.Exists(marker) && File.ReadAllText(marker) == expected && new FileInfo(path).Length == stop.MemorySize)
        {
            return path;
        }

        string temporary = path + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
        File.Copy(stop.RawPath, temporary, overwrite: true);
        string actual;
        using (FileStream file = File.OpenRead(temporary))
        {
            actual = Convert.ToHexString(SHA256.HashData(file)).ToLowerInvariant();
        }

        if (actual != expected)
        {
            File.Delete(temporary);
            throw new InvalidDataException($"{stop}: the rebuilt raw image's SHA-256 is {actual}, QEMU's was {expected}");
        }

        File.Move(temporary, path, overwrite: true);
        File.WriteAllText(marker, expected);
        return path;
    }

    /// <summary>
    /// One batch case per line for <c>translate --batch</c>: a supervisor read with EFLAGS.AC (as the real-guest tests
    /// ask, QEMU's debug walk's view) of each address in <paramref name="vas"/>, the image named relative to the batch file.
    /// </summary>
    public string BatchCases(string imageName, IEnumerable<ulong> vas)
    {
        string common = string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"image\":\"{imageName}\",\"cr0\":\"0x{State.Cr0:x}\",\"cr3\":\"0x{State.Cr3:x}\",\"cr4\":\"0x{State.Cr4:x}\",\"efer\":\"0x{State.Efer:x}\",\"cpl\":0,\"ac\":true,\"va\":\"0x");
        var text = new StringBuilder();
        foreach (ulong va in vas)
        {
            text.Append(common).Append(va.ToString("x", CultureInfo.InvariantCulture)).Append("\"}\n");
        }

        return text.ToString();
    }

    /// <summary>
    /// <paramref name="count"/> addresses: the samples, shuffled with a fixed seed, repeated as often as needed.
    /// </summary>
    public ulong[] Addresses(int count, int seed = 15)
    {
        var random = new Random(seed);
        ulong[] shuffled = Samples.ToArray();
        random.Shuffle(shuffled);
        var vas = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            vas[i] = shuffled[i % shuffled.Length];
        }

        return vas;
    }

    public override string ToString() => $"{Mode} stop {Stop} cpu {Cpu}";
}
