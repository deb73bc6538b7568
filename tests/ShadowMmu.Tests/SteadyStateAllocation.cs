using System;

namespace ShadowMmu.Tests;

/// <summary>
/// What a round of work allocates on this thread once warm. Measured up to three times: under load the runtime may
/// still be replacing first-tier code while a round runs (a few KB once, seen in CI), whereas code that allocates does
/// so in every round. Call it after one warm-up round.
/// </summary>
internal static class SteadyStateAllocation
{
    public static long BytesPerRound(Action round)
    {
        long allocated = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            round();
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated == 0)
            {
                break;
            }
        }

        return allocated;
    }
}
