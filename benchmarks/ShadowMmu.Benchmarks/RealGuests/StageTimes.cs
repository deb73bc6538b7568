using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace ShadowMmu.Benchmarks.RealGuests;

/// <summary>
/// <c>--stages [SECONDS]</c>: each real-guest benchmark body in a loop on this thread for about SECONDS, its cost in
/// this thread's CPU time per operation (the median of five such rounds): a breakdown that holds when other processes
/// take turns on the cores, which BenchmarkDotNet's wall-clock times do not. Multi-threaded bodies are left out.
/// </summary>
internal static class StageTimes
{
    public static int Run(double seconds)
    {
        foreach (Type type in new[] { typeof(BatchBenchmarks) })
        {
            PropertyInfo guest = type.GetProperty("Guest")!;
            foreach (string value in guest.GetCustomAttribute<ParamsAttribute>()!.Values.Cast<string>())
            {
                object instance = Activator.CreateInstance(type)!;
                guest.SetValue(instance, value);
                type.GetMethod("Setup")!.Invoke(instance, null);
                foreach (MethodInfo method in type.GetMethods().Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is { } b && b.OperationsPerInvoke > 0))
                {
                    if (method.Name == "Batch")
                    {
                        continue;
                    }

                    int operations = method.GetCustomAttribute<BenchmarkAttribute>()!.OperationsPerInvoke;
                    var body = (Func<int>)method.CreateDelegate(typeof(Func<int>), instance);
                    var rounds = new List<double>();
                    body();
                    for (int round = 0; round < 5; round++)
                    {
                        long start = ThreadClock.Nanoseconds(), calls = 0;
                        while (ThreadClock.Nanoseconds() - start < seconds * 2e8)
                        {
                            body();
                            calls++;
                        }

                        rounds.Add((double)(ThreadClock.Nanoseconds() - start) / (calls * operations));
                    }

                    rounds.Sort();
                    Console.WriteLine($"{type.Name}.{method.Name} ({value}): {rounds[2]:0.0} ns CPU per operation ({rounds[0]:0.0}-{rounds[4]:0.0})");
                }

                type.GetMethod("Cleanup")!.Invoke(instance, null);
            }
        }

        return 0;
    }
}
