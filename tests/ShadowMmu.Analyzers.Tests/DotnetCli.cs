using System;
using System.Diagnostics;
using System.Linq;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>Runs the dotnet CLI in a child process with a clean MSBuild environment, for the tests that build projects.</summary>
    internal static class DotnetCli
    {
        public static (int ExitCode, string Output) Run(string workingDirectory, params string[] arguments)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                WorkingDirectory = workingDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            // The test host may run under MSBuild's environment; the child build must not inherit it.
            foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("MSBuild", StringComparison.Ordinal)).ToList())
            {
                start.Environment.Remove(name);
            }

            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            start.Environment["DOTNET_NOLOGO"] = "1";
            using Process process = Process.Start(start)!;
            var output = new System.Text.StringBuilder();
            process.OutputDataReceived += (_, e) => { if (e.Data != null) { lock (output) { output.AppendLine(e.Data); } } };
            process.ErrorDataReceived += (_, e) => { if (e.Data != null) { lock (output) { output.AppendLine(e.Data); } } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
            {
                process.Kill(entireProcessTree: true);
                return (-1, output + "\n(timed out)");
            }

            process.WaitForExit();
            return (process.ExitCode, output.ToString());
        }
    }
}
