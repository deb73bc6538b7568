using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace ShadowMmu.Analyzers
{
    /// <summary>
    /// What an acquisition holds: the lock as messages name it, and its side. For the shared side taken through a method
    /// of the lock (<c>x.EnterShared(slot)</c>), where that call is and the lock's parameterless method that takes the
    /// exclusive side instead (<c>Enter</c>), for MMU0008's fix.
    /// </summary>
    internal readonly struct Holding
    {
        public Holding(string lockName, LockMode mode = LockMode.Exclusive, SyntaxNode? sharedEntry = null, string? exclusiveEntry = null)
        {
            LockName = lockName;
            Mode = mode;
            SharedEntry = exclusiveEntry != null ? sharedEntry : null;
            ExclusiveEntry = sharedEntry != null ? exclusiveEntry : null;
        }

        /// <summary>How messages name the lock, quotes included: <c>'Vm.MmuLock'</c>.</summary>
        public string LockName { get; }

        public LockMode Mode { get; }

        /// <summary>The call that took the shared side, when <see cref="ExclusiveEntry"/> could take the exclusive one in its place.</summary>
        public SyntaxNode? SharedEntry { get; }

        /// <summary>The name of the lock's method that takes its exclusive side (<c>Enter</c>), or null.</summary>
        public string? ExclusiveEntry { get; }
    }

    /// <summary>
    /// A stretch of one function body where the mmu_lock is held, on one side: the body of <c>lock (x)</c>, of
    /// <c>using (x.EnterScope())</c> or of the <c>using</c> of an [MmuLock] scope, the rest of the block after a using
    /// declaration of one, the try block of <c>Monitor.Enter(x)</c> / <c>x.Enter()</c> released in a finally, or the whole
    /// body of a method that requires the lock. Only an [MmuLock(Shared = true)] scope and a [RequiresMmuLock(Shared =
    /// true)] body hold the shared side.
    /// </summary>
    internal sealed class LockRegion
    {
        public LockRegion(TextSpan span, Holding holding, IOperation? body)
        {
            Span = span;
            Holding = holding;
            Body = body;
        }

        /// <summary>The source the region covers.</summary>
        public TextSpan Span { get; }

        /// <summary>What the region holds.</summary>
        public Holding Holding { get; }

        /// <summary>How messages name the lock, quotes included: <c>'Vm.MmuLock'</c>.</summary>
        public string LockName => Holding.LockName;

        /// <summary>The side of the lock the region holds.</summary>
        public LockMode Mode => Holding.Mode;

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

        /// <summary>The outermost of the regions that hold the exclusive side, sorted as <see cref="_outermost"/>.</summary>
        private readonly List<int> _outermostExclusive = new();

        public List<LockRegion> Regions { get; } = new();

        /// <summary>Calls of methods that require the lock, checked once the regions are known.</summary>
        public List<IOperation> LockRequiringCalls { get; } = new();

        /// <summary>Plain writes to [GuardedByMmuLock] members (MMU0009 when only the shared side is held there).</summary>
        public List<GuardedWrite> GuardedWrites { get; } = new();

        /// <summary>The body runs with the lock held ([RequiresMmuLock] on the function or what it implements).</summary>
        public bool HoldsLockOnEntry { get; set; }

        /// <summary>The outermost region that contains <paramref name="span"/>, or -1 (a binary search: regions nest).</summary>
        public int RegionOf(TextSpan span) => Containing(_outermost, span);

        /// <summary>
        /// The side of the lock held at <paramref name="span"/>: exclusive when any region around it holds the exclusive
        /// side, shared when only shared regions are around it, none outside every region.
        /// </summary>
        public LockMode ModeAt(TextSpan span) =>
            RegionOf(span) < 0 ? LockMode.None : Containing(_outermostExclusive, span) >= 0 ? LockMode.Exclusive : LockMode.Shared;

        /// <summary>The region of <paramref name="outermost"/> that contains <paramref name="span"/>, or -1.</summary>
        private int Containing(List<int> outermost, TextSpan span)
        {
            int low = 0, high = outermost.Count - 1, found = -1;
            while (low <= high)
            {
                int middle = (low + high) / 2;
                if (Regions[outermost[middle]].Span.Start <= span.Start)
                {
                    found = middle;
                    low = middle + 1;
                }
                else
                {
                    high = middle - 1;
                }
            }

            return found >= 0 && Regions[outermost[found]].Span.Contains(span) ? outermost[found] : -1;
        }

        /// <summary>Finds the outermost regions, and the outermost exclusive ones, sorted for <see cref="RegionOf"/>.</summary>
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
            _outermostExclusive.Clear();
            foreach (int i in order)
            {
                AddIfOutermost(_outermost, i);
                if (Regions[i].Mode == LockMode.Exclusive)
                {
                    AddIfOutermost(_outermostExclusive, i);
                }
            }
        }

        private void AddIfOutermost(List<int> outermost, int i)
        {
            if (outermost.Count == 0 || !Regions[outermost[outermost.Count - 1]].Span.Contains(Regions[i].Span))
            {
                outermost.Add(i);
            }
        }
    }
}
