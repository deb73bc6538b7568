using System;

namespace ShadowMmu.Analyzers.Dataflow.State
{
    /// <summary>
    /// Counts the analysis's work on its state: every map node built, and every node a merge, comparison or walk visits.
    /// Deterministic (unlike a timing), so a test can hold the analysis to linear cost, and the work budget is counted
    /// in it. Per thread: a function is analysed on one thread from start to end.
    /// </summary>
    internal static class WorkMeter
    {
        [ThreadStatic]
        private static long _count;

        /// <summary>The work done on this thread so far.</summary>
        public static long Count
        {
            get => _count;
            set => _count = value;
        }
    }
}
