using System.IO;
using ShadowMmu.Dumps;
using ShadowMmu.Tests.Cli;
using Xunit;

namespace ShadowMmu.Tests.Dumps;

/// <summary>
/// A raw image named through a symbolic link is the file the link points to (found when the benchmarks linked the
/// real-guest images into a folder: the image was mapped as long as the link's own text, 48 bytes, and every address
/// answered "the PML4E lies outside the image").
/// </summary>
public sealed class ImageThroughLinkTests
{
    [Fact]
    public void A_raw_image_through_a_symbolic_link_has_the_size_of_its_target()
    {
        using var dir = new TempDir();
        TestImage image = TestImage.BuildLong4(dir.File("mem.bin"));
        string link = dir.File("link.bin");
        File.CreateSymbolicLink(link, image.Path);

        using MemoryDump dump = MemoryDump.Open(link);
        CliResult result = CliHarness.Run("translate", "--image", link, "--cr3", "0x1000", "--cr4", "0x20", "--efer", "0xd00", "0x7fff0123");

        Assert.Equal(TestImage.Size, dump.Memory.Size);
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("0x7fff0123 -> 0x123123 ", result.Lines[0], System.StringComparison.Ordinal);
    }
}
