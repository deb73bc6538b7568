using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace ShadowMmu.Benchmarks.Reporting;

/// <summary>One benchmark's result from BenchmarkDotNet's full JSON export.</summary>
/// <param name="Type">The benchmark class.</param>
/// <param name="Method">The benchmark method.</param>
/// <param name="Parameters">Its parameters, by name.</param>
/// <param name="MedianNs">Median time per operation, ns.</param>
/// <param name="BytesAllocated">Bytes allocated per operation (null when not measured).</param>
internal sealed record BenchmarkResult(string Type, string Method, IReadOnlyDictionary<string, string> Parameters, double MedianNs, double? BytesAllocated)
{
    public string Param(string name) => Parameters.TryGetValue(name, out string? value) ? value : "";
}

/// <summary>The results of one or more BenchmarkDotNet JSON files (<c>*-report-full.json</c>).</summary>
internal sealed class ResultSet
{
    private readonly List<BenchmarkResult> _results;

    private ResultSet(List<BenchmarkResult> results, string processor, string runtime, string bdn, DateTime written)
    {
        _results = results;
        Processor = processor;
        Runtime = runtime;
        BenchmarkDotNet = bdn;
        Written = written;
    }

    public string Processor { get; }

    public string Runtime { get; }

    public string BenchmarkDotNet { get; }

    /// <summary>When the newest JSON file was written (UTC).</summary>
    public DateTime Written { get; }

    public int Count => _results.Count;

    public IReadOnlyList<BenchmarkResult> All => _results;

    /// <summary>Loads a JSON file, or every <c>*-report-full.json</c> in a directory.</summary>
    public static ResultSet Load(string path)
    {
        string[] files = Directory.Exists(path)
            ? Directory.GetFiles(path, "*-report-full.json").OrderBy(f => f, StringComparer.Ordinal).ToArray()
            : new[] { path };
        if (files.Length == 0)
        {
            throw new FileNotFoundException($"No BenchmarkDotNet JSON (*-report-full.json) in '{path}'.");
        }

        return Load(files);
    }

    /// <summary>Loads these JSON files.</summary>
    public static ResultSet Load(IReadOnlyList<string> files)
    {

        var results = new List<BenchmarkResult>();
        string processor = "", runtime = "", bdn = "";
        DateTime written = DateTime.MinValue;
        foreach (string file in files)
        {
            written = new[] { written, File.GetLastWriteTimeUtc(file) }.Max();
            using JsonDocument json = JsonDocument.Parse(File.ReadAllText(file));
            JsonElement root = json.RootElement;
            if (root.TryGetProperty("HostEnvironmentInfo", out JsonElement host))
            {
                processor = Text(host, "ProcessorName") ?? processor;
                runtime = Text(host, "RuntimeVersion") ?? runtime;
                bdn = Text(host, "BenchmarkDotNetVersion") ?? bdn;
            }

            foreach (JsonElement b in root.GetProperty("Benchmarks").EnumerateArray())
            {
                if (!b.TryGetProperty("Statistics", out JsonElement stats) || stats.ValueKind != JsonValueKind.Object)
                {
                    continue;   // a benchmark that failed has no statistics
                }

                double? bytes = null;
                if (b.TryGetProperty("Memory", out JsonElement memory) && memory.ValueKind == JsonValueKind.Object
                    && memory.TryGetProperty("BytesAllocatedPerOperation", out JsonElement allocated) && allocated.ValueKind == JsonValueKind.Number)
                {
                    bytes = allocated.GetDouble();
                }

                string type = Text(b, "Type") ?? "";
                string method = Text(b, "Method") ?? "";
                results.Add(new BenchmarkResult(type, method, ParseParameters(Text(b, "Parameters") ?? ""), stats.GetProperty("Median").GetDouble(), bytes));
            }
        }

        return new ResultSet(results, processor, runtime, bdn, written);
    }

    /// <summary>The median of <paramref name="type"/>.<paramref name="method"/> with these parameters, or null.</summary>
    public double? Median(string type, string method, params (string Name, string Value)[] parameters)
    {
        foreach (BenchmarkResult r in _results)
        {
            if (r.Type == type && r.Method == method && parameters.All(p => r.Param(p.Name) == p.Value))
            {
                return r.MedianNs;
            }
        }

        return null;
    }

    /// <summary>
    /// The benchmarks that allocated at least <paramref name="minBytesPerOp"/> bytes per operation, or null when none did.
    /// An object costs at least 24 bytes; in-process runs also see a few KB that BenchmarkDotNet's host allocates on another
    /// thread during a whole measurement (up to 12 B/op in a benchmark of long invocations), which the quick run's check
    /// must not mistake for the benchmark's: it runs each case named here again on one thread (ThreadAllocationCheck).
    /// Classes named in <paramref name="except"/> (as the JSON names them) are left out.
    /// </summary>
    public string? Allocating(double minBytesPerOp = double.Epsilon, IReadOnlySet<string>? except = null) =>
        Describe(AllocatingResults(minBytesPerOp, except));

    /// <summary>The results <see cref="Allocating"/> names.</summary>
    public IReadOnlyList<BenchmarkResult> AllocatingResults(double minBytesPerOp = double.Epsilon, IReadOnlySet<string>? except = null) =>
        _results.Where(r => r.BytesAllocated >= minBytesPerOp && except?.Contains(r.Type) != true).ToList();

    /// <summary>"Type.Method(parameters) N B; ...", or null for none.</summary>
    public static string? Describe(IReadOnlyList<BenchmarkResult> results) =>
        results.Count == 0 ? null : string.Join("; ", results.Select(r => $"{r.Type}.{r.Method}({Format(r.Parameters)}) {r.BytesAllocated} B"));

    /// <summary>How many results carry an allocation measurement.</summary>
    public int MeasuredAllocations => _results.Count(r => r.BytesAllocated != null);

    private static string Format(IReadOnlyDictionary<string, string> parameters) => string.Join(", ", parameters.Select(p => $"{p.Key}={p.Value}"));

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    // "Case=long4-4K&Pattern=Hot&Dependency=Serialized"
    private static Dictionary<string, string> ParseParameters(string text)
    {
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                parameters[pair[..eq]] = pair[(eq + 1)..];
            }
        }

        return parameters;
    }

    /// <summary>A number for a table: 3 significant figures.</summary>
    public static string Ns(double? value) => value switch
    {
        null => "–",
        >= 100 => value.Value.ToString("0", CultureInfo.InvariantCulture),
        >= 10 => value.Value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.Value.ToString("0.00", CultureInfo.InvariantCulture),
    };
}
