using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Text;
using BenchmarkDotNet.Attributes;
using ShadowMmu.Cli;

namespace ShadowMmu.Benchmarks.RealGuests;

/// <summary>
/// <c>translate --batch</c> in process, on a real guest: the gva2gpa samples of vCPU 0 at stop 1 (shuffled, repeated)
/// as batch cases in the form the real-guest tests use, a supervisor read with EFLAGS.AC of each address. The whole
/// batch (JSON bytes in, JSON bytes out to a null stream) on every core and on one thread, and its stages alone on one
/// thread: reading the JSON of a case, walking it (with the A/D flags put back), writing its answer. Per case.
/// </summary>
[MemoryDiagnoser]
public class BatchBenchmarks
{
    private const int Cases = 20_000;

    private string _folder = null!;
    private byte[] _input = Array.Empty<byte>();
    private byte[][] _lines = Array.Empty<byte[]>();
    private BatchCase[] _cases = Array.Empty<BatchCase>();
    private Translation[] _translations = Array.Empty<Translation>();
    private BatchCaseReader _reader = null!;
    private BatchAnswerWriter _writer = null!;
    private ArrayBufferWriter<byte> _output = null!;
    private WalkSession _session = null!;
    private GuestMemory _memory = null!;
    private TextWriter _null = null!;
    private BatchTranslator _everyCore = null!;
    private BatchTranslator _oneThread = null!;

    /// <summary>The guest: long4 (65,842 pages, most of them espfix's), pae or legacy32.</summary>
    [Params("long4", "pae", "legacy32")]
    public string Guest { get; set; } = "long4";

    [GlobalSetup]
    public void Setup()
    {
        RealGuestImage guest = RealGuestImage.Get(Guest);
        _folder = Path.Combine(Path.GetTempPath(), "shadowmmu-bench-batch-" + Environment.ProcessId);
        Directory.CreateDirectory(_folder);
        string text = guest.BatchCases(guest.RawPath, guest.Addresses(Cases));
        _input = Encoding.UTF8.GetBytes(text);
        var lines = new List<byte[]>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            lines.Add(Encoding.UTF8.GetBytes(line));
        }

        _lines = lines.ToArray();
        _reader = new BatchCaseReader(new BatchImages());
        _cases = new BatchCase[Cases];
        _translations = new Translation[Cases];
        for (int i = 0; i < Cases; i++)
        {
            Check(_reader.TryRead(_lines[i], out _cases[i]));
        }

        _session = new WalkSession();
        _memory = _session.TryOpenImage(guest.RawPath, out string? error) ?? throw new InvalidOperationException(error);
        Walk();
        _writer = new BatchAnswerWriter();
        _output = new ArrayBufferWriter<byte>(Cases * 256);
        _null = new StreamWriter(Stream.Null, new UTF8Encoding(false), 1 << 16);
        _everyCore = new BatchTranslator(_folder, _null, null, threads: 0);
        _oneThread = new BatchTranslator(_folder, _null, null, threads: 1);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _everyCore.Dispose();
        _oneThread.Dispose();
        _session.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>The whole batch, as <c>translate --batch</c> runs it: one thread per core.</summary>
    [Benchmark(OperationsPerInvoke = Cases)]
    public int Batch() => RunBatch(threads: 0);

    /// <summary>The whole batch on one thread.</summary>
    [Benchmark(OperationsPerInvoke = Cases)]
    public int BatchOneThread() => RunBatch(threads: 1);

    /// <summary>Reading the cases' JSON (Utf8JsonReader into BatchCase).</summary>
    [Benchmark(OperationsPerInvoke = Cases)]
    public int Read()
    {
        int problems = 0;
        for (int i = 0; i < Cases; i++)
        {
            problems += _reader.TryRead(_lines[i], out _cases[i]) == null ? 0 : 1;
        }

        return problems;
    }

    /// <summary>Reading each case's JSON in full (as a line that is not the last one with another address is read).</summary>
    [Benchmark(OperationsPerInvoke = Cases)]
    public int ReadWhole()
    {
        int problems = 0;
        for (int i = 0; i < Cases; i++)
        {
            problems += _reader.TryReadWhole(_lines[i], out _cases[i]) == null ? 0 : 1;
        }

        return problems;
    }

    /// <summary>Walking the cases (the generated walker, its A/D flags put back), as the batch does under its lock.</summary>
    [Benchmark(OperationsPerInvoke = Cases)]
    public int Walk()
    {
        int faults = 0;
        for (int i = 0; i < Cases; i++)
        {
            ref BatchCase c = ref _cases[i];
            var request = new TranslateRequest(c.Cpu, c.Va, c.Access, c.Cpl, c.Ac, Pdptes: c.Pdptes);
            Check(_session.TryTranslate(_memory, request, ref _translations[i], out string? error) ? null : error);
            faults += _translations[i].Walk.Fault == WalkFault.None ? 0 : 1;
        }

        return faults;
    }

    /// <summary>Writing the answers' JSON.</summary>
    [Benchmark(OperationsPerInvoke = Cases)]
    public int Write()
    {
        _output.ResetWrittenCount();
        for (int i = 0; i < Cases; i++)
        {
            _writer.Answer(_output, _translations[i]);
        }

        return _output.WrittenCount;
    }

    // One translator for every invocation, as one long batch: its image opened once, its walkers kept.
    private int RunBatch(int threads)
    {
        BatchTranslator translator = threads == 1 ? _oneThread : _everyCore;
        return translator.Run(new MemoryStream(_input, writable: false));
    }

    private static void Check(string? problem)
    {
        if (problem != null)
        {
            throw new InvalidOperationException(problem);
        }
    }
}
