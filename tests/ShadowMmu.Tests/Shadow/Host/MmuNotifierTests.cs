using System;
using System.Linq;
using ShadowMmu.Tests.Paging;
using Xunit;

namespace ShadowMmu.Tests.Shadow.Host;

/// <summary>The host side: host frames behind guest frames, and KVM's two-step invalidation with its sequence.</summary>
public class MmuNotifierTests
{
    private static (GuestMemory Memory, Vm Vm, Vcpu Vcpu) Guest()
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == "long4");
        GuestMemory memory = GuestMemory.Allocate(0x80_0000);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x20_0000);
        for (ulong page = 0; page < 16; page++)
        {
            builder.Map(0x40_0000 + (page << 12), 0x30_0000 + (page << 12), 0x1000, 0x7 | 0x60);
        }

        var vm = new Vm(memory);
        return (memory, vm, vm.AddVcpu(WalkAllocationTests.StateFor("long4", builder.Root)));
    }

    [Fact]
    public void Shadow_leaves_name_host_frames_and_a_move_zaps_them()
    {
        (GuestMemory memory, Vm vm, Vcpu vcpu) = Guest();
        using (memory)
        {
            ulong gfn = 0x300;
            ulong pfn = vm.Host.PfnOf(gfn);
            Assert.Equal(HostFrames.FirstHostFrame + gfn, pfn);
            Assert.Equal(AccessOutcome.Translated, vcpu.Access(0x40_0123, AccessKind.Read, 3).Outcome);
            ShadowPage leaf = ScenarioGuest.LeafPage(vcpu, 0x40_0000, out int index)!;
            Assert.Equal(pfn, Spte.Pfn(leaf[index]));
            Assert.Equal(gfn, leaf.GfnAt(index));

            vm.MoveGuestFrames(gfn, 1);

            Assert.False(Spte.IsPresent(leaf[index]));
            Assert.NotEqual(pfn, vm.Host.PfnOf(gfn));
            Assert.Equal(HostFrames.NoGuestFrame, vm.Host.GfnOf(pfn));
            Assert.Equal(1, vm.MmuInvalidateSeq);
            AccessResult again = vcpu.Access(0x40_0123, AccessKind.Read, 3);
            Assert.Equal(0x30_0123UL, again.Gpa);
            Assert.Equal(vm.Host.PfnOf(gfn), Spte.Pfn(leaf[index]));
            Assert.True(vm.Audit().Clean);
        }
    }

    [Fact]
    public void A_reclaimed_frame_faults_back_in_and_prefetch_skips_it()
    {
        (GuestMemory memory, Vm vm, Vcpu vcpu) = Guest();
        using (memory)
        {
            vm.ReclaimGuestFrames(0x301, 1);
            Assert.Equal(HostFrames.None, vm.Host.PfnOf(0x301));

            // The fault on 0x400000 prefetches its group, and stops at the reclaimed neighbour.
            vcpu.Access(0x40_0000, AccessKind.Read, 3);
            ShadowPage leaf = ScenarioGuest.LeafPage(vcpu, 0x40_0000, out _)!;
            Assert.False(Spte.IsPresent(leaf[1]));
            Assert.False(Spte.IsPresent(leaf[2]));

            // Its own fault brings it back, to a new host frame.
            Assert.Equal(0x30_1000UL, vcpu.Access(0x40_1000, AccessKind.Read, 3).Gpa);
            Assert.NotEqual(HostFrames.None, vm.Host.PfnOf(0x301));
            Assert.True(vm.Audit().Clean);
        }
    }

    [Fact]
    public void Retry_gfn_follows_the_sequence_and_the_range_in_progress()
    {
        (GuestMemory memory, Vm vm, _) = Guest();
        using (memory)
        {
            long seq = vm.SnapshotMmuInvalidateSeq();
            vm.InvalidateRangeStart(0x100, 0x110);
            vm.InvalidateRangeStart(0x200, 0x201);
            using (vm.MmuLock.Enter())
            {
                // Concurrent ranges merge: everything between them counts as in progress.
                Assert.True(vm.MmuInvalidateRetryGfn(seq, 0x100));
                Assert.True(vm.MmuInvalidateRetryGfn(seq, 0x150));
                Assert.True(vm.MmuInvalidateRetryGfn(seq, 0x200));
                Assert.False(vm.MmuInvalidateRetryGfn(seq, 0x201));
                Assert.False(vm.MmuInvalidateRetryGfn(seq, 0xff));
            }

            vm.InvalidateRangeEnd();
            using (vm.MmuLock.Enter())
            {
                // One ended: the sequence moved, so every snapshot before it is stale.
                Assert.True(vm.MmuInvalidateRetryGfn(seq, 0x10));
                Assert.True(vm.MmuInvalidateRetryGfn(vm.MmuInvalidateSeq, 0x105));
                Assert.False(vm.MmuInvalidateRetryGfn(vm.MmuInvalidateSeq, 0x10));
            }

            vm.InvalidateRangeEnd();
            using (vm.MmuLock.Enter())
            {
                Assert.False(vm.MmuInvalidateRetryGfn(vm.MmuInvalidateSeq, 0x105));
            }

            Assert.Equal(2, vm.MmuInvalidateSeq);
            Assert.Throws<InvalidOperationException>(() => vm.InvalidateRangeEnd());
        }
    }
}
