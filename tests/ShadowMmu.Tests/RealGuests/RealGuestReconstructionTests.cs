using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using Xunit;

namespace ShadowMmu.Tests.RealGuests;

/// <summary>
/// The fixture store gives back exactly the files QEMU wrote: the raw image (pmemsave), the ELF dump and the
/// kdump-compressed dump of every stop of every guest, each with the SHA-256 recorded when QEMU wrote it.
/// </summary>
public sealed class RealGuestReconstructionTests
{
    public static TheoryData<string, int, string> Files()
    {
        var data = new TheoryData<string, int, string>();
        foreach (ModeEntry mode in RealGuestFixtures.Manifest.Modes)
        {
            foreach (StopEntry stop in mode.Stops)
            {
                foreach (string name in stop.Files.Keys)
                {
                    data.Add(mode.Mode, stop.Stop, name);
                }
            }
        }

        return data;
    }

    [Fact]
    public void EveryPagingModeHasTwoStopsWithTheThreeDumpFormats()
    {
        Assert.Equal(new[] { "long4", "long5", "pae", "legacy32" }, RealGuestFixtures.Manifest.Modes.Select(m => m.Mode));
        foreach (RealGuest guest in RealGuestFixtures.Guests)
        {
            Assert.Equal(new[] { 1, 2 }, guest.Stops.Select(s => s.Number));
            foreach (GuestStop stop in guest.Stops)
            {
                Assert.Equal(new[] { GuestStop.Elf, GuestStop.KdumpZlib, GuestStop.Raw }, stop.FileNames.Order(StringComparer.Ordinal));
                Assert.Equal(2, stop.Cpus.Count);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void RebuiltFileHasQemusSha256(string mode, int stop, string name)
    {
        GuestStop guestStop = RealGuestFixtures.Stop(mode, stop);
        string path = guestStop.FilePath(name);
        Assert.Equal(guestStop.Entry.Files[name].Size, new FileInfo(path).Length);
        using FileStream file = File.OpenRead(path);
        Assert.Equal(guestStop.RecordedSha256(name), Convert.ToHexStringLower(SHA256.HashData(file)));
    }

    [Fact]
    public void DeflaterIsZlibs()
    {
        // zlib 1.2.13's compress2(level 1) of a short text, as Debian 12's Python zlib.compress(data, 1) gives it.
        byte[] data = System.Text.Encoding.ASCII.GetBytes("abcabcabcabcabcabc hello hello hello");
        Assert.Equal(
            "78014b4c4a4e44450a19a93939f9c82400f9f30d81",
            Convert.ToHexStringLower(new ZlibLevel1Deflater().Compress(data)));
    }
}
