using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Text;

namespace ShadowMmu.Analyzers
{
    /// <summary>
    /// The rules of the lock's two sides, over what the scan found (Clang's <c>REQUIRES</c> and <c>GUARDED_BY</c> against
    /// a shared capability): MMU0008, a call of a method that needs the exclusive side where only the shared side is
    /// held; MMU0009, a plain write to a [GuardedByMmuLock] member there. Outside every region neither applies (MMU0002
    /// covers the calls; a write outside the lock is not this rule's).
    /// </summary>
    internal static class SharedSideRules
    {
        public static void Report(List<FunctionInfo> functions, KnownSymbols known, Action<Diagnostic> report)
        {
            foreach (FunctionInfo fn in functions)
            {
                foreach (IOperation call in fn.LockRequiringCalls)
                {
                    if (call is IInvocationOperation invocation && known.RequiredMode(invocation.TargetMethod) == LockMode.Exclusive
                        && fn.ModeAt(call.Syntax.Span) == LockMode.Shared)
                    {
                        report(ExclusiveUnderShared(invocation, fn));
                    }
                }

                foreach (GuardedWrite write in fn.GuardedWrites)
                {
                    if (fn.ModeAt(write.Write.Syntax.Span) == LockMode.Shared)
                    {
                        report(Diagnostic.Create(DiagnosticDescriptors.GuardedWriteUnderShared, write.Write.Syntax.GetLocation(),
                            KnownSymbols.MemberName(write.Member), Innermost(fn, write.Write.Syntax.Span, out _).LockName));
                    }
                }
            }
        }

        /// <summary>
        /// MMU0008 at the call, naming the shared region it is in; with the fix's properties when that region is the only
        /// one around the call and was taken by a method of the lock that has an exclusive counterpart (taking the
        /// exclusive side inside another shared hold would wait for itself).
        /// </summary>
        private static Diagnostic ExclusiveUnderShared(IInvocationOperation invocation, FunctionInfo fn)
        {
            LockRegion region = Innermost(fn, invocation.Syntax.Span, out int around);
            Holding held = region.Holding;
            string hint = string.Empty;
            var properties = ImmutableDictionary<string, string?>.Empty;
            IEnumerable<Location>? additional = null;
            if (around == 1 && held.SharedEntry is InvocationExpressionSyntax { Expression: MemberAccessExpressionSyntax access } entry && held.ExclusiveEntry is string exclusive)
            {
                hint = "; take '" + access.Expression + "." + exclusive + "()' in place of '" + entry + "'";
                properties = properties.Add(DiagnosticProperties.Enter, exclusive);
                additional = new[] { entry.GetLocation() };
            }

            return Diagnostic.Create(DiagnosticDescriptors.ExclusiveUnderShared, invocation.Syntax.GetLocation(), additional, properties,
                invocation.TargetMethod.Name, region.LockName, hint);
        }

        /// <summary>The innermost region around <paramref name="span"/> (one exists), and how many regions are around it.</summary>
        private static LockRegion Innermost(FunctionInfo fn, TextSpan span, out int around)
        {
            LockRegion? innermost = null;
            around = 0;
            foreach (LockRegion region in fn.Regions)
            {
                if (region.Span.Contains(span))
                {
                    around++;
                    if (innermost == null || innermost.Span.Contains(region.Span))
                    {
                        innermost = region;
                    }
                }
            }

            return innermost!;
        }
    }
}
