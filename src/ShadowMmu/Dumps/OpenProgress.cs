using System;
using System.Threading;

namespace ShadowMmu.Dumps;

/// <summary>
/// Counts the bytes an opening has processed and tells the caller's callback now and then (about every 1%): from
/// any thread, never two calls at once.
/// </summary>
internal sealed class OpenProgress
{
    private readonly Action<long, long>? _callback;
    private readonly long _total;
    private readonly long _step;
    private readonly object _gate = new();
    private long _done;
    private long _nextReport;

    public OpenProgress(Action<long, long>? callback, long total)
    {
        _callback = callback;
        _total = Math.Max(total, 1);
        _step = Math.Max(_total / 100, 1 << 20);
        _nextReport = _step;
    }

    public void Add(long bytes)
    {
        if (_callback == null)
        {
            return;
        }

        long done = Interlocked.Add(ref _done, bytes);
        if (done < Volatile.Read(ref _nextReport))
        {
            return;
        }

        lock (_gate)
        {
            if (done >= _nextReport)
            {
                _nextReport = done + _step;
                _callback(Math.Min(done, _total), _total);
            }
        }
    }

    public void Finish()
    {
        if (_callback != null)
        {
            lock (_gate)
            {
                _callback(_total, _total);
            }
        }
    }
}
