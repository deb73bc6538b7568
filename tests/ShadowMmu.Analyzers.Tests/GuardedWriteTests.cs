using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>
    /// MMU0009: a plain write to a [GuardedByMmuLock] member where only the shared side is held (Clang's GUARDED_BY against
    /// a shared hold), in each form a write takes; and the near misses: atomic writes (Interlocked, Volatile.Write), reads,
    /// writes under the exclusive side or outside the lock, unguarded members, a new object's initializer.
    /// </summary>
    public class GuardedWriteTests
    {
        private const string LockName = "'RwVm.MmuLock'";

        private static DiagnosticResult Written(int location, string member, string region = LockName) =>
            Verify.Diagnostic(DiagnosticIds.GuardedWriteUnderShared).WithLocation(location).WithArguments("RwVm." + member, region);

        [Fact]
        public Task EveryKindOfPlainWrite_UnderTheSharedSide_IsReported() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    static void Bump(ref int value) => value++;

    void M(RwVm vm, int slot, int i, ulong spte)
    {
        using (vm.MmuLock.EnterShared(slot))
        {
            {|#0:vm.Generation = 1|};
            {|#1:vm.Generation += 2|};
            {|#2:vm.Generation++|};
            {|#3:--vm.Generation|};
            {|#4:vm.Sptes[i] = spte|};
            {|#5:vm.Sptes[i] |= 1|};
            {|#6:vm.Zaps = 3|};
            {|#7:vm.Stats.Faults++|};
            Bump({|#8:ref vm.Generation|});
            int.TryParse(""1"", {|#9:out vm.Generation|});
            {|#10:(vm.Generation, i) = (4, 5)|};
            {|#11:vm.Sptes ??= new ulong[512]|};
            {|#12:vm.Roots[i] = spte|};
            {|#13:vm.Stats = default|};
            {|#14:vm.PerVcpu[i].Faults += 2|};
        }
    }
}"),
            Written(0, "Generation"), Written(1, "Generation"), Written(2, "Generation"), Written(3, "Generation"),
            Written(4, "Sptes"), Written(5, "Sptes"), Written(6, "Zaps"), Written(7, "Stats"), Written(8, "Generation"),
            Written(9, "Generation"), Written(10, "Generation"), Written(11, "Sptes"), Written(12, "Roots"), Written(13, "Stats"),
            Written(14, "PerVcpu"));

        [Fact]
        public Task WritesInASharedRequiringBody_AndUnderAUsingDeclaration_AreReported() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    [RequiresMmuLock(Shared = true)]
    void Install(RwVm vm, int i, ulong spte)
    {
        {|#0:vm.Sptes[i] = spte|};
        using (vm.MmuLock.EnterShared(0))
        {
            {|#1:vm.Generation++|};
        }
    }

    void M(RwVm vm, int slot)
    {
        using var shared = vm.MmuLock.EnterShared(slot);
        {|#2:vm.Zaps++|};
    }
}"),
            Written(0, "Sptes", "the mmu_lock's shared side held on entry to 'Install' ([RequiresMmuLock(Shared = true)])"),
            Written(1, "Generation"),
            Written(2, "Zaps"));

        [Fact]
        public Task AtomicWritesAndReadsUnderTheSharedSide_AreQuiet() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    static void Read(in int value) { }

    void M(RwVm vm, int slot, int i, ulong spte)
    {
        using (vm.MmuLock.EnterShared(slot))
        {
            Interlocked.Increment(ref vm.Generation);
            Interlocked.Exchange(ref vm.Sptes[i], spte);
            Interlocked.CompareExchange(ref vm.Sptes[i], spte, 0UL);
            Interlocked.Add(ref vm.Stats.Faults, 1);
            Interlocked.Increment(ref vm.PerVcpu[i].Faults);
            Volatile.Write(ref vm.Generation, 2);
            int generation = Volatile.Read(ref vm.Generation) + vm.Generation;
            Guest.Consume(vm.Sptes[i] + vm.Roots[0]);
            long zaps = vm.Zaps;
            Read(in vm.Generation);
            Read(vm.Generation);
        }
    }
}"));

        [Fact]
        public Task WritesUnderTheExclusiveSide_OutsideTheLock_OrToOtherState_AreQuiet() => Verify.Analyzer(Prelude.Wrap(@"
class C
{
    void M(RwVm vm, int slot, int i, ulong spte)
    {
        using (vm.MmuLock.Enter())
        {
            vm.Generation++;
            vm.Sptes[i] = spte;
        }

        vm.Generation = 0;
        vm.Sptes[i] = 0;

        using (vm.MmuLock.EnterShared(slot))
        {
            vm.Unguarded++;
            vm.Scratch[i] = spte;
            ulong[] table = vm.Sptes;
            ulong local = vm.Sptes[i];
            local++;
            var fresh = new RwVm { Generation = 1, Zaps = 2 };
            Counters copy = vm.Stats;
            copy.Faults++;
            Action later = () => vm.Generation++;

            // The exclusive side taken inside: held there.
            using (vm.MmuLock.Enter()) { vm.Generation++; }
        }
    }

    [RequiresMmuLock]
    void Exclusive(RwVm vm, int slot)
    {
        vm.Generation++;
        using (vm.MmuLock.EnterShared(slot)) { vm.Zaps++; }
    }
}"));
    }
}
