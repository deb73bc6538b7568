using System;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;

namespace ShadowMmu.Tests.Packaging;

/// <summary>Runs the dotnet CLI (and shell commands) outside the repository, as a user of the packages would.</summary>
internal static class PackagingHarness
{
    private static readonly string Scratch = Path.Combine(Path.GetTempPath(), "shadowmmu-packages-" + Guid.NewGuid().ToString("N")[..8]);
    private static readonly Lazy<string> Packages = new(PackOnce, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string RepositoryRoot
    {
        get
        {
            string? dir = AppContext.BaseDirectory;
            while (dir != null && !File.Exists(Path.Combine(dir, "Generated.sln")))
            {
                dir = Path.GetDirectoryName(dir);
            }

            return dir ?? throw new InvalidOperationException("Generated.sln not found above the test folder");
        }
    }

    /// <summary>The configuration the tests were built in; packing reuses that build.</summary>
    public static string Configuration => AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>A folder with the packages of this build, packed once per test run.</summary>
    public static string PackageFolder => Packages.Value;

    /// <summary>A fresh folder outside the repository with a nuget.config that sees only the packed folder and nuget.org.</summary>
    public static string NewWorkspace(string name)
    {
        string folder = Path.Combine(Path.GetTempPath(), "shadowmmu-" + name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{PackageFolder}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        return folder;
    }

    /// <summary>Runs a process; returns exit code and the combined output. NuGet's cache is private to the run, so a re-packed 0.1.0 is never stale.</summary>
    public static (int ExitCode, string Output) Run(string workingDirectory, string fileName, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NUGET_PACKAGES"] = Path.Combine(Scratch, "nuget-cache");
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using Process process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish in 5 minutes:\n{output}");
        }

        process.WaitForExit();
        return (process.ExitCode, output.ToString());
    }

    private static string PackOnce()
    {
        string folder = Path.Combine(Scratch, "feed");
        Directory.CreateDirectory(folder);
        foreach (string project in new[] { "src/ShadowMmu/ShadowMmu.csproj", "src/ShadowMmu.Cli/ShadowMmu.Cli.csproj" })
        {
            var (code, output) = Run(RepositoryRoot, "dotnet", "pack", project, "-c", Configuration, "--no-build", "-o", folder);
            if (code != 0)
            {
                throw new InvalidOperationException($"dotnet pack {project} failed:\n{output}");
            }
        }

        return folder;
    }
}
