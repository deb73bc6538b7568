using System;
using System.IO;
using ShadowMmu.Dumps;
using Xunit;

namespace ShadowMmu.Tests.Dumps;

/// <summary>
/// An image reached through a symbolic link is the file the link names: .NET's FileInfo.Length of a link on Unix is
/// the link's own length (the length of the path it holds), which once made a linked 128 MiB raw image map as a few
/// dozen bytes.
/// </summary>
public sealed class SymlinkImageTests
{
    [Fact]
    public void A_raw_image_through_a_symbolic_link_is_the_whole_file()
    {
        if (OperatingSystem.IsWindows())
        {
            return;   // creating links there needs a privilege the test may not have
        }

        string target = DumpFixtures.NewFile("target.raw");
        var bytes = new byte[0x5000];
        new Random(7).NextBytes(bytes);
        File.WriteAllBytes(target, bytes);
        string link = DumpFixtures.NewFile("link.raw");
        File.CreateSymbolicLink(link, target);

        using GuestMemory memory = GuestMemory.MapImage(link);
        using MemoryDump dump = MemoryDump.Open(link);

        Assert.Equal((ulong)bytes.Length, memory.Size);
        Assert.Equal((ulong)bytes.Length, dump.Memory.Size);
        Assert.Equal((ulong)bytes.Length, dump.PresentBytes);
        Assert.True(dump.Memory.TryReadUInt64(0x4ff8, out ulong last));
        Assert.Equal(BitConverter.ToUInt64(bytes, 0x4ff8), last);
    }
}
