using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;
using ShadowMmu.Analyzers.Dataflow.State;
using ShadowMmu.Analyzers.Dataflow.Values;

namespace ShadowMmu.Analyzers.Dataflow.Evaluation
{
    /// <summary>
    /// Where a guest PTE value leaves what the analysis follows: a store, outside the lock, into a field of a class, a
    /// static, an element of an array held elsewhere, memory behind a pointer it cannot name. Said with MMU0005, since a
    /// later read of it under the lock would not be checked.
    /// </summary>
    internal sealed partial class Evaluator
    {
        /// <summary>
        /// <paramref name="value"/>, the value of <paramref name="site"/>, is stored through <paramref name="target"/>, a
        /// location the analysis does not track.
        /// </summary>
        private void NotFollowedStore(IOperation target, IOperation site, AbstractValue value, FlowState state)
        {
            if (state.InRegion || FirstId(value) is not ValueId id || IsAnnotatedTarget(target))
            {
                // Under the lock the store is a use (MMU0001 when unchecked); an [UnlockedGuestPte] member is followed by its annotation.
                return;
            }

            _listener.NotFollowed(site, id, StoredReason(target));
        }

        private static ValueId? FirstId(AbstractValue value)
        {
            foreach (ValueId id in value.Ids)
            {
                return id;
            }

            return null;
        }

        private bool IsAnnotatedTarget(IOperation target) => target switch
        {
            IFieldReferenceOperation field => _tables.Known.IsUnlocked(field.Field),
            IPropertyReferenceOperation property => _tables.Known.IsUnlocked(property.Property),
            _ => false,
        };

        private static string StoredReason(IOperation target) => target switch
        {
            IFieldReferenceOperation { Field.IsStatic: true } field => Stored(KnownSymbols.MemberName(field.Field), "a static field"),
            IFieldReferenceOperation field => Stored(KnownSymbols.MemberName(field.Field), "a field of a class"),
            IPropertyReferenceOperation { Property.IsStatic: true } property => Stored(KnownSymbols.MemberName(property.Property), "a static property"),
            IPropertyReferenceOperation property => Stored(KnownSymbols.MemberName(property.Property), "a property of a class"),
            _ => "it is stored through '" + AnalysisTables.Text(target.Syntax) + "', which the analysis does not follow; keep it in a local, a struct or an [UnlockedGuestPte] member, or store it only after re-validating it under the lock",
        };

        private static string Stored(string member, string kind) =>
            "it is stored in '" + member + "', " + kind + ", which the analysis does not follow; mark the field [UnlockedGuestPte], or store the value only after re-validating it under the lock";
    }
}
