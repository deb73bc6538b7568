using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace ShadowMmu.Analyzers
{
    /// <summary>
    /// A stretch of one function body where the mmu_lock is held: the body of <c>lock (x)</c>, of
    /// <c>using (x.EnterScope())</c> or of the <c>using</c> of an [MmuLock] scope, the rest of the block after a using
    /// declaration of one, the try block of <c>Monitor.Enter(x)</c> / <c>x.Enter()</c> released in a finally, or the whole
    /// body of a method that requires the lock.
    /// </summary>
    internal sealed class LockRegion
    {
        public LockRegion(TextSpan span, string lockName, IOperation? body)
        {
            Span = span;
            LockName = lockName;
            Body = body;
        }

        /// <summary>The source the region covers.</summary>
        public TextSpan Span { get; }

        /// <summary>How messages name the lock, quotes included: <c>'Vm.MmuLock'</c>.</summary>
        public string LockName { get; }

        /// <summary>The operation whose descendants run in the region (for the code fix's look-ups); may be null.</summary>
        public IOperation? Body { get; }

        /// <summary>Position of the <c>{</c> of the block where a re-validation may be inserted, or -1.</summary>
        public int BlockStart { get; set; } = -1;

        /// <summary>Index in that block of the statement before which it goes.</summary>
        public int InsertIndex { get; set; }

        public void SetInsertPoint(BlockSyntax? block, int index)
        {
            if (block != null)
            {
                BlockStart = block.OpenBraceToken.SpanStart;
                InsertIndex = index;
            }
        }
    }

    /// <summary>One function body (method, accessor, local function or lambda) and what the scan found in it.</summary>
    internal sealed class FunctionInfo
    {
        public FunctionInfo(IOperation body, IMethodSymbol? symbol, FunctionInfo? parent)
        {
            Body = body;
            Symbol = symbol;
            Parent = parent;
        }

        public IOperation Body { get; }

        public IMethodSymbol? Symbol { get; }

        /// <summary>The function this lambda or local function is written in; null for the member itself.</summary>
        public FunctionInfo? Parent { get; }

        /// <summary>It, or a lambda or local function written in it, has a lock region (where a captured value could be used).</summary>
        public bool HasRegionInside { get; set; }

        private readonly List<int> _outermost = new();

        public List<LockRegion> Regions { get; } = new();

        /// <summary>Calls of methods that require the lock, checked once the regions are known.</summary>
        public List<IOperation> LockRequiringCalls { get; } = new();

        /// <summary>The body runs with the lock held ([RequiresMmuLock] on the function or what it implements).</summary>
        public bool HoldsLockOnEntry { get; set; }

        /// <summary>The outermost region that contains <paramref name="span"/>, or -1 (a binary search: regions nest).</summary>
        public int RegionOf(TextSpan span)
        {
            int low = 0, high = _outermost.Count - 1, found = -1;
            while (low <= high)
            {
                int middle = (low + high) / 2;
                if (Regions[_outermost[middle]].Span.Start <= span.Start)
                {
                    found = middle;
                    low = middle + 1;
                }
                else
                {
                    high = middle - 1;
                }
            }

            return found >= 0 && Regions[_outermost[found]].Span.Contains(span) ? _outermost[found] : -1;
        }

        /// <summary>Finds the outermost regions, sorted for <see cref="RegionOf"/>.</summary>
        public void Complete()
        {
            var order = new List<int>(Regions.Count);
            for (int i = 0; i < Regions.Count; i++)
            {
                order.Add(i);
            }

            // By start, the longer first, the earlier declared first among equal spans: each region follows its container.
            order.Sort((a, b) =>
            {
                int byStart = Regions[a].Span.Start.CompareTo(Regions[b].Span.Start);
                int byLength = Regions[b].Span.Length.CompareTo(Regions[a].Span.Length);
                return byStart != 0 ? byStart : byLength != 0 ? byLength : a.CompareTo(b);
            });
            _outermost.Clear();
            foreach (int i in order)
            {
                if (_outermost.Count == 0 || !Regions[_outermost[_outermost.Count - 1]].Span.Contains(Regions[i].Span))
                {
                    _outermost.Add(i);
                }
            }
        }
    }
}
