using System;
using System.Threading;

namespace ShadowMmu.Benchmarks.Shadow;

/// <summary>
/// A second thread that runs one batch of work each time it is started, waited for without allocating or sleeping (it
/// spins between batches, so that starting one costs no wake-up): the other side of the two-thread benchmarks.
/// </summary>
internal sealed class BatchWorker : IDisposable
{
    private readonly Thread _thread;
    private readonly Action _batch;
    private int _requested;
    private int _completed;
    private volatile bool _stop;

    /// <param name="name">The thread's name.</param>
    /// <param name="batch">One batch; made once, so that starting a batch allocates nothing.</param>
    public BatchWorker(string name, Action batch)
    {
        _batch = batch;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Starts a batch.</summary>
    public void Start() => Interlocked.Increment(ref _requested);

    /// <summary>Waits for the batch to end.</summary>
    public void Wait()
    {
        var spin = default(SpinWait);
        while (Volatile.Read(ref _completed) != Volatile.Read(ref _requested))
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }

    private void Run()
    {
        int seen = 0;
        var spin = default(SpinWait);
        while (!_stop)
        {
            int requested = Volatile.Read(ref _requested);
            if (requested == seen)
            {
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            spin.Reset();
            _batch();
            seen = requested;
            Volatile.Write(ref _completed, requested);
        }
    }
}
