using System;
using System.Linq;
using Xunit;

namespace ShadowMmu.Tests.Cli;

/// <summary>Bad input: one line on stderr, exit code 2, never a stack trace.</summary>
public sealed class TranslateErrorTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly TestImage _image;

    public TranslateErrorTests()
    {
        _image = TestImage.BuildLong4(_dir.File("mem.bin"));
    }

    public void Dispose() => _dir.Dispose();

    private CliResult Translate(params string[] tail) =>
        CliHarness.Run(new[] { "translate", "--image", _image.Path }.Concat(tail).ToArray());

    [Fact]
    public void UnknownOption() => Translate("--cr3", "0x1000", "--bogus", "0x1000").AssertUsageError("'--bogus'");

    [Fact]
    public void UnknownOptionAlone() => CliHarness.Run("translate", "--bogus").AssertUsageError("'--bogus'");

    [Fact]
    public void UnknownCommand() => CliHarness.Run("frobnicate").AssertUsageError("'frobnicate'");

    [Fact]
    public void NoCommand() => CliHarness.Run().AssertUsageError();

    [Theory]
    [InlineData("--cr3", "0xzz")]
    [InlineData("--cr3", "zz")]
    [InlineData("--cr3", "0x")]
    [InlineData("--cr3", "0x1_0000_0000_0000_0000")]
    [InlineData("--cr0", "0x8001003g")]
    [InlineData("--cr4", "-1")]
    [InlineData("--efer", "1.5")]
    [InlineData("--pkru", "0x100000000")]
    public void BadNumber(string option, string value)
    {
        string[] args = option == "--cr3" ? new[] { "--cr3", value, "0x1000" } : new[] { "--cr3", "0x1000", option, value, "0x1000" };
        Translate(args).AssertUsageError(option);
    }

    [Fact]
    public void BadVa() => Translate("--cr3", "0x1000", "0x1000", "0xnope").AssertUsageError("0xnope");

    [Fact]
    public void MissingCr3() => Translate("0x1000").AssertUsageError("--cr3");

    [Fact]
    public void MissingImage() => CliHarness.Run("translate", "--cr3", "0x1000", "0x1000").AssertUsageError("--image");

    [Fact]
    public void MissingVa() => Translate("--cr3", "0x1000").AssertUsageError("VA");

    [Fact]
    public void UnreadableImage() =>
        CliHarness.Run("translate", "--image", _dir.File("no-such.bin"), "--cr3", "0x1000", "0x1000").AssertUsageError("no-such.bin");

    [Fact]
    public void ImageThatIsAFolder() =>
        CliHarness.Run("translate", "--image", _dir.Path, "--cr3", "0x1000", "0x1000").AssertUsageError("cannot read image");

    [Fact]
    public void EmptyImage()
    {
        System.IO.File.WriteAllBytes(_dir.File("empty.bin"), Array.Empty<byte>());
        CliHarness.Run("translate", "--image", _dir.File("empty.bin"), "--cr3", "0x1000", "0x1000").AssertUsageError("empty");
    }

    [Fact]
    public void PagingOff() => Translate("--cr3", "0x1000", "--cr0", "0x11", "0x1000").AssertUsageError("CR0.PG is clear");

    [Fact]
    public void LongModeWithoutPae() =>
        Translate("--cr3", "0x1000", "--cr0", "0x80000001", "--efer", "0x100", "0x1000").AssertUsageError("impossible register combination");

    [Fact]
    public void PagingWithoutProtection() => Translate("--cr3", "0x1000", "--cr0", "0x80000000", "0x1000").AssertUsageError("CR0.PE");

    [Fact]
    public void BadMaxPhysAddr() => Translate("--cr3", "0x1000", "--maxphyaddr", "60", "0x1000").AssertUsageError("MAXPHYADDR");

    [Theory]
    [InlineData("0x0", "0x100000000")]
    [InlineData("0x20", "0x100000000")]
    [InlineData("0x20", "0xffffffff80000000")]
    public void VaTooWideForTheMode(string cr4, string va) =>
        Translate("--cr3", "0x1000", "--cr4", cr4, "0x1000", va).AssertUsageError("does not fit the 32-bit linear addresses");

    [Theory]
    [InlineData("--cpl", "1x")]
    [InlineData("--cpl", "4")]
    [InlineData("--access", "execute")]
    public void BadAccessOrCpl(string option, string value) => Translate("--cr3", "0x1000", option, value, "0x1000").AssertUsageError(option == "--cpl" ? "--cpl" : value);

    [Fact]
    public void BatchWithOtherOptions() =>
        CliHarness.Run("translate", "--batch", _dir.File("x.jsonl"), "--cr3", "0x1000").AssertUsageError("--batch");

    [Fact]
    public void ImageAndBatchTogether() =>
        CliHarness.Run("translate", "--batch", _dir.File("x.jsonl"), "--image", _image.Path).AssertUsageError("one of");

    [Fact]
    public void ExampleImageUnknownMode() => CliHarness.Run("example-image", _dir.File("x.bin"), "--mode", "long6").AssertUsageError("long6");

    [Fact]
    public void ExampleImageDoesNotOverwrite() => CliHarness.Run("example-image", _image.Path).AssertUsageError("--force");
}
