using System.Collections.Generic;
using Microsoft.CodeAnalysis.FlowAnalysis;

namespace ShadowMmu.Analyzers.Dataflow.Worklist
{
    /// <summary>The exceptional edges of a graph: from each block inside a try region to the entries of its catch and finally handlers.</summary>
    internal static class HandlerEdges
    {
        public static Dictionary<int, List<int>> Of(ControlFlowGraph cfg)
        {
            var result = new Dictionary<int, List<int>>();
            var pending = new Stack<ControlFlowRegion>();
            pending.Push(cfg.Root);
            while (pending.Count > 0)
            {
                ControlFlowRegion region = pending.Pop();
                foreach (ControlFlowRegion nested in region.NestedRegions)
                {
                    pending.Push(nested);
                }

                if (region.Kind is not (ControlFlowRegionKind.TryAndCatch or ControlFlowRegionKind.TryAndFinally) || region.NestedRegions.Length < 2)
                {
                    continue;
                }

                ControlFlowRegion tryRegion = region.NestedRegions[0];
                for (int h = 1; h < region.NestedRegions.Length; h++)
                {
                    int entry = region.NestedRegions[h].FirstBlockOrdinal;
                    for (int b = tryRegion.FirstBlockOrdinal; b <= tryRegion.LastBlockOrdinal; b++)
                    {
                        if (!result.TryGetValue(b, out List<int>? list))
                        {
                            result[b] = list = new List<int>();
                        }

                        list.Add(entry);
                    }
                }
            }

            return result;
        }
    }
}
