using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Unicode;
using System.Threading;
using System.Threading.Tasks;
using ShadowMmu.Dumps;

namespace ShadowMmu.Cli;

/// <summary>
/// <c>translate --batch</c>: JSON Lines in, one case per line, JSON Lines out, one answer per case in order. A case
/// that cannot be run is answered <c>{"error": "..."}</c> and the others still are. Blank lines are not cases.
/// </summary>
/// <remarks>
/// The input is read as UTF-8 in chunks of whole lines, and each thread (one per core) takes the next chunk, reads its
/// cases, walks them and writes their answers into the chunk's own buffer, which is written out once every chunk
/// before it has been. The walks of all threads take turns (a lock around each run of up to <see cref="RunLength"/> cases):
/// a walk sets A/D flags in the images' private memory and puts the old values back, so that every case starts from
/// the image as it is on disk, and one walk at a time keeps that true for the others; reading and writing the JSON,
/// most of the work, runs on every core. The methods every case goes through are compiled fully optimized at their
/// first call (<see cref="MethodImplOptions.AggressiveOptimization"/>): a batch of a million cases is over in well under
/// a second, and would spend much of it in code that tiered compilation had not promoted yet.
/// </remarks>
internal sealed class BatchTranslator : IDisposable
{
    /// <summary>The cases a thread reads, then walks under the lock, then answers, at a time.</summary>
    private const int RunLength = 256;

    private readonly WalkSession _session;
    private readonly string _baseDirectory;
    private readonly Utf8Output _output;
    private readonly int _threads;
    private readonly BatchImages _images = new();
    private readonly List<(MemoryDump? Dump, string? Error)> _dumps = new();
    private readonly Lock _walkLock = new();
    private readonly Lock _inputLock = new();
    // Guards the answers waiting to be written; a thread that is far ahead of the one writing waits on it.
    private readonly object _outputLock = new();
    private readonly Dictionary<long, BatchChunk> _finished = new();
    private readonly Stack<BatchChunk> _spare = new();
    private readonly Worker?[] _workers;
    private BatchInput? _input;
    private long _nextToWrite;
    private ExceptionDispatchInfo? _failure;

    /// <param name="baseDirectory">Where relative image paths start: the batch file's folder.</param>
    /// <param name="output">Where the answers go.</param>
    /// <param name="progress">Told how the opening of a dump that must be decompressed goes.</param>
    /// <param name="threads">Threads that answer cases; 0: one per core.</param>
    public BatchTranslator(string baseDirectory, TextWriter output, Action<long, long>? progress = null, int threads = 0)
    {
        _session = new WalkSession(progress);
        _baseDirectory = baseDirectory;
        _output = new Utf8Output(output);
        _threads = threads > 0 ? threads : Math.Clamp(Environment.ProcessorCount, 1, 8);
        _workers = new Worker?[_threads];
    }

    /// <summary>Cases answered with <c>{"error": ...}</c> so far.</summary>
    public int Errors { get; private set; }

    /// <summary>The first such answer's message, for a summary.</summary>
    public string? FirstError { get; private set; }

    /// <summary>Answers every case in <paramref name="input"/>; returns the number of cases.</summary>
    public int Run(TextReader input) => Run(new Utf8TextReaderStream(input));

    /// <summary>Answers every case in <paramref name="utf8"/> (UTF-8 bytes); returns the number of cases.</summary>
    public int Run(Stream utf8)
    {
        _input = new BatchInput(utf8);
        _nextToWrite = 0;
        int before = Cases;
        BatchChunk? first = Take();
        if (first == null)
        {
            return 0;
        }

        // A batch of one chunk is answered on this thread alone; a longer one on every core.
        BatchChunk? second = Take();
        var helpers = new Task[second == null ? 0 : _threads - 1];
        for (int i = 0; i < helpers.Length; i++)
        {
            Worker helper = _workers[i + 1] ??= new Worker(this);
            helpers[i] = Task.Factory.StartNew(() => helper.Work(null, null), TaskCreationOptions.LongRunning);
        }

        (_workers[0] ??= new Worker(this)).Work(first, second);
        Task.WaitAll(helpers);
        _failure?.Throw();
        _output.Flush();
        return Cases - before;
    }

