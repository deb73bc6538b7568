using System.Collections.Generic;
using Microsoft.CodeAnalysis.Text;
using ShadowMmu.Analyzers.Dataflow.Locations;
using ShadowMmu.Analyzers.Dataflow.State;

namespace ShadowMmu.Analyzers.Dataflow.Values
{
    /// <summary>Interns the values and origins of one analysis: one object, one id, per distinct value.</summary>
    internal sealed class ValueTable
    {
        private readonly Dictionary<(int Path, Epoch Epoch), InitialValue> _initial = new();
        private readonly Dictionary<(TextSpan Site, int Ordinal), ReadValue> _reads = new();
        private readonly Dictionary<(TextSpan Site, int Of), OpaqueValue> _opaque = new();
        private readonly Dictionary<int, WidenedValue> _widened = new();
        private readonly Dictionary<(TextSpan Site, string Reason), UnfollowedValue> _unfollowed = new();
        private readonly Dictionary<(int Target, Epoch Epoch, IndexVariables.IndexExpr? Shift), Origin> _origins = new();
        private readonly Dictionary<int, Origin> _unfollowedOrigins = new();
        private readonly Dictionary<TextSpan, SnapshotValue> _snapshots = new();
        private readonly List<HostFrameValue> _hostFrames = new();
        private int _nextValue;
        private int _nextOrigin = 1;

        public ValueTable() => Clean = new Origin(0, null, Epoch.AtEntry, null, null);

        /// <summary>The origin of a fresh struct: nothing unlocked.</summary>
        public Origin Clean { get; }

        public InitialValue Initial(AccessPath path, Epoch epoch)
        {
            if (!_initial.TryGetValue((path.Id, epoch), out InitialValue? value))
            {
                _initial[(path.Id, epoch)] = value = Add(new InitialValue(path, epoch));
            }

            return value;
        }

        /// <summary>The value a [GuestPteRead] call at <paramref name="call"/> read (its out argument <paramref name="ordinal"/>, or -1).</summary>
        public ReadValue Read(Microsoft.CodeAnalysis.SyntaxNode call, int ordinal)
        {
            TextSpan site = call.Span;
            if (!_reads.TryGetValue((site, ordinal), out ReadValue? value))
            {
                _reads[(site, ordinal)] = value = Add(new ReadValue(site, ordinal, AnalysisTables.Text(call)));
            }

            return value;
        }

        public OpaqueValue Opaque(TextSpan site, ValueId of)
        {
            if (!_opaque.TryGetValue((site, of.Id), out OpaqueValue? value))
            {
                _opaque[(site, of.Id)] = value = Add(new OpaqueValue(site, of));
            }

            return value;
        }

        public WidenedValue Widened(AccessPath location, string display)
        {
            if (!_widened.TryGetValue(location.Id, out WidenedValue? value))
            {
                _widened[location.Id] = value = Add(new WidenedValue(location, display));
            }

            return value;
        }

        /// <summary>The snapshot an [InvalidationSnapshot] call at <paramref name="call"/> took.</summary>
        public SnapshotValue Snapshot(Microsoft.CodeAnalysis.SyntaxNode call)
        {
            if (!_snapshots.TryGetValue(call.Span, out SnapshotValue? value))
            {
                _snapshots[call.Span] = value = Add(new SnapshotValue(call.Span, AnalysisTables.Text(call)));
            }

            return value;
        }

        /// <summary>The frame a [HostFrameResolve] call at <paramref name="call"/> resolved after the snapshots <paramref name="after"/>.</summary>
        public HostFrameValue HostFrame(Microsoft.CodeAnalysis.SyntaxNode call, IdSet<ValueId> after)
        {
            foreach (HostFrameValue known in _hostFrames)
            {
                if (known.Site == call.Span && known.After.SetEquals(after))
                {
                    return known;
                }
            }

            HostFrameValue value = Add(new HostFrameValue(call.Span, after, AnalysisTables.Text(call)));
            _hostFrames.Add(value);
            return value;
        }

        /// <summary>
        /// The host frames resolved, so far, after every snapshot <paramref name="snapshots"/> may hold was taken: a value
        /// that may be a snapshot taken after the frame (on some path) covers nothing.
        /// </summary>
        public IdSet<ValueId> HostFramesAfter(IdSet<ValueId> snapshots)
        {
            var taken = IdSet<ValueId>.Empty;
            foreach (ValueId id in snapshots)
            {
                taken = id is SnapshotValue ? taken.Add(id) : taken;
            }

            var result = IdSet<ValueId>.Empty;
            if (taken.IsEmpty)
            {
                return result;
            }

            foreach (HostFrameValue frame in _hostFrames)
            {
                if (frame.After.Intersect(taken).SetEquals(taken))
                {
                    result = result.Add(frame);
                }
            }

            return result;
        }

        /// <summary>The value that went through code the analysis does not follow at <paramref name="site"/>.</summary>
        public UnfollowedValue Unfollowed(Microsoft.CodeAnalysis.SyntaxNode site, string reason) => Unfollowed(site.Span, reason, AnalysisTables.Text(site));

        /// <summary>The value that went through code the analysis does not follow at <paramref name="site"/>, shown as <paramref name="display"/>.</summary>
        public UnfollowedValue Unfollowed(TextSpan site, string reason, string display)
        {
            if (!_unfollowed.TryGetValue((site, reason), out UnfollowedValue? value))
            {
                _unfollowed[(site, reason)] = value = Add(new UnfollowedValue(site, reason, display));
            }

            return value;
        }

        /// <summary>
        /// The origin "what <paramref name="target"/> held at <paramref name="epoch"/>", its elements seen from
        /// <paramref name="shift"/> on (a view); the clean origin for no target.
        /// </summary>
        public Origin OriginOf(AccessPath? target, Epoch epoch, IndexVariables.IndexExpr? shift = null)
        {
            if (target == null)
            {
                return Clean;
            }

            if (shift is { IsConst: true, Offset: 0 })
            {
                shift = null;
            }

            if (!_origins.TryGetValue((target.Id, epoch, shift), out Origin? origin))
            {
                _origins[(target.Id, epoch, shift)] = origin = new Origin(_nextOrigin++, target, epoch, shift, null);
            }

            return origin;
        }

        /// <summary>The origin of content that went through code the analysis does not follow: reading it gives <paramref name="value"/>.</summary>
        public Origin UnfollowedOrigin(UnfollowedValue value)
        {
            if (!_unfollowedOrigins.TryGetValue(value.Id, out Origin? origin))
            {
                _unfollowedOrigins[value.Id] = origin = new Origin(_nextOrigin++, null, Epoch.AtEntry, null, value);
            }

            return origin;
        }

        private T Add<T>(T value)
            where T : ValueId
        {
            value.Id = _nextValue++;
            return value;
        }
    }
}
