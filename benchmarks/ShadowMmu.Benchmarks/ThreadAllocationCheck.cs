using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using ShadowMmu.Benchmarks.Reporting;

namespace ShadowMmu.Benchmarks;

/// <summary>
/// The quick run's second look at a benchmark its MemoryDiagnoser saw allocate. In process, BenchmarkDotNet counts every
/// thread's allocations (GC.GetTotalAllocatedBytes), and its host allocates a few KB on other threads during a long
/// measurement; so each flagged case is run again here on one thread, set up as BenchmarkDotNet sets it up, and its own
/// thread's bytes per operation decide (GC.GetAllocatedBytesForCurrentThread, after two warm-up invocations).
/// </summary>
internal static class ThreadAllocationCheck
{
    /// <summary>The results whose benchmark allocates on its own thread at least <paramref name="minBytesPerOp"/> per operation.</summary>
    public static IReadOnlyList<BenchmarkResult> Confirm(IReadOnlyList<BenchmarkResult> flagged, double minBytesPerOp)
    {
        var confirmed = new List<BenchmarkResult>();
        TextWriter output = Console.Out;
        Console.SetOut(TextWriter.Null);   // what a setup prints was printed in the run itself
        try
        {
            foreach (BenchmarkResult result in flagged)
            {
                double? bytes = BytesPerOperation(result);
                if (bytes is null || bytes >= minBytesPerOp)
                {
                    confirmed.Add(bytes is null ? result : result with { BytesAllocated = bytes });
                }
            }
        }
        finally
        {
            Console.SetOut(output);
        }

        return confirmed;
    }

    // Null when the case cannot be rebuilt here (then the MemoryDiagnoser's figure stands).
    private static double? BytesPerOperation(BenchmarkResult result)
    {
        Type? type = typeof(ThreadAllocationCheck).Assembly.GetTypes().FirstOrDefault(t => t.Name == result.Type || t.FullName == result.Type);
        MethodInfo? method = type?.GetMethod(result.Method, BindingFlags.Public | BindingFlags.Instance);
        BenchmarkAttribute? benchmark = method?.GetCustomAttribute<BenchmarkAttribute>();
        if (type == null || method == null || benchmark == null || method.GetParameters().Length != 0)
        {
            return null;
        }

        object instance = Activator.CreateInstance(type)!;
        foreach ((string name, string value) in result.Parameters)
        {
            PropertyInfo? property = type.GetProperty(name);
            if (property == null)
            {
                return null;
            }

            property.SetValue(instance, TypeDescriptor.GetConverter(property.PropertyType).ConvertFromString(null, CultureInfo.InvariantCulture, value));
        }

        Invoke(type, instance, typeof(GlobalSetupAttribute));
        try
        {
            method.Invoke(instance, null);
            method.Invoke(instance, null);
            const int Invocations = 3;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < Invocations; i++)
            {
                method.Invoke(instance, null);
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            return (double)allocated / (Invocations * benchmark.OperationsPerInvoke);
        }
        finally
        {
            Invoke(type, instance, typeof(GlobalCleanupAttribute));
        }
    }

    private static void Invoke(Type type, object instance, Type attribute)
    {
        foreach (MethodInfo m in type.GetMethods(BindingFlags.Public | BindingFlags.Instance).Where(m => m.IsDefined(attribute)))
        {
            m.Invoke(instance, null);
        }
    }
}