    /// <summary>Cases read so far.</summary>
    private int Cases { get; set; }

    /// <inheritdoc/>
    public void Dispose()
    {
        _session.Dispose();
    }

    private BatchChunk? Take()
    {
        lock (_outputLock)
        {
            // The chunk to be written next is in a thread's hands, being answered: it does not wait here.
            while (_finished.Count >= 4 * _threads && _failure == null)
            {
                Monitor.Wait(_outputLock);
            }
        }

        lock (_inputLock)
        {
            if (_failure != null)
            {
                return null;
            }

            BatchChunk chunk;
            lock (_outputLock)
            {
                chunk = _spare.Count > 0 ? _spare.Pop() : new BatchChunk();
            }

            if (_input!.TryTake(chunk))
            {
                return chunk;
            }

            lock (_outputLock)
            {
                _spare.Push(chunk);
            }

            return null;
        }
    }

    // A chunk is done: it is written when every chunk before it has been, and written chunks are kept for reuse.
    private void Finish(BatchChunk chunk)
    {
        lock (_outputLock)
        {
            _finished[chunk.Sequence] = chunk;
            while (_finished.Remove(_nextToWrite, out BatchChunk? next))
            {
                _output.Write(next.Output.WrittenSpan);
                Cases += next.Cases;
                Errors += next.Errors;
                FirstError ??= next.FirstError;
                _nextToWrite++;
                _spare.Push(next);
            }

            Monitor.PulseAll(_outputLock);
        }
    }

    private void Fail(Exception e)
    {
        lock (_outputLock)
        {
            _failure ??= ExceptionDispatchInfo.Capture(e);
            Monitor.PulseAll(_outputLock);
        }
    }

    // The case's walk, under the walk lock: its image, its registers (a dump's note), the translation; null when done.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string? Walk(ref BatchCase c, ref Translation translation)
    {
        MemoryDump? dump = Image(c.Image, out string? imageError);
        if (dump == null)
        {
            return imageError;
        }

        if (c.FromNote)
        {
            // No cr3: the registers are the dump's note for the case's CPU (0 by default), under the ones the case gives.
            if (dump.Cpus.Count == 0 && c.CpuIndex == null)
            {
                return "cr3 is missing (the image holds no CPU notes to take the registers from)";
            }

            CpuState? fromNote = DumpRegisters.Resolve(dump, c.CpuIndex ?? 0, c.Given, out string? noteError);
            if (fromNote == null)
            {
                return noteError;
            }

            c.Cpu = fromNote.Value with { Eptp = c.Cpu.Eptp, ModeBasedExecute = c.Cpu.ModeBasedExecute };
        }

        var request = new TranslateRequest(c.Cpu, c.Va, c.Access, c.Cpl, c.Ac, c.Gpa, c.User, c.Nested, c.Pdptes);
        if (!_session.TryTranslate(dump.Memory, request, ref translation, out string? error)
            || (error = _session.MissingTable(dump.Memory, translation)) != null)
        {
            return error;
        }

        return null;
    }

    private MemoryDump? Image(int id, out string? error)
    {
        while (_dumps.Count <= id)
        {
            string name = _images.Name(_dumps.Count);
            string path = Path.IsPathFullyQualified(name) ? name : Path.Combine(_baseDirectory, name);
            MemoryDump? dump = _session.TryOpenDump(path, out string? openError);
            _dumps.Add((dump, openError == null ? null : openError.Replace($"'{path}'", $"'{name}'", StringComparison.Ordinal)));
        }

        (MemoryDump? Dump, string? Error) entry = _dumps[id];
        error = entry.Error;
        return entry.Dump;
    }

