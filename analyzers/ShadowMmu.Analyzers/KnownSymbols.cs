using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace ShadowMmu.Analyzers
{
    /// <summary>
    /// What the rules need to know about symbols, resolved once per compilation and cached: which members and parameters
    /// carry the ShadowMmu.Annotations attributes (matched by full name, so a source-only copy of the attributes works
    /// too), <c>System.Threading.Monitor</c> and <c>System.Threading.Lock</c>, and which types are containers whose
    /// elements are the values (arrays, spans, inline arrays).
    /// </summary>
    internal sealed class KnownSymbols
    {
        internal const string AnnotationsNamespace = "ShadowMmu.Annotations";
        internal const string GuestPteRead = "GuestPteReadAttribute";
        internal const string UnlockedGuestPte = "UnlockedGuestPteAttribute";
        internal const string MmuLock = "MmuLockAttribute";
        internal const string RevalidatesGuestPte = "RevalidatesGuestPteAttribute";
        internal const string RequiresMmuLock = "RequiresMmuLockAttribute";
        internal const string InvalidationSnapshot = "InvalidationSnapshotAttribute";
        internal const string HostFrameResolve = "HostFrameResolveAttribute";
        internal const string RechecksInvalidationSnapshot = "RechecksInvalidationSnapshotAttribute";
        internal const string RecheckSwitch = "RecheckSwitchAttribute";
        internal const string GuardedByMmuLock = "GuardedByMmuLockAttribute";

        private readonly ConcurrentDictionary<ISymbol, int> _flags = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<ITypeSymbol, bool> _containers = new(SymbolEqualityComparer.Default);

        private KnownSymbols(Compilation compilation)
        {
            Compilation = compilation;
            Monitor = compilation.GetTypeByMetadataName("System.Threading.Monitor");
            Lock = compilation.GetTypeByMetadataName("System.Threading.Lock");
            Span = compilation.GetTypeByMetadataName("System.Span`1");
            ReadOnlySpan = compilation.GetTypeByMetadataName("System.ReadOnlySpan`1");
            Array = compilation.GetTypeByMetadataName("System.Array");
            MemoryExtensions = compilation.GetTypeByMetadataName("System.MemoryExtensions");
        }

        public Compilation Compilation { get; }

        /// <summary>What the constructors of this compilation's structs and records do with their parameters.</summary>
        public ConstructorSummaries Constructors { get; } = new();

        public INamedTypeSymbol? Monitor { get; }

        public INamedTypeSymbol? Lock { get; }

        public INamedTypeSymbol? Span { get; }

        public INamedTypeSymbol? ReadOnlySpan { get; }

        public INamedTypeSymbol? Array { get; }

        public INamedTypeSymbol? MemoryExtensions { get; }

        /// <summary>The symbols of <paramref name="compilation"/>, or null when no ShadowMmu annotation can be seen from it (nothing to check).</summary>
        public static KnownSymbols? TryCreate(Compilation compilation)
        {
            foreach (string name in new[] { GuestPteRead, UnlockedGuestPte, MmuLock, RevalidatesGuestPte, RequiresMmuLock, HostFrameResolve, GuardedByMmuLock })
            {
                if (!compilation.GetTypesByMetadataName(AnnotationsNamespace + "." + name).IsEmpty)
                {
                    return new KnownSymbols(compilation);
                }
            }

            return null;
        }

        private const int Computed = 1, HasGuestPteRead = 2, HasUnlocked = 4, HasMmuLock = 8, HasRevalidates = 16, RevalidatesWhenFalse = 32, HasRequires = 64;
        private const int RequiresComputed = 128, RequiresResult = 256;
        private const int HasSnapshot = 512, HasResolve = 1024, HasRecheck = 2048, RechecksWhenFalse = 4096, HasSwitch = 8192;
        private const int SharedSide = 16384, RequiresSharedResult = 32768, HasGuarded = 65536;

        private int Flags(ISymbol symbol)
        {
            if (_flags.TryGetValue(symbol, out int flags))
            {
                return flags;
            }

            flags = Computed;
            foreach (AttributeData attribute in symbol.GetAttributes())
            {
                INamedTypeSymbol? type = attribute.AttributeClass;
                if (type == null || !IsAnnotationsNamespace(type.ContainingNamespace))
                {
                    continue;
                }

                switch (type.Name)
                {
                    case GuestPteRead:
                        flags |= HasGuestPteRead;
                        break;
                    case UnlockedGuestPte:
                        flags |= HasUnlocked;
                        break;
                    case MmuLock:
                    case RequiresMmuLock:
                        // Shared = true: a scope of the shared side, or a method either side will do.
                        flags |= (type.Name == MmuLock ? HasMmuLock : HasRequires) | (NamedFlag(attribute, "Shared", true) ? SharedSide : 0);
                        break;
                    case GuardedByMmuLock:
                        flags |= HasGuarded;
                        break;
                    case RevalidatesGuestPte:
                        flags |= HasRevalidates | (UnchangedWhenFalse(attribute) ? RevalidatesWhenFalse : 0);
                        break;
                    case InvalidationSnapshot:
                        flags |= HasSnapshot;
                        break;
                    case HostFrameResolve:
                        flags |= HasResolve;
                        break;
                    case RechecksInvalidationSnapshot:
                        flags |= HasRecheck | (UnchangedWhenFalse(attribute) ? RechecksWhenFalse : 0);
                        break;
                    case RecheckSwitch:
                        flags |= HasSwitch;
                        break;
                }
            }

            _flags.TryAdd(symbol, flags);
            return flags;
        }

        private static bool UnchangedWhenFalse(AttributeData attribute) => NamedFlag(attribute, "UnchangedWhen", false);

        /// <summary>The attribute sets its bool property <paramref name="name"/> to <paramref name="value"/>.</summary>
        private static bool NamedFlag(AttributeData attribute, string name, bool value)
        {
            foreach (var named in attribute.NamedArguments)
            {
                if (named.Key == name && named.Value.Value is bool set && set == value)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The method's result is a snapshot of the host's invalidation sequence ([InvalidationSnapshot]).</summary>
        public bool IsInvalidationSnapshot(IMethodSymbol method) => (Flags(method.OriginalDefinition) & HasSnapshot) != 0;

        /// <summary>The method's result is a host frame resolved from a guest frame ([HostFrameResolve]).</summary>
        public bool IsHostFrameResolve(IMethodSymbol method) => (Flags(method.OriginalDefinition) & HasResolve) != 0;

        /// <summary>The parameter takes a snapshot the call re-checks ([RechecksInvalidationSnapshot]); <paramref name="unchangedWhen"/>: the result that means "no invalidation since".</summary>
        public bool IsRecheckingSnapshot(IParameterSymbol parameter, out bool unchangedWhen)
        {
            int flags = Flags(parameter.OriginalDefinition);
            unchangedWhen = (flags & RechecksWhenFalse) == 0;
            return (flags & HasRecheck) != 0;
        }

        /// <summary>A switch that turns a re-check off on purpose ([RecheckSwitch]).</summary>
        public bool IsRecheckSwitch(ISymbol member) => (Flags(member.OriginalDefinition) & HasSwitch) != 0;

        private static bool IsAnnotationsNamespace(INamespaceSymbol? ns)
        {
            // "ShadowMmu.Annotations", walked from the inside out without building a string.
            return ns is { Name: "Annotations" } && ns.ContainingNamespace is { Name: "ShadowMmu" } outer && outer.ContainingNamespace is { IsGlobalNamespace: true };
        }

        /// <summary>The method's result (or out values) are guest PTE values read from guest memory.</summary>
        public bool IsGuestPteRead(IMethodSymbol method) => (Flags(method.OriginalDefinition) & HasGuestPteRead) != 0;

        /// <summary>A field, property or parameter declared to hold guest PTE values read without the lock.</summary>
        public bool IsUnlocked(ISymbol symbol) => (Flags(symbol.OriginalDefinition) & HasUnlocked) != 0;

        /// <summary>A field or property that is the mmu_lock.</summary>
        public bool IsMmuLockMember(ISymbol symbol) => symbol is IFieldSymbol or IPropertySymbol && (Flags(symbol.OriginalDefinition) & HasMmuLock) != 0;

        /// <summary>
        /// How a lock of type <paramref name="lockType"/> is taken when it is not a monitor: its parameterless instance
        /// method that returns an [MmuLock] scope (<c>MmuSpinLock.Enter()</c>), the exclusive side's when the lock has
        /// two (<c>MmuRwLock.Enter()</c>, not a parameterless <c>EnterShared()</c>); null for <c>object</c>, a
        /// <c>System.Threading.Lock</c> (its scope type is not annotated) and other monitor objects. With
        /// <paramref name="exclusiveOnly"/>, a lock whose only parameterless entry takes the shared side has none.
        /// </summary>
        public IMethodSymbol? ScopeEntry(ITypeSymbol? lockType, bool exclusiveOnly = false)
        {
            IMethodSymbol? shared = null;
            for (ITypeSymbol? t = lockType; t != null && t.SpecialType != SpecialType.System_Object; t = t.BaseType)
            {
                foreach (ISymbol member in t.GetMembers())
                {
                    if (member is IMethodSymbol { MethodKind: MethodKind.Ordinary, IsStatic: false, Parameters.IsEmpty: true, DeclaredAccessibility: Accessibility.Public or Accessibility.Internal } method)
                    {
                        switch (ScopeMode(method.ReturnType))
                        {
                            case LockMode.Exclusive:
                                return method;
                            case LockMode.Shared:
                                shared ??= method;
                                break;
                        }
                    }
                }
            }

            return exclusiveOnly ? null : shared;
        }

        /// <summary>The type of a field or property; null for other symbols.</summary>
        public static ITypeSymbol? TypeOf(ISymbol? member) => member switch
        {
            IFieldSymbol field => field.Type,
            IPropertySymbol property => property.Type,
            _ => null,
        };

        /// <summary>A type whose instances hold the mmu_lock while they live (it, or a base type, carries [MmuLock]).</summary>
        public bool IsMmuScopeType(ITypeSymbol? type) => ScopeMode(type) != LockMode.None;

        /// <summary>
        /// The side of the mmu_lock an instance of <paramref name="type"/> holds: <see cref="LockMode.Shared"/> for an
        /// [MmuLock(Shared = true)] scope, <see cref="LockMode.Exclusive"/> for an [MmuLock] one (the nearest annotated
        /// type, it or a base, says), <see cref="LockMode.None"/> for a type that is no scope.
        /// </summary>
        public LockMode ScopeMode(ITypeSymbol? type)
        {
            for (ITypeSymbol? t = type; t != null; t = t.BaseType)
            {
                if (t is INamedTypeSymbol)
                {
                    int flags = Flags(t.OriginalDefinition);
                    if ((flags & HasMmuLock) != 0)
                    {
                        return (flags & SharedSide) != 0 ? LockMode.Shared : LockMode.Exclusive;
                    }
                }
            }

            return LockMode.None;
        }

        /// <summary>
        /// Whether <paramref name="parameter"/> re-validates the value passed to it, and which result of the call means
        /// "unchanged".
        /// </summary>
        public bool IsRevalidating(IParameterSymbol parameter, out bool unchangedWhen)
        {
            int flags = Flags(parameter.OriginalDefinition);
            unchangedWhen = (flags & RevalidatesWhenFalse) == 0;
            return (flags & HasRevalidates) != 0;
        }

        /// <summary>
        /// The method may only run with the lock held: it carries [RequiresMmuLock], or overrides or implements a method
        /// that does.
        /// </summary>
        public bool RequiresLock(IMethodSymbol method) => RequiredMode(method) != LockMode.None;

        /// <summary>
        /// The side of the lock the method needs: <see cref="LockMode.Exclusive"/> for [RequiresMmuLock],
        /// <see cref="LockMode.Shared"/> (either side will do) for [RequiresMmuLock(Shared = true)], inherited by overrides
        /// and implementations (the method's own attribute first, then what it overrides, then what it implements);
        /// <see cref="LockMode.None"/> when it needs neither.
        /// </summary>
        public LockMode RequiredMode(IMethodSymbol method)
        {
            method = method.OriginalDefinition;
            if (!_flags.TryGetValue(method, out int flags) || (flags & RequiresComputed) == 0)
            {
                int requiring = RequiringFlags(method);
                flags = Flags(method) | RequiresComputed
                    | ((requiring & HasRequires) != 0 ? RequiresResult : 0)
                    | ((requiring & SharedSide) != 0 ? RequiresSharedResult : 0);
                _flags[method] = flags;
            }

            return (flags & RequiresResult) == 0 ? LockMode.None : (flags & RequiresSharedResult) != 0 ? LockMode.Shared : LockMode.Exclusive;
        }

        /// <summary>The flags of the first method carrying [RequiresMmuLock] that <paramref name="method"/> is, overrides or implements; 0 if none.</summary>
        private int RequiringFlags(IMethodSymbol method)
        {
            for (IMethodSymbol? m = method; m != null; m = m.OverriddenMethod)
            {
                if (Flags(m.OriginalDefinition) is int flags && (flags & HasRequires) != 0)
                {
                    return flags;
                }
            }

            foreach (IMethodSymbol explicitImpl in method.ExplicitInterfaceImplementations)
            {
                if (Flags(explicitImpl.OriginalDefinition) is int flags && (flags & HasRequires) != 0)
                {
                    return flags;
                }
            }

            INamedTypeSymbol? type = method.ContainingType;
            if (type == null || method.MethodKind != MethodKind.Ordinary || method.IsStatic)
            {
                return 0;
            }

            foreach (INamedTypeSymbol iface in type.AllInterfaces)
            {
                foreach (ISymbol member in iface.GetMembers(method.Name))
                {
                    if (member is IMethodSymbol im && Flags(im.OriginalDefinition) is int flags && (flags & HasRequires) != 0)
                    {
                        ISymbol? impl = type.FindImplementationForInterfaceMember(im);
                        if (impl != null && SymbolEqualityComparer.Default.Equals(impl.OriginalDefinition, method))
                        {
                            return flags;
                        }
                    }
                }
            }

            return 0;
        }

        /// <summary>
        /// A field or property guarded by the exclusive side ([GuardedByMmuLock]; a property inherits it from the one it
        /// overrides).
        /// </summary>
        public bool IsGuarded(ISymbol member)
        {
            for (ISymbol? m = member; m is IFieldSymbol or IPropertySymbol; m = (m as IPropertySymbol)?.OverriddenProperty)
            {
                if ((Flags(m.OriginalDefinition) & HasGuarded) != 0)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>A method of System.Threading.Interlocked or System.Threading.Volatile: it reads or writes a location atomically.</summary>
        public bool IsAtomicAccess(IMethodSymbol method) =>
            method.ContainingType is { Name: "Interlocked" or "Volatile", ContainingNamespace: { Name: "Threading", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } };

        /// <summary>An array, <c>Span&lt;T&gt;</c>, <c>ReadOnlySpan&lt;T&gt;</c>, inline array or pointer: its elements are the values.</summary>
        public bool IsContainer(ITypeSymbol? type)
        {
            if (type == null)
            {
                return false;
            }

            if (type is IArrayTypeSymbol or IPointerTypeSymbol)
            {
                return true;
            }

            if (_containers.TryGetValue(type, out bool known))
            {
                return known;
            }

            bool result = false;
            if (type is INamedTypeSymbol named)
            {
                INamedTypeSymbol original = named.OriginalDefinition;
                if (SymbolEqualityComparer.Default.Equals(original, Span) || SymbolEqualityComparer.Default.Equals(original, ReadOnlySpan))
                {
                    result = true;
                }
                else if (named.TypeKind == TypeKind.Struct)
                {
                    foreach (AttributeData attribute in original.GetAttributes())
                    {
                        if (attribute.AttributeClass is { Name: "InlineArrayAttribute" } a && a.ContainingNamespace?.ToDisplayString() == "System.Runtime.CompilerServices")
                        {
                            result = true;
                            break;
                        }
                    }
                }
            }

            _containers.TryAdd(type, result);
            return result;
        }

        /// <summary>The number of elements of an inline array type (its [InlineArray] length), or null.</summary>
        public static int? InlineArrayLength(ITypeSymbol? type)
        {
            if (type is INamedTypeSymbol { TypeKind: TypeKind.Struct } named)
            {
                foreach (AttributeData attribute in named.OriginalDefinition.GetAttributes())
                {
                    if (attribute.AttributeClass is { Name: "InlineArrayAttribute" } && attribute.ConstructorArguments.Length == 1
                        && attribute.ConstructorArguments[0].Value is int length)
                    {
                        return length;
                    }
                }
            }

            return null;
        }

        /// <summary>The <c>Length</c> property of an array or span type, or null.</summary>
        public IPropertySymbol? LengthProperty(ITypeSymbol? type)
        {
            ITypeSymbol? owner = type is IArrayTypeSymbol ? Array : IsSpan(type) ? type : null;
            if (owner != null)
            {
                foreach (ISymbol member in owner.GetMembers("Length"))
                {
                    if (member is IPropertySymbol { IsStatic: false, Parameters.IsEmpty: true } property)
                    {
                        return property;
                    }
                }
            }

            return null;
        }

        /// <summary>A method of System.MemoryExtensions.</summary>
        public bool IsMemoryExtension(IMethodSymbol method) => MemoryExtensions != null && SymbolEqualityComparer.Default.Equals(method.ContainingType, MemoryExtensions);

        /// <summary>A method of System.Array.</summary>
        public bool IsArrayMethod(IMethodSymbol method) => Array != null && SymbolEqualityComparer.Default.Equals(method.ContainingType, Array);

        /// <summary>A span type (its indexer is element access).</summary>
        public bool IsSpan(ITypeSymbol? type)
        {
            if (type is not INamedTypeSymbol named)
            {
                return false;
            }

            INamedTypeSymbol original = named.OriginalDefinition;
            return SymbolEqualityComparer.Default.Equals(original, Span) || SymbolEqualityComparer.Default.Equals(original, ReadOnlySpan);
        }

        /// <summary>True for System.Threading.Lock.</summary>
        public bool IsLockType(ITypeSymbol? type) => type != null && Lock != null && SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, Lock);

        /// <summary>True for System.Threading.Monitor.</summary>
        public bool IsMonitor(ITypeSymbol? type) => type != null && Monitor != null && SymbolEqualityComparer.Default.Equals(type.OriginalDefinition, Monitor);

        /// <summary>The type of a container's elements (an array's, a pointer's, a span's).</summary>
        public static ITypeSymbol? ElementType(ITypeSymbol? container) => container switch
        {
            IArrayTypeSymbol array => array.ElementType,
            IPointerTypeSymbol pointer => pointer.PointedAtType,
            INamedTypeSymbol { TypeArguments.Length: 1 } span => span.TypeArguments[0],
            _ => null,
        };

        /// <summary>Integral types whose values serve as indexes.</summary>
        public static bool IsIntegral(ITypeSymbol? type) => type?.SpecialType is SpecialType.System_Int32 or SpecialType.System_Int64 or SpecialType.System_UInt32
            or SpecialType.System_UInt64 or SpecialType.System_Int16 or SpecialType.System_UInt16 or SpecialType.System_Byte or SpecialType.System_SByte
            or SpecialType.System_IntPtr or SpecialType.System_UIntPtr;

        /// <summary>Names used in messages for members: Type.Member.</summary>
        public static string MemberName(ISymbol member) => member.ContainingType != null ? member.ContainingType.Name + "." + member.Name : member.Name;

    }
}
