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
    /// Walks one operation block and splits it into function bodies (the member, its local functions and lambdas), finding
    /// in each the mmu_lock regions, the acquisitions that are not released on every path (MMU0003) and the calls of
    /// methods that require the lock (checked for MMU0002 once the regions are known).
    /// </summary>
    internal sealed partial class RegionScanner
    {
        private readonly KnownSymbols _known;
        private readonly Action<Diagnostic> _report;

        public RegionScanner(KnownSymbols known, Action<Diagnostic> report)
        {
            _known = known;
            _report = report;
        }

        public List<FunctionInfo> Functions { get; } = new();

        /// <summary>Scans <paramref name="body"/>, the body of <paramref name="symbol"/>, and the functions nested in it.</summary>
        public void ScanFunction(IOperation body, IMethodSymbol? symbol) => ScanFunction(body, symbol, null);

        private void ScanFunction(IOperation body, IMethodSymbol? symbol, FunctionInfo? parent)
        {
            var fn = new FunctionInfo(body, symbol, parent);
            Functions.Add(fn);
            if (symbol != null && _known.RequiredMode(symbol) is LockMode required and not LockMode.None)
            {
                fn.HoldsLockOnEntry = true;
                string name = required == LockMode.Shared
                    ? "the mmu_lock's shared side held on entry to '" + symbol.Name + "' ([RequiresMmuLock(Shared = true)])"
                    : "the mmu_lock held on entry to '" + symbol.Name + "' ([RequiresMmuLock])";
                var region = new LockRegion(body.Syntax.Span, new Holding(name, required), body);
                region.SetInsertPoint(BodyBlock(body), 0);
                fn.Regions.Add(region);
            }

            Visit(body, fn);
            fn.Complete();
            if (fn.Regions.Count > 0)
            {
                for (FunctionInfo? up = fn; up != null && !up.HasRegionInside; up = up.Parent)
                {
                    up.HasRegionInside = true;
                }
            }
        }

        private static BlockSyntax? BodyBlock(IOperation body) => body switch
        {
            IMethodBodyBaseOperation method => method.BlockBody?.Syntax as BlockSyntax,
            _ => body.Syntax as BlockSyntax,
        };

        /// <summary>
        /// Inspects the operations of <paramref name="body"/> in pre-order, scanning each nested function on its own: a loop
        /// with its own stack, since generated code nests expressions tens of thousands deep.
        /// </summary>
        private void Visit(IOperation body, FunctionInfo fn)
        {
            var pending = new Stack<IOperation.OperationList.Enumerator>();
            pending.Push(body.ChildOperations.GetEnumerator());
            while (pending.Count > 0)
            {
                IOperation.OperationList.Enumerator children = pending.Pop();
                if (!children.MoveNext())
                {
                    continue;
                }

                IOperation child = children.Current;
                pending.Push(children);
                switch (child)
                {
                    case IAnonymousFunctionOperation lambda:
                        ScanFunction(lambda.Body, lambda.Symbol, fn);
                        continue;
                    case ILocalFunctionOperation local:
                        if ((local.Body ?? local.IgnoredBody) is IOperation localBody)
                        {
                            ScanFunction(localBody, local.Symbol, fn);
                        }

                        continue;
                }

                Inspect(child, fn);
                pending.Push(child.ChildOperations.GetEnumerator());
            }
        }

        private void Inspect(IOperation operation, FunctionInfo fn)
        {
            switch (operation)
            {
                case ILockOperation lockOperation when LockMember(lockOperation.LockedValue) is ISymbol member:
                    if (_known.ScopeEntry(KnownSymbols.TypeOf(member)) is IMethodSymbol entry)
                    {
                        // A lock taken through a scope (a spin lock's Enter()): 'lock' takes the monitor of the lock
                        // object instead, which no holder of the real lock takes. Not a region.
                        ReportMonitorOnScopedLock(lockOperation, member, entry);
                        break;
                    }

                    AddRegion(fn, lockOperation.Body.Syntax.Span, new Holding("'" + KnownSymbols.MemberName(member) + "'"), lockOperation.Body, lockOperation.Body.Syntax as BlockSyntax, 0);
                    break;

                case IUsingOperation usingOperation:
                    foreach (IOperation value in ResourceValues(usingOperation.Resources))
                    {
                        if (Acquisition(value) is Holding held)
                        {
                            AddRegion(fn, usingOperation.Body.Syntax.Span, held, usingOperation.Body, usingOperation.Body.Syntax as BlockSyntax, 0);
                            break;
                        }
                    }

                    break;

                case IUsingDeclarationOperation usingDeclaration:
                    foreach (IOperation value in ResourceValues(usingDeclaration.DeclarationGroup))
                    {
                        if (Acquisition(value) is Holding held && usingDeclaration.Syntax.FirstAncestorOrSelf<StatementSyntax>() is StatementSyntax statement)
                        {
                            AddRegionAfter(fn, statement, held);
                            break;
                        }
                    }

                    break;

                case IInvocationOperation invocation:
                    if (_known.RequiresLock(invocation.TargetMethod))
                    {
                        fn.LockRequiringCalls.Add(invocation);
                    }

                    InspectAcquisition(invocation, fn);
                    break;

                case IObjectCreationOperation creation when _known.IsMmuScopeType(creation.Type):
                    InspectScope(creation, fn);
                    break;

                case IAssignmentOperation or IIncrementOrDecrementOperation or IArgumentOperation:
                    GuardedWrites.Inspect(operation, _known, fn.GuardedWrites);
                    break;
            }
        }

        private static IEnumerable<IOperation> ResourceValues(IOperation? resources)
        {
            switch (resources)
            {
                case IVariableDeclarationGroupOperation group:
                    foreach (IVariableDeclarationOperation declaration in group.Declarations)
                    {
                        foreach (IVariableDeclaratorOperation declarator in declaration.Declarators)
                        {
                            IOperation? value = declarator.Initializer?.Value ?? declaration.Initializer?.Value;
                            if (value != null)
                            {
                                yield return value;
                            }
                        }
                    }

                    break;
                case null:
                    break;
                default:
                    yield return resources;
                    break;
            }
        }

        private static void AddRegion(FunctionInfo fn, TextSpan span, Holding held, IOperation? body, BlockSyntax? block, int index)
        {
            var region = new LockRegion(span, held, body);
            region.SetInsertPoint(block, index);
            fn.Regions.Add(region);
        }

        /// <summary>A region from the end of <paramref name="statement"/> to the end of its block.</summary>
        private static void AddRegionAfter(FunctionInfo fn, StatementSyntax statement, Holding held)
        {
            if (statement.Parent is BlockSyntax block)
            {
                int end = Math.Max(statement.Span.End, block.CloseBraceToken.SpanStart);
                AddRegion(fn, TextSpan.FromBounds(statement.Span.End, end), held, null, block, block.Statements.IndexOf(statement) + 1);
            }
            else if (statement.Parent != null)
            {
                AddRegion(fn, TextSpan.FromBounds(statement.Span.End, Math.Max(statement.Span.End, statement.Parent.Span.End)), held, null, null, 0);
            }
        }

        /// <summary>The message name of the mmu_lock member <paramref name="value"/> reads, or null.</summary>
        internal string? LockName(IOperation? value) => LockMember(value) is ISymbol member ? "'" + KnownSymbols.MemberName(member) + "'" : null;

        private ISymbol? LockMember(IOperation? value)
        {
            value = Unwrap(value);
            ISymbol? member = value switch
            {
                IFieldReferenceOperation field => field.Field,
                IPropertyReferenceOperation property when property.Arguments.IsEmpty => property.Property,
                _ => null,
            };
            return member != null && _known.IsMmuLockMember(member) ? member.OriginalDefinition : null;
        }

        /// <summary>
        /// What a using resource holds: <c>x.EnterScope()</c> on the mmu_lock, an [MmuLock] scope made by a method of the
        /// mmu_lock (<c>x.Enter()</c>, <c>x.EnterShared(slot)</c>, named after <c>x</c>), or another [MmuLock] scope; on the
        /// side its scope type says. Null for anything else.
        /// </summary>
        private Holding? Acquisition(IOperation value)
        {
            value = Unwrap(value)!;
            if (value is IInvocationOperation { TargetMethod.Name: "EnterScope" } invocation && _known.IsLockType(invocation.TargetMethod.ContainingType))
            {
                return LockName(invocation.Instance) is string name ? new Holding(name) : null;
            }

            LockMode mode = _known.ScopeMode(value.Type);
            if (mode == LockMode.None)
            {
                return null;
            }

            if (value is IInvocationOperation { Instance: IOperation lockValue } entry && LockName(lockValue) is string lockName)
            {
                // The shared side taken by a method of the lock: MMU0008's fix takes the exclusive side in its place.
                IMethodSymbol? exclusive = mode == LockMode.Shared ? _known.ScopeEntry(lockValue.Type, exclusiveOnly: true) : null;
                return new Holding(lockName, mode, entry.Syntax, exclusive?.Name);
            }

            return new Holding("'" + value.Type!.Name + "'", mode);
        }

        /// <summary>MMU0004: <c>lock (x)</c> where the mmu_lock <c>x</c> is taken with <c>using (x.Enter())</c>.</summary>
        private void ReportMonitorOnScopedLock(ILockOperation lockOperation, ISymbol member, IMethodSymbol entry)
        {
            string lockText = lockOperation.LockedValue.Syntax.ToString();
            ImmutableDictionary<string, string?> properties = ImmutableDictionary<string, string?>.Empty.Add(DiagnosticProperties.Enter, entry.Name);
            Location location = lockOperation.Syntax is LockStatementSyntax statement
                ? Location.Create(statement.SyntaxTree, TextSpan.FromBounds(statement.LockKeyword.SpanStart, statement.CloseParenToken.Span.End))
                : lockOperation.Syntax.GetLocation();
            _report(Diagnostic.Create(DiagnosticDescriptors.MonitorOnScopedLock, location, properties,
                KnownSymbols.MemberName(member), lockText + "." + entry.Name + "()"));
        }

        private static IOperation? Unwrap(IOperation? operation)
        {
            while (operation is IConversionOperation or IParenthesizedOperation)
            {
                operation = operation is IConversionOperation conversion ? conversion.Operand : ((IParenthesizedOperation)operation).Operand;
            }

            return operation;
        }

        private bool InsideScopeType(FunctionInfo fn) => _known.IsMmuScopeType(fn.Symbol?.ContainingType);

        private void InspectAcquisition(IInvocationOperation invocation, FunctionInfo fn)
        {
            IMethodSymbol method = invocation.TargetMethod;
            if (method.Name == "TryEnter" && (_known.IsMonitor(method.ContainingType) || _known.IsLockType(method.ContainingType)))
            {
                InspectTryEnter(invocation, fn);
                return;
            }

            if (method.Name == "Enter" && (_known.IsMonitor(method.ContainingType) || _known.IsLockType(method.ContainingType)))
            {
                ISymbol? member = _known.IsMonitor(method.ContainingType)
                    ? (invocation.Arguments.Length >= 1 ? LockMember(invocation.Arguments[0].Value) : null)
                    : LockMember(invocation.Instance);
                if (member != null && !InsideScopeType(fn))
                {
                    Acquired(invocation, member, new Holding("'" + KnownSymbols.MemberName(member) + "'"), fn);
                }

                return;
            }

            if (method.Name == "EnterScope" && _known.IsLockType(method.ContainingType) && LockName(invocation.Instance) != null
                || _known.IsMmuScopeType(method.ReturnType))
            {
                InspectScope(invocation, fn);
            }
        }

        /// <summary>A scope (EnterScope or an [MmuLock] type) made outside a <c>using</c>: it must be disposed in a finally.</summary>
        private void InspectScope(IOperation acquisition, FunctionInfo fn)
        {
            if (InsideScopeType(fn) || Acquisition(acquisition) is not Holding held)
            {
                return;
            }

            IOperation? parent = acquisition.Parent;
            while (parent is IConversionOperation or IParenthesizedOperation)
            {
                parent = parent.Parent;
            }

            switch (parent)
            {
                case IUsingOperation:
                case IReturnOperation:
                case IArgumentOperation:
                    return;
                case IVariableInitializerOperation { Parent: IVariableDeclaratorOperation declarator }:
                    for (IOperation? up = declarator.Parent; up != null; up = up.Parent)
                    {
                        if (up is IUsingOperation or IUsingDeclarationOperation)
                        {
                            return;
                        }

                        if (up is IVariableDeclarationGroupOperation && up.Parent is not (IUsingOperation or IUsingDeclarationOperation))
                        {
                            break;
                        }
                    }

                    Acquired(acquisition, declarator.Symbol, held, fn);
                    return;
                default:
                    Report(acquisition, held.LockName);
                    return;
            }
        }

        /// <summary>
        /// The lock <paramref name="key"/> (a member, or the local holding a scope) is taken at <paramref name="acquisition"/>:
        /// released in the finally of the try statement that follows, or of a try statement that contains it, it makes
        /// a region; otherwise MMU0003.
        /// </summary>
        private void Acquired(IOperation acquisition, ISymbol key, Holding held, FunctionInfo fn)
        {
            IOperation? statement = acquisition;
            while (statement != null && statement is not (IExpressionStatementOperation or IVariableDeclarationGroupOperation))
            {
                statement = statement.Parent;
            }

            if (statement == null || statement.Syntax is not StatementSyntax statementSyntax)
            {
                Report(acquisition, held.LockName);
                return;
            }

            // Enter(x); try { ... } finally { Exit(x); }
            if (statement.Parent is IBlockOperation block)
            {
                int index = block.Operations.IndexOf(statement);
                if (index >= 0 && index + 1 < block.Operations.Length && block.Operations[index + 1] is ITryOperation { Finally: IBlockOperation following } tryNext
                    && Releases(following, key))
                {
                    AddRegion(fn, tryNext.Body.Syntax.Span, held, tryNext.Body, tryNext.Body.Syntax as BlockSyntax, 0);
                    return;
                }
            }

            // try { Enter(x, ref taken); ... } finally { if (taken) Exit(x); }
            IOperation previous = statement;
            for (IOperation? up = statement.Parent; up != null && up != fn.Body; previous = up, up = up.Parent)
            {
                if (up is ITryOperation { Finally: IBlockOperation enclosingFinally } tryAround && previous == tryAround.Body && Releases(enclosingFinally, key))
                {
                    int end = Math.Max(statementSyntax.Span.End, tryAround.Body.Syntax.Span.End);
                    var region = new LockRegion(TextSpan.FromBounds(statementSyntax.Span.End, end), held, null);
                    if (statementSyntax.Parent is BlockSyntax parentBlock)
                    {
                        region.SetInsertPoint(parentBlock, parentBlock.Statements.IndexOf(statementSyntax) + 1);
                    }

                    fn.Regions.Add(region);
                    return;
                }
            }

            Report(acquisition, held.LockName);
            AddRegionAfter(fn, statementSyntax, held);
        }

        private void Report(IOperation acquisition, string name) =>
            _report(Diagnostic.Create(DiagnosticDescriptors.LockNotReleased, acquisition.Syntax.GetLocation(), name));

        private bool Releases(IOperation handler, ISymbol key)
        {
            foreach (IOperation operation in OperationTree.DescendantsAndSelf(handler))
            {
                if (operation is not IInvocationOperation invocation)
                {
                    continue;
                }

                IMethodSymbol method = invocation.TargetMethod;
                ISymbol? released = null;
                if (method.Name == "Exit" && _known.IsMonitor(method.ContainingType) && invocation.Arguments.Length >= 1)
                {
                    released = LockMember(invocation.Arguments[0].Value);
                }
                else if (method.Name == "Exit" && _known.IsLockType(method.ContainingType))
                {
                    released = LockMember(invocation.Instance);
                }
                else if (method.Name == "Dispose")
                {
                    released = LocalOf(invocation.Instance);
                }

                if (released != null && SymbolEqualityComparer.Default.Equals(released, key))
                {
                    return true;
                }
            }

            return false;
        }

        private static ISymbol? LocalOf(IOperation? operation)
        {
            operation = Unwrap(operation);
            if (operation is IConditionalAccessInstanceOperation)
            {
                for (IOperation? up = operation.Parent; up != null; up = up.Parent)
                {
                    if (up is IConditionalAccessOperation access)
                    {
                        operation = Unwrap(access.Operation);
                        break;
                    }
                }
            }

            return operation is ILocalReferenceOperation local ? local.Local : null;
        }

        /// <summary>MMU0002 for the calls of lock-requiring methods outside every region of their function.</summary>
        public void ReportCallsWithoutLock(Compilation compilation)
        {
            foreach (FunctionInfo fn in Functions)
            {
                if (fn.HoldsLockOnEntry)
                {
                    continue;
                }

                foreach (IOperation call in fn.LockRequiringCalls)
                {
                    if (fn.RegionOf(call.Syntax.Span) >= 0 || call is not IInvocationOperation invocation)
                    {
                        continue;
                    }

                    string? lockExpression = SuggestLock(invocation, fn, compilation, out ISymbol? lockMember);
                    ImmutableDictionary<string, string?> properties = ImmutableDictionary<string, string?>.Empty;
                    if (lockExpression != null)
                    {
                        properties = properties.Add(DiagnosticProperties.Lock, lockExpression);
                        if (_known.ScopeEntry(KnownSymbols.TypeOf(lockMember)) is IMethodSymbol entry)
                        {
                            properties = properties.Add(DiagnosticProperties.Enter, entry.Name);
                        }
                    }

                    string hint = lockExpression == null ? string.Empty : "; take '" + lockExpression + "' first";
                    _report(Diagnostic.Create(DiagnosticDescriptors.LockNotHeld, invocation.Syntax.GetLocation(), properties, invocation.TargetMethod.Name, hint));
                }
            }
        }

        /// <summary>An expression for the mmu_lock to take around <paramref name="invocation"/>, or null.</summary>
        private string? SuggestLock(IInvocationOperation invocation, FunctionInfo fn, Compilation compilation, out ISymbol? lockMember)
        {
            lockMember = null;
            INamedTypeSymbol? within = fn.Symbol?.ContainingType;
            if (within == null)
            {
                return null;
            }

            bool instanceContext = fn.Symbol is { IsStatic: false } && (fn.Symbol.MethodKind != MethodKind.LocalFunction || !fn.Symbol.IsStatic);

            // vm.Zap(page) -> lock (vm.MmuLock)
            if (invocation.Instance is IOperation receiver && !receiver.IsImplicit && IsSimpleReceiver(receiver)
                && LockMemberOf(receiver.Type, within, compilation) is ISymbol onReceiver && !onReceiver.IsStatic)
            {
                lockMember = onReceiver;
                return receiver.Syntax.ToString() + "." + onReceiver.Name;
            }

            // A lock of this type: lock (MmuLock)
            if (LockMemberOf(within, within, compilation) is ISymbol own && (own.IsStatic || instanceContext))
            {
                lockMember = own;
                return own.Name;
            }

            // A member whose type has one: lock (Vm.MmuLock)
            for (INamedTypeSymbol? type = within; type != null; type = type.BaseType)
            {
                foreach (ISymbol member in type.GetMembers())
                {
                    ITypeSymbol? memberType = member switch
                    {
                        IFieldSymbol { IsImplicitlyDeclared: false } field => field.Type,
                        IPropertySymbol { IsIndexer: false } property => property.Type,
                        _ => null,
                    };
                    if (memberType != null && (member.IsStatic || instanceContext) && compilation.IsSymbolAccessibleWithin(member, within)
                        && LockMemberOf(memberType, within, compilation) is ISymbol nested && !nested.IsStatic)
                    {
                        lockMember = nested;
                        return member.Name + "." + nested.Name;
                    }
                }
            }

            // A parameter whose type has one: lock (vm.MmuLock)
            IMethodSymbol? method = fn.Symbol;
            if (method != null)
            {
                foreach (IParameterSymbol parameter in method.Parameters)
                {
                    if (LockMemberOf(parameter.Type, within, compilation) is ISymbol onParameter && !onParameter.IsStatic)
                    {
                        lockMember = onParameter;
                        return parameter.Name + "." + onParameter.Name;
                    }
                }
            }

            return null;
        }

        private static bool IsSimpleReceiver(IOperation receiver) => receiver switch
        {
            ILocalReferenceOperation or IParameterReferenceOperation or IInstanceReferenceOperation => true,
            IFieldReferenceOperation field => field.Instance == null || IsSimpleReceiver(field.Instance),
            IPropertyReferenceOperation property => property.Arguments.IsEmpty && (property.Instance == null || IsSimpleReceiver(property.Instance)),
            _ => false,
        };

        private ISymbol? LockMemberOf(ITypeSymbol? type, INamedTypeSymbol within, Compilation compilation)
        {
            for (ITypeSymbol? t = type; t != null; t = t.BaseType)
            {
                foreach (ISymbol member in t.GetMembers())
                {
                    if (_known.IsMmuLockMember(member) && compilation.IsSymbolAccessibleWithin(member, within))
                    {
                        return member;
                    }
                }
            }

            return null;
        }
    }
}