    /// <summary>What one thread needs to answer chunks: its reader, its cases and walks, its writer (kept from batch to batch).</summary>
    private sealed class Worker
    {
        private readonly BatchTranslator _batch;
        private readonly BatchCaseReader _reader;
        private readonly BatchAnswerWriter _writer = new();
        private readonly BatchCase[] _cases = new BatchCase[RunLength];
        private readonly Translation[] _translations = new Translation[RunLength];
        private readonly string?[] _problems = new string?[RunLength];
        private readonly int[] _lineNumbers = new int[RunLength];

        public Worker(BatchTranslator batch)
        {
            _batch = batch;
            _reader = new BatchCaseReader(batch._images);
        }

        /// <summary>
        /// Answers chunks: <paramref name="first"/> and <paramref name="second"/> when given, then the next ones, until the
        /// input ends or a thread fails.
        /// </summary>
        public void Work(BatchChunk? first, BatchChunk? second)
        {
            try
            {
                foreach (BatchChunk? given in new[] { first, second })
                {
                    if (given != null)
                    {
                        Answer(given);
                        _batch.Finish(given);
                    }
                }

                for (BatchChunk? chunk = _batch.Take(); chunk != null; chunk = _batch.Take())
                {
                    Answer(chunk);
                    _batch.Finish(chunk);
                }
            }
            catch (Exception e)
            {
                _batch.Fail(e);
            }
        }

        /// <summary>Answers every case in <paramref name="chunk"/> into its output.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Answer(BatchChunk chunk)
        {
            ReadOnlySpan<byte> rest = chunk.Lines;
            int lineNumber = chunk.FirstLine;
            int count = 0;
            while (!rest.IsEmpty)
            {
                int end = rest.IndexOfAny((byte)'\n', (byte)'\r');
                ReadOnlySpan<byte> line = end < 0 ? rest : rest[..end];
                rest = end < 0 ? default : rest[(end + (rest[end] == '\r' && end + 1 < rest.Length && rest[end + 1] == '\n' ? 2 : 1))..];
                if (Read(line, count, lineNumber) && ++count == RunLength)
                {
                    Finish(chunk, count);
                    count = 0;
                }

                lineNumber++;
            }

            Finish(chunk, count);
        }

        // Reads the case on one line into slot i; false for a blank line, which is no case.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private bool Read(ReadOnlySpan<byte> line, int i, int lineNumber)
        {
            byte[]? transcoded = null;
            if (line.IsEmpty || line[0] != '{' || line.ContainsAnyInRange((byte)0x80, (byte)0xFF))
            {
                // The unusual lines as the text they are: a line that is not UTF-8 reads with U+FFFD in place of its
                // bad bytes (as a text reader reads it), and white space is Unicode's.
                string text = Encoding.UTF8.GetString(line);
                if (string.IsNullOrWhiteSpace(text))
                {
                    return false;
                }

                if (!Utf8.IsValid(line))
                {
                    transcoded = Encoding.UTF8.GetBytes(text);
                }
            }

            _lineNumbers[i] = lineNumber;
            _problems[i] = _reader.TryRead(transcoded ?? line, out _cases[i]);
            return true;
        }

        // Walks the cases read (all threads' walks take turns), then writes their answers.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Finish(BatchChunk chunk, int count)
        {
            lock (_batch._walkLock)
            {
                for (int i = 0; i < count; i++)
                {
                    _problems[i] ??= _batch.Walk(ref _cases[i], ref _translations[i]);
                }
            }

            for (int i = 0; i < count; i++)
            {
                if (_problems[i] is { } problem)
                {
                    string message = "line " + _lineNumbers[i].ToString(CultureInfo.InvariantCulture) + ": " + problem;
                    _writer.Error(chunk.Output, message);
                    chunk.FirstError ??= message;
                    chunk.Errors++;
                }
                else
                {
                    _writer.Answer(chunk.Output, _translations[i]);
                }
            }

            chunk.Cases += count;
        }
    }
}
