using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace ShadowMmu.Analyzers
{
    /// <summary>A plain write to a [GuardedByMmuLock] member: the member, and the operation that writes it.</summary>
    internal readonly struct GuardedWrite
    {
        public GuardedWrite(ISymbol member, IOperation write)
        {
            Member = member;
            Write = write;
        }

        public ISymbol Member { get; }

        /// <summary>The assignment, increment or <c>ref</c>/<c>out</c> argument.</summary>
        public IOperation Write { get; }
    }

    /// <summary>
    /// Finds the plain (non-atomic) writes to the storage of [GuardedByMmuLock] members (Clang's <c>GUARDED_BY</c>): an
    /// assignment of any kind (compound, <c>??=</c>, deconstruction), <c>++</c>/<c>--</c>, passing by <c>ref</c> or
    /// <c>out</c> to anything but <c>System.Threading.Interlocked</c> or <c>Volatile</c>; to the member itself, to a field
    /// of it when it is a struct, or to an element of it when it is an array or inline array.
    /// </summary>
    internal static class GuardedWrites
    {
        /// <summary>Adds to <paramref name="writes"/> the guarded write <paramref name="operation"/> is, if it is one.</summary>
        public static void Inspect(IOperation operation, KnownSymbols known, List<GuardedWrite> writes)
        {
            switch (operation)
            {
                case IDeconstructionAssignmentOperation deconstruction:
                    AddTupleTargets(deconstruction.Target, deconstruction, known, writes);
                    break;
                case IAssignmentOperation assignment:
                    Add(assignment.Target, assignment, known, writes);
                    break;
                case IIncrementOrDecrementOperation step:
                    Add(step.Target, step, known, writes);
                    break;
                case IArgumentOperation { Parameter.RefKind: RefKind.Ref or RefKind.Out } argument
                    when !(argument.Parent is IInvocationOperation call && known.IsAtomicAccess(call.TargetMethod)):
                    Add(argument.Value, argument, known, writes);
                    break;
            }
        }

        private static void AddTupleTargets(IOperation target, IOperation write, KnownSymbols known, List<GuardedWrite> writes)
        {
            if (target is ITupleOperation tuple)
            {
                foreach (IOperation element in tuple.Elements)
                {
                    AddTupleTargets(element, write, known, writes);
                }
            }
            else
            {
                Add(target, write, known, writes);
            }
        }

        private static void Add(IOperation target, IOperation write, KnownSymbols known, List<GuardedWrite> writes)
        {
            if (GuardedStorage(target, known) is ISymbol member)
            {
                writes.Add(new GuardedWrite(member, write));
            }
        }

        /// <summary>
        /// The [GuardedByMmuLock] member whose storage <paramref name="target"/> is: the member, a field of it (through
        /// struct fields only: a class's field is another object's storage), or an element of it (an array's, an inline
        /// array's). Null otherwise, and for an object initializer's member (the object is new, no one else sees it yet).
        /// </summary>
        private static ISymbol? GuardedStorage(IOperation? target, KnownSymbols known)
        {
            while (true)
            {
                switch (target)
                {
                    case IConversionOperation or IParenthesizedOperation:
                        target = target is IConversionOperation conversion ? conversion.Operand : ((IParenthesizedOperation)target).Operand;
                        continue;
                    case IFieldReferenceOperation field:
                        if (known.IsGuarded(field.Field))
                        {
                            return IsNewObject(field.Instance) ? null : field.Field;
                        }

                        // A field of a struct is part of the struct's storage.
                        if (field.Instance?.Type?.IsValueType == true)
                        {
                            target = field.Instance;
                            continue;
                        }

                        return null;
                    case IPropertyReferenceOperation { Arguments.IsEmpty: true } property:
                        return known.IsGuarded(property.Property) && !IsNewObject(property.Instance) ? property.Property : null;
                    case IArrayElementReferenceOperation element:
                        return DirectMember(element.ArrayReference, known);
                    case IInlineArrayAccessOperation inline:
                        target = inline.Instance;
                        continue;
                    default:
                        return null;
                }
            }
        }

        /// <summary>The guarded field or property <paramref name="array"/> reads, itself (not through another object).</summary>
        private static ISymbol? DirectMember(IOperation array, KnownSymbols known)
        {
            while (array is IConversionOperation or IParenthesizedOperation)
            {
                array = array is IConversionOperation conversion ? conversion.Operand : ((IParenthesizedOperation)array).Operand;
            }

            ISymbol? member = array switch
            {
                IFieldReferenceOperation field when !IsNewObject(field.Instance) => field.Field,
                IPropertyReferenceOperation { Arguments.IsEmpty: true } property when !IsNewObject(property.Instance) => property.Property,
                _ => null,
            };
            return member != null && known.IsGuarded(member) ? member : null;
        }

        /// <summary>The receiver of an object or <c>with</c> initializer's member: the object being made.</summary>
        private static bool IsNewObject(IOperation? instance) => instance is IInstanceReferenceOperation { ReferenceKind: InstanceReferenceKind.ImplicitReceiver };
    }
}
