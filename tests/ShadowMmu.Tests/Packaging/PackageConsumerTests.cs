using System.IO;
using Xunit;
using Xunit.Abstractions;

namespace ShadowMmu.Tests.Packaging;

/// <summary>
/// The packages proven from the outside: a fresh console project that adds the ShadowMmu package and a spec of its
/// own gets a working walker, and a broken spec fails its build at the spec's line; the tool installs and translates.
/// </summary>
[Collection(nameof(PackagingCollection))]
public class PackageConsumerTests(ITestOutputHelper output)
{
    private const string Program = """
        using ShadowMmu;

        // long4 without execute-disable: a mode the package does not ship.
        using var memory = GuestMemory.Allocate(0x100000);
        var builder = new PageTableBuilder(memory, MyMmu.Long4nonxWalker.Info, 0x1000, 0x80000);
        builder.Map(0x400000, 0x90000, 0x1000, 0x7);
        var walker = new MyMmu.Long4nonxWalker(memory, new CpuState(Cr0.PG | Cr0.PE, builder.Root, Cr4.PAE, Efer.LME | Efer.NXE));
        var walk = default(GuestWalk);
        bool fetched = walker.WalkAddr(ref walk, 0x400123, AccessKind.Fetch, 3, false);
        System.Console.WriteLine($"fetch {fetched} pa 0x{walk.PhysicalAddress:x}");
        ulong pte = builder.EntryAddress(0x400000, 1)!.Value;
        memory.WriteUInt64(pte, memory.ReadEntry(pte, 8) | (1UL << 63));
        walker.WalkAddr(ref walk, 0x400123, AccessKind.Read, 3, false);
        System.Console.WriteLine($"bit 63 error code 0x{walk.ErrorCode:x}");
        """;

    [Fact]
    public void A_project_outside_the_repository_gets_a_walker_from_its_own_spec_and_the_spec_errors()
    {
        string workspace = PackagingHarness.NewWorkspace("consumer");
        string app = Path.Combine(workspace, "MyMmu");
        Expect(0, PackagingHarness.Run(workspace, "dotnet", "new", "console", "-o", app, "-n", "MyMmu"));
        Expect(0, PackagingHarness.Run(app, "dotnet", "add", "package", "ShadowMmu", "--version", "0.1.0"));
        string spec = File.ReadAllText(Path.Combine(PackagingHarness.RepositoryRoot, "specs", "long4.paging"))
            .Replace("mode long4", "mode long4nonx")
            .Replace("bit execute-disable 63 when EFER.NXE\n", "")
            .Replace("reserved 63 unless EFER.NXE", "reserved 63");
        File.WriteAllText(Path.Combine(app, "long4nonx.paging"), spec);
        File.WriteAllText(Path.Combine(app, "Program.cs"), Program);

        string run = Expect(0, PackagingHarness.Run(app, "dotnet", "run"));
        Assert.Contains("fetch True pa 0x90123", run);
        Assert.Contains("bit 63 error code 0xd", run);   // P | U | RSVD: bit 63 is reserved in this mode, NXE or not

        // Break the spec: the build fails with the generator's diagnostic at the spec's own line and column.
        string broken = spec.Replace("  index 29:21", "  index 29:20");
        File.WriteAllText(Path.Combine(app, "long4nonx.paging"), broken);
        int line = broken[..broken.IndexOf("  index 29:20", System.StringComparison.Ordinal)].Split('\n').Length;
        string build = Expect(1, PackagingHarness.Run(app, "dotnet", "build"));
        Assert.Contains($"long4nonx.paging({line},3): error MMUG003", build);
    }

    [Fact]
    public void The_tool_installs_into_a_tool_path_and_translates_an_image()
    {
        string workspace = PackagingHarness.NewWorkspace("tool");
        string tools = Path.Combine(workspace, "tools");
        Expect(0, PackagingHarness.Run(workspace, "dotnet", "tool", "install", "ShadowMmu.Cli", "--version", "0.1.0", "--tool-path", tools, "--add-source", PackagingHarness.PackageFolder));
        string shadowmmu = Path.Combine(tools, "shadowmmu");
        Assert.Contains("0.1.0", Expect(0, PackagingHarness.Run(workspace, shadowmmu, "--version")));
        Expect(0, PackagingHarness.Run(workspace, shadowmmu, "example-image", "mem.bin", "--mode", "long4"));
        string translated = Expect(0, PackagingHarness.Run(workspace, shadowmmu, "translate", "--image", "mem.bin", "--cr3", "0x1000", "--cr4", "0x20", "--efer", "0xd00", "0x8048123"));
        Assert.Contains("0x8048123 -> 0x100123", translated);
        Assert.Contains("Usage:", Expect(0, PackagingHarness.Run(workspace, shadowmmu, "translate", "--help")));
    }

    private string Expect(int exitCode, (int ExitCode, string Output) result)
    {
        output.WriteLine(result.Output);
        Assert.True(result.ExitCode == exitCode, $"exit code {result.ExitCode}, expected {exitCode}:\n{result.Output}");
        return result.Output;
    }
}

/// <summary>Packaging tests share one pack and run one at a time (each runs the dotnet CLI).</summary>
[CollectionDefinition(nameof(PackagingCollection))]
public class PackagingCollection
{
}
