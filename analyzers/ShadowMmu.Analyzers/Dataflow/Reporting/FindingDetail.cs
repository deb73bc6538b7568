using System;
using Microsoft.CodeAnalysis;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Reporting
{
    /// <summary>The end of an MMU0001 message: why the value counts as unchecked when a re-validation is in sight.</summary>
    internal static class FindingDetail
    {
        public static string For(ValueId value, IOperation operand, FlowState state, RevalidationLog log)
        {
            AccessPath? path = value.Path;
            AccessPath? container = path != null && path.Length > 0 && path.Last.IsIndex ? path.Parent : null;
            if (log.Revalidates(state.Region, value))
            {
                return value is HostFrameValue ? "; it is re-checked only on some paths, or after this use" : "; it is re-validated only on some paths, or after this use";
            }

            if (value is HostFrameValue frame)
            {
                return HostFrameDetail(frame, state, log);
            }

            if (path != null)
            {
                foreach (ValueId validated in state.Validated)
                {
                    if (ReferenceEquals(validated.Path, path))
                    {
                        return "; the value re-validated earlier may have been rewritten since (passed by reference, or a mutating call)";
                    }
                }
            }

            if (container == null)
            {
                return string.Empty;
            }

            foreach (ValueId validated in state.Validated)
            {
                if (IsOtherEntry(validated, path!, container))
                {
                    return "; the re-validation on this path checks '" + validated.Display + "', a different entry";
                }
            }

            int position = operand.Syntax.SpanStart;
            ValueId? nearest = null;
            int distance = int.MaxValue;
            foreach ((int at, ValueId revalidated) in log.In(state.Region))
            {
                if (!InContainer(revalidated, path!, container))
                {
                    continue;
                }

                // The nearest call; between arguments at one spot (a loop's first iteration and the next), the one written
                // in the same index variable as the unchecked value, as the code reads.
                int d = Math.Abs(at - position);
                if (d < distance || (d == distance && Prefer(revalidated, nearest!, path!)))
                {
                    distance = d;
                    nearest = revalidated;
                }
            }

            return nearest != null ? "; the re-validation nearby checks '" + nearest.Display + "', a different entry" : string.Empty;
        }

        /// <summary>A re-check in this region of a snapshot the frame is not covered by: taken after it was resolved.</summary>
        private static string HostFrameDetail(HostFrameValue frame, FlowState state, RevalidationLog log)
        {
            foreach ((int _, ValueId rechecked) in log.In(state.Region))
            {
                if (rechecked is SnapshotValue snapshot && !frame.After.Contains(snapshot))
                {
                    return "; the sequence re-checked here ('" + snapshot.Display + "') was snapshotted after the frame was resolved, so an invalidation between the two goes unseen";
                }
            }

            return string.Empty;
        }

        private static bool Prefer(ValueId candidate, ValueId current, AccessPath path)
        {
            bool candidateSame = ReferenceEquals(candidate.Path!.Last.Index.Var, path.Last.Index.Var);
            bool currentSame = ReferenceEquals(current.Path!.Last.Index.Var, path.Last.Index.Var);
            return candidateSame != currentSame ? candidateSame : candidate.Id < current.Id;
        }

        /// <summary>An element of the same container as <paramref name="path"/>.</summary>
        private static bool InContainer(ValueId other, AccessPath path, AccessPath container) =>
            other.Path is AccessPath p && p.Length == path.Length && ReferenceEquals(p.Parent, container);

        /// <summary>Another element of the same container.</summary>
        private static bool IsOtherEntry(ValueId other, AccessPath path, AccessPath container) =>
            InContainer(other, path, container) && !ReferenceEquals(other.Path, path);
    }
}
