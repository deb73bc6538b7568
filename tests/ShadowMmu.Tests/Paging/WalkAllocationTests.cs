using System;
using System.Linq;
using Xunit;

namespace ShadowMmu.Tests.Paging;

/// <summary>The walk is a hot path: it allocates nothing, whether it translates, faults, or sets A/D flags.</summary>
public class WalkAllocationTests
{
    [Theory]
    [InlineData("legacy32")]
    [InlineData("pae")]
    [InlineData("long4")]
    [InlineData("long5")]
    public void WalkAddr_allocates_zero_bytes_in_steady_state(string modeName)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        using GuestMemory memory = GuestMemory.Allocate(0x40_0000);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x10_0000);
        builder.Map(0x40_0000, 0x20_0000, 0x1000, 0x7);
        builder.Map(0x40_1000, 0x20_1000, 0x1000, 0x5);
        CpuState cpu = StateFor(modeName, builder.Root);
        IGuestPageWalker walker = PagingModes.CreateWalker(memory, cpu);
        var walk = default(GuestWalk);
        ulong leaf = builder.EntryAddress(0x40_0000, 1)!.Value;

        // Translations that set A and D (cleared again each time), a protection fault, a not-present fault.
        void Round()
        {
            for (int i = 0; i < 1000; i++)
            {
                Assert.True(walker.WalkAddr(ref walk, 0x40_0123, AccessKind.Write, 3, false));
                memory.WriteEntry(leaf, memory.ReadEntry(leaf, mode.EntryBytes) & ~0x60UL, mode.EntryBytes);
                Assert.False(walker.WalkAddr(ref walk, 0x40_1000, AccessKind.Write, 3, false));
                Assert.False(walker.WalkAddr(ref walk, 0x80_0000, AccessKind.Read, 0, false));
            }
        }

        Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    internal static CpuState StateFor(string mode, ulong root) => mode switch
    {
        "legacy32" => new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, root, Cr4.PSE, 0),
        "pae" => new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, root, Cr4.PAE, Efer.NXE),
        "long4" => new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, root, Cr4.PAE, Efer.LME | Efer.LMA | Efer.NXE),
        "ept4" => new CpuState(0, 0, 0, 0, Eptp: EptPointer.Make(root, 4, accessedDirty: true)),
        "ept5" => new CpuState(0, 0, 0, 0, Eptp: EptPointer.Make(root, 5, accessedDirty: true)),
        _ => new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, root, Cr4.PAE | Cr4.LA57, Efer.LME | Efer.LMA | Efer.NXE),
    };
}
