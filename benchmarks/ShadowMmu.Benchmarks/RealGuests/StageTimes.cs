using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace ShadowMmu.Benchmarks.RealGuests;

/// <summary>
/// <c>--stages [SECONDS] [FILTER]</c>: each real-guest benchmark body (for every combination of its parameters) in a
/// loop on this thread for about SECONDS, its cost in this thread's CPU time per operation (the median of five such
/// rounds): a breakdown that holds when other processes take turns on the cores, which BenchmarkDotNet's wall-clock
/// times do not. Bodies that run on several threads are left out. FILTER keeps the bodies whose Type.Method contains it.
/// </summary>
internal static class StageTimes
{
    private static readonly Type[] Types = { typeof(BatchBenchmarks), typeof(TranslatorBenchmarks), typeof(MapsBenchmarks) };

    public static int Run(double seconds, string? filter)
    {
        foreach (Type type in Types)
        {
            MethodInfo[] bodies = type.GetMethods()
                .Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is { OperationsPerInvoke: > 0 } && m.Name != "Batch")
                .Where(m => filter == null || $"{type.Name}.{m.Name}".Contains(filter, StringComparison.Ordinal))
                .ToArray();
            if (bodies.Length == 0)
            {
                continue;
            }

            foreach (IReadOnlyList<(PropertyInfo Property, object? Value)> parameters in Combinations(type))
            {
                object instance = Activator.CreateInstance(type)!;
                foreach ((PropertyInfo property, object? value) in parameters)
                {
                    property.SetValue(instance, value);
                }

                string label = string.Join(", ", parameters.Select(p => p.Value));
                type.GetMethod("Setup")!.Invoke(instance, null);
                foreach (MethodInfo method in bodies)
                {
                    int operations = method.GetCustomAttribute<BenchmarkAttribute>()!.OperationsPerInvoke;
                    Func<object?> body = () => method.Invoke(instance, null);
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
                    Console.WriteLine($"{type.Name}.{method.Name} ({label}): {rounds[2]:0.0} ns CPU per operation ({rounds[0]:0.0}-{rounds[4]:0.0})");
                }

                type.GetMethod("Cleanup")!.Invoke(instance, null);
            }
        }

        return 0;
    }

    private static IEnumerable<IReadOnlyList<(PropertyInfo, object?)>> Combinations(Type type)
    {
        IEnumerable<IReadOnlyList<(PropertyInfo, object?)>> all = new[] { Array.Empty<(PropertyInfo, object?)>() };
        foreach (PropertyInfo property in type.GetProperties().Where(p => p.GetCustomAttribute<ParamsAttribute>() != null))
        {
            object?[] values = property.GetCustomAttribute<ParamsAttribute>()!.Values;
            all = all.SelectMany(done => values.Select(v => (IReadOnlyList<(PropertyInfo, object?)>)done.Append((property, v)).ToArray())).ToArray();
        }

        return all;
    }
}
