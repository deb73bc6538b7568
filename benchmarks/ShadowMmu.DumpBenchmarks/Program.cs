using System;
using System.Diagnostics;
using System.IO;
using BenchmarkDotNet.Running;
using ShadowMmu.Dumps;

namespace ShadowMmu.DumpBenchmarks;

/// <summary>
/// <code>
/// dotnet run -c Release --project benchmarks/ShadowMmu.DumpBenchmarks -- --filter '*'     BenchmarkDotNet, every fixture
/// dotnet run -c Release --project benchmarks/ShadowMmu.DumpBenchmarks -- --time FILE...    wall and CPU time of opening any dumps, 3 times each
/// </code>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 1 && args[0] == "--time")
        {
            foreach (string path in args[1..])
            {
                for (int round = 0; round < 3; round++)
                {
                    var clock = Stopwatch.StartNew();
                    TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
                    using MemoryDump dump = MemoryDump.Open(path);
                    Console.WriteLine($"{Path.GetFileName(path),-28} {clock.Elapsed.TotalMilliseconds,9:0.0} ms, CPU {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds,9:0.0} ms, {dump.PresentBytes >> 20} MiB present: {dump.Description}");
                }
            }

            return 0;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
