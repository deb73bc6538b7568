using System.Runtime.InteropServices;

namespace ShadowMmu.Benchmarks.RealGuests;

/// <summary>
/// The CPU time this thread has used (Linux <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>): what a stage costs while
/// other processes share the cores, when wall-clock time would count their turns too.
/// </summary>
internal static partial class ThreadClock
{
    private const int ThreadCpuTime = 3;

    /// <summary>Nanoseconds of CPU time this thread has used.</summary>
    public static long Nanoseconds()
    {
        ClockGetTime(ThreadCpuTime, out TimeSpec time);
        return (time.Seconds * 1_000_000_000) + time.Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
