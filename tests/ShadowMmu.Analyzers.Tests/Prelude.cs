namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>The small shadow-MMU model the rule tests are written against, appended to each test's source.</summary>
    internal static class Prelude
    {
        public const string Usings = "using Model;\nusing ShadowMmu.Annotations;\nusing System;\nusing System.Threading;\n\n";

        public const string Model = @"
namespace Model
{
    using System.Runtime.CompilerServices;
    using ShadowMmu.Annotations;

    [InlineArray(5)]
    public struct LevelValues
    {
        private ulong _level1;
    }

    public struct Walk
    {
        [UnlockedGuestPte] public LevelValues Ptes;
        public LevelValues PteGpa;
        public int Level;
        public int MaxLevel;
    }

    public sealed class Vm
    {
        [MmuLock] public object MmuLock { get; } = new object();
        [MmuLock] public readonly System.Threading.Lock FastLock = new System.Threading.Lock();
        [RequiresMmuLock] public void Link(ulong pte) { }
        [RequiresMmuLock] public void SetLeaf(ulong pte, uint access) { }
        [RequiresMmuLock] public void Zap() { }
        public MmuScope Enter() => new MmuScope(this);

        // The host-invalidation protocol (KVM's mmu_invalidate_seq): snapshot, resolve, re-check under the lock, install.
        public HostFrames Host { get; } = new HostFrames();
        [RecheckSwitch] public bool SequenceCheck { get; set; } = true;
        [InvalidationSnapshot] public long SnapshotSeq() => 0;
        [RequiresMmuLock] public bool RetryGfn([RechecksInvalidationSnapshot(UnchangedWhen = false)] long seq, ulong gfn) => false;
        [RequiresMmuLock] public bool NoInvalidationSince([RechecksInvalidationSnapshot] long seq) => true;
        [RequiresMmuLock] public void Install(ulong gfn, ulong pfn) { }
    }

    public sealed class HostFrames
    {
        [HostFrameResolve] public ulong Resolve(ulong gfn) => gfn;
        public bool TryResolveAtomic(ulong gfn, out ulong pfn) { pfn = gfn; return true; }
    }

    [MmuLock]
    public readonly struct MmuScope : System.IDisposable
    {
        private readonly Vm _vm;
        public MmuScope(Vm vm) { _vm = vm; System.Threading.Monitor.Enter(vm.MmuLock); }
        public void Dispose() => System.Threading.Monitor.Exit(_vm.MmuLock);
    }

    /// <summary>A VM whose mmu_lock is a spin lock, taken only through its scope.</summary>
    public sealed class SpinVm
    {
        [MmuLock] public MmuSpinLock MmuLock { get; } = new MmuSpinLock();
        [RequiresMmuLock] public void Link(ulong pte) { }
        [RequiresMmuLock] public void Zap() { }
    }

    public sealed class MmuSpinLock
    {
        public SpinScope Enter() => new SpinScope(this);
        internal void Exit() { }
    }

    [MmuLock]
    public readonly ref struct SpinScope
    {
        private readonly MmuSpinLock _lock;
        public SpinScope(MmuSpinLock held) => _lock = held;
        public void Dispose() => _lock.Exit();
    }

    /// <summary>A VM whose mmu_lock has a shared and an exclusive side (issue 18), as the runtime's MmuRwLock.</summary>
    public sealed class RwVm
    {
        [MmuLock] public RwLock MmuLock { get; } = new RwLock();
        [RequiresMmuLock] public void Zap() { }
        [RequiresMmuLock] public void Link(ulong pte) { }
        [RequiresMmuLock(Shared = true)] public void InstallLeaf(ulong pte) { }
        [RequiresMmuLock(Shared = true)] public bool NoInvalidationSince([RechecksInvalidationSnapshot] long seq) => true;
        [RequiresMmuLock(Shared = true)] public void Install(ulong gfn, ulong pfn) { }
        [InvalidationSnapshot] public long SnapshotSeq() => 0;
        public HostFrames Host { get; } = new HostFrames();

        [GuardedByMmuLock] public int Generation;
        [GuardedByMmuLock] public ulong[] Sptes = new ulong[512];
        [GuardedByMmuLock] public long Zaps { get; set; }
        [GuardedByMmuLock] public Counters Stats;
        [GuardedByMmuLock] public LevelValues Roots;
        [GuardedByMmuLock] public Counters[] PerVcpu = new Counters[4];
        public int Unguarded;
        public ulong[] Scratch = new ulong[4];
    }

    public struct Counters
    {
        public long Faults;
    }

    /// <summary>A reader-writer mmu_lock: a parameterless shared entry declared before the exclusive one.</summary>
    public sealed class RwLock
    {
        public SharedScope EnterRead() => new SharedScope(this);
        public SharedScope EnterShared(int reader) => new SharedScope(this);
        public ExclusiveScope Enter() => new ExclusiveScope(this);
        internal void Exit() { }
    }

    [MmuLock(Shared = true)]
    public readonly ref struct SharedScope
    {
        private readonly RwLock _lock;
        public SharedScope(RwLock held) => _lock = held;
        public void Dispose() => _lock.Exit();
    }

    [MmuLock]
    public readonly ref struct ExclusiveScope
    {
        private readonly RwLock _lock;
        public ExclusiveScope(RwLock held) => _lock = held;
        public void Dispose() => _lock.Exit();
    }

    public static class Guest
    {
        [GuestPteRead] public static ulong ReadPte(ulong gpa) => gpa;
        [GuestPteRead] public static bool TryReadPte(ulong gpa, out ulong pte) { pte = gpa; return true; }
        public static bool Unchanged(ulong gpa, [RevalidatesGuestPte] ulong pte) => true;
        public static bool Changed(ulong gpa, [RevalidatesGuestPte(UnchangedWhen = false)] ulong pte) => false;
        public static void Consume(ulong value) { }
        public static ulong Frame(ulong pte) => pte & 0xF_FFFF_FFFF_F000UL;
        public static void ConsumeAll(System.ReadOnlySpan<ulong> values) { }
    }
}

namespace System.Threading
{
    public sealed class Lock
    {
        public void Enter() { }
        public bool TryEnter() => true;
        public void Exit() { }
        public Scope EnterScope() => default;
        public ref struct Scope
        {
            public void Dispose() { }
        }
    }
}
";

        public static string Wrap(string code) => Usings + code + "\n" + Model;
    }
}
