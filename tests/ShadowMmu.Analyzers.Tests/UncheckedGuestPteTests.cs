using System.Threading.Tasks;
using Xunit;

namespace ShadowMmu.Analyzers.Tests
{
    /// <summary>MMU0001: what it must report and what it must not.</summary>
    public class UncheckedGuestPteTests
    {
        private static Task Check(string code) => Verify.Analyzer(Prelude.Wrap(code));

        [Fact]
        public Task UnrolledFetchWithEveryRecheck_IsClean() => Check(@"
class Fetcher
{
    public bool Fetch(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[3], walk.Ptes[3])) return false;
            vm.Link(walk.Ptes[3]);
            if (!Guest.Unchanged(walk.PteGpa[2], walk.Ptes[2])) return false;
            vm.Link(walk.Ptes[2]);
            if (Guest.Changed(walk.PteGpa[1], walk.Ptes[1])) return false;
            vm.Link(walk.Ptes[1]);
            if (!Guest.Unchanged(walk.PteGpa[0], walk.Ptes[0])) return false;
            vm.SetLeaf(Guest.Frame(walk.Ptes[0]), 7);
            return true;
        }
    }
}");

        [Fact]
        public Task SeedBug_RecheckOfTheWrongLevel_IsReportedAtTheUseAndNamesBoth() => Verify.Analyzer(Prelude.Wrap(@"
class Fetcher
{
    public bool Fetch(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            vm.Link({|#0:walk.Ptes[3]|});
            if (!Guest.Unchanged(walk.PteGpa[2], walk.Ptes[2])) return false;
            vm.Link(walk.Ptes[2]);
            return true;
        }
    }
}"), Verify.Diagnostic("MMU0001").WithLocation(0).WithArguments("'walk.Ptes[3]'", "'Vm.MmuLock'", "; the re-validation nearby checks 'walk.Ptes[2]', a different entry"));

        [Fact]
        public Task KvmLoop_RootCheckedBeforeTheLoop_IsClean() => Check(@"
class Fetcher
{
    public bool Fetch(Vm vm, ref Walk walk)
    {
        int top = walk.MaxLevel;
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[top - 1], walk.Ptes[top - 1])) return false;
            for (int level = top; level > walk.Level; level--)
            {
                vm.Link(walk.Ptes[level - 1]);
                if (!Guest.Unchanged(walk.PteGpa[level - 2], walk.Ptes[level - 2])) return false;
            }

            return true;
        }
    }
}");

        [Fact]
        public Task KvmLoop_WithoutTheRootCheck_IsReportedAtTheUse() => Verify.Analyzer(Prelude.Wrap(@"
class Fetcher
{
    public bool Fetch(Vm vm, ref Walk walk)
    {
        int top = walk.MaxLevel;
        lock (vm.MmuLock)
        {
            for (int level = top; level > walk.Level; level--)
            {
                vm.Link({|#0:walk.Ptes[level - 1]|});
                if (!Guest.Unchanged(walk.PteGpa[level - 2], walk.Ptes[level - 2])) return false;
            }

            return true;
        }
    }
}"), Verify.Diagnostic("MMU0001").WithLocation(0).WithArguments("'walk.Ptes[level - 1]'", "'Vm.MmuLock'", "; the re-validation nearby checks 'walk.Ptes[level - 2]', a different entry"));

        [Fact]
        public Task ConstantBoundLoop_RootChecked_IsClean() => Check(@"
class Fetcher
{
    public bool Fetch(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[3], walk.Ptes[3])) return false;
            for (int level = 4; level > 1; level--)
            {
                vm.Link(walk.Ptes[level - 1]);
                if (!Guest.Unchanged(walk.PteGpa[level - 2], walk.Ptes[level - 2])) return false;
            }

            vm.SetLeaf(walk.Ptes[0], 7);
            return true;
        }
    }
}");

        [Fact]
        public Task ConstantBoundLoop_CheckingTheParentInsteadOfTheChild_IsReported() => Verify.Analyzer(Prelude.Wrap(@"
class Fetcher
{
    public bool Fetch(Vm vm, ref Walk walk)
    {
        lock (vm.MmuLock)
        {
            if (!Guest.Unchanged(walk.PteGpa[3], walk.Ptes[3])) return false;
            for (int level = 4; level > 1; level--)
            {
                vm.Link({|#0:walk.Ptes[level - 1]|});
                if (!Guest.Unchanged(walk.PteGpa[level - 1], walk.Ptes[level - 1])) return false;
            }

            return true;
        }
    }
}"), Verify.Diagnostic("MMU0001").WithLocation(0).WithArguments("'walk.Ptes[level - 1]' (= 'walk.Ptes[2]')", "'Vm.MmuLock'", "; it is re-validated only on some paths, or after this use"));
    }
}
