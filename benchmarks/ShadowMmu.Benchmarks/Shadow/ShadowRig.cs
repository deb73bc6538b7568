using System;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;

namespace ShadowMmu.Benchmarks.Shadow;

/// <summary>The generated walker and Fetch of one mode, on its sealed type (no interface dispatch).</summary>
internal interface IModeOps
{
    bool Walk(ref GuestWalk walk, ulong va, AccessKind kind, int cpl, bool ac);

    FetchOutcome Fetch(Vcpu vcpu, ref GuestWalk walk, uint leafAccess, ulong pfn, RecheckOrder order, IFetchHooks? hooks);
}

internal struct Legacy32Ops : IModeOps
{
    public Legacy32Walker W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Walk(ref GuestWalk walk, ulong va, AccessKind kind, int cpl, bool ac) => W.WalkAddr(ref walk, va, kind, cpl, ac);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FetchOutcome Fetch(Vcpu vcpu, ref GuestWalk walk, uint leafAccess, ulong pfn, RecheckOrder order, IFetchHooks? hooks) => W.Fetch(vcpu, ref walk, leafAccess, pfn, order, hooks);
}

internal struct PaeOps : IModeOps
{
    public PaeWalker W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Walk(ref GuestWalk walk, ulong va, AccessKind kind, int cpl, bool ac) => W.WalkAddr(ref walk, va, kind, cpl, ac);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FetchOutcome Fetch(Vcpu vcpu, ref GuestWalk walk, uint leafAccess, ulong pfn, RecheckOrder order, IFetchHooks? hooks) => W.Fetch(vcpu, ref walk, leafAccess, pfn, order, hooks);
}

internal struct Long4Ops : IModeOps
{
    public Long4Walker W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Walk(ref GuestWalk walk, ulong va, AccessKind kind, int cpl, bool ac) => W.WalkAddr(ref walk, va, kind, cpl, ac);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FetchOutcome Fetch(Vcpu vcpu, ref GuestWalk walk, uint leafAccess, ulong pfn, RecheckOrder order, IFetchHooks? hooks) => W.Fetch(vcpu, ref walk, leafAccess, pfn, order, hooks);
}

internal struct Long5Ops : IModeOps
{
    public Long5Walker W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Walk(ref GuestWalk walk, ulong va, AccessKind kind, int cpl, bool ac) => W.WalkAddr(ref walk, va, kind, cpl, ac);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FetchOutcome Fetch(Vcpu vcpu, ref GuestWalk walk, uint leafAccess, ulong pfn, RecheckOrder order, IFetchHooks? hooks) => W.Fetch(vcpu, ref walk, leafAccess, pfn, order, hooks);
}

internal struct Ept4Ops : IModeOps
{
    public Ept4Walker W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Walk(ref GuestWalk walk, ulong va, AccessKind kind, int cpl, bool ac) => W.WalkAddr(ref walk, va, kind, cpl, ac);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FetchOutcome Fetch(Vcpu vcpu, ref GuestWalk walk, uint leafAccess, ulong pfn, RecheckOrder order, IFetchHooks? hooks) => W.Fetch(vcpu, ref walk, leafAccess, pfn, order, hooks);
}

internal struct Ept5Ops : IModeOps
{
    public Ept5Walker W;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Walk(ref GuestWalk walk, ulong va, AccessKind kind, int cpl, bool ac) => W.WalkAddr(ref walk, va, kind, cpl, ac);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public FetchOutcome Fetch(Vcpu vcpu, ref GuestWalk walk, uint leafAccess, ulong pfn, RecheckOrder order, IFetchHooks? hooks) => W.Fetch(vcpu, ref walk, leafAccess, pfn, order, hooks);
}

/// <summary>
/// A VM with one or two vCPUs in a steady state: 64 user pages mapped with 4 KiB pages in the guest (eight groups of
/// eight, each group one prefetch's worth), every shadow page already made, every leaf already faulted in once. For
/// ept4 and ept5 the tables are L1's EPT tables (RWX, write-back, A/D set) and the vCPU runs an L2 guest whose
/// addresses are guest-physical: the shadow MMU shadows EPT.
/// </summary>
internal sealed class ShadowRig
{
    /// <summary>The first mapped page; vCPU v faults on the pages of groups 4v..4v+3.</summary>
    public const ulong Base = 0x40_0000;

    /// <summary>Pages mapped.</summary>
    public const int Pages = 64;

    /// <summary>Where the guest maps the page table of <see cref="Base"/>'s pages (the unsync benchmarks store into it there).</summary>
    public const ulong TableMapVa = 0x8000_0000;

    /// <summary>
    /// A rig of <paramref name="vcpus"/> vCPUs; with <paramref name="ownAddressSpaces"/>, every vCPU after the first runs in
    /// an address space of its own (its own guest tables and data frames, so its own shadow pages), as issue 18's
    /// disjoint workload does; otherwise all share the first (one CR3: the same shadow pages).
    /// </summary>
    public ShadowRig(string modeName, int vcpus, bool unsync = true, bool ownAddressSpaces = false)
    {
        Mode = PagingModes.All.Single(m => m.Name == modeName);
        Memory = GuestMemory.Allocate(0x80_0000);
        var builder = new PageTableBuilder(Memory, Mode, 0x1000, 0x20_0000);
        Walks.WalkCase walkCase = Walks.WalkCase.All.First(c => c.Mode == modeName);
        for (ulong page = 0; page < Pages; page++)
        {
            builder.Map(Base + (page << 12), 0x30_0000 + (page << 12), 0x1000, Walks.WalkImage.LeafFlagsFor(walkCase), Walks.WalkImage.TableFlagsFor(walkCase));
        }

        TableGpa = builder.EntryAddress(Base, 1)!.Value & ~0xFFFUL;
        builder.Map(TableMapVa, TableGpa, 0x1000, Walks.WalkImage.LeafFlagsFor(walkCase), Walks.WalkImage.TableFlagsFor(walkCase));
        Cpu = walkCase.StateFor(builder.Root);
        Vm = new Vm(Memory) { UnsyncEnabled = unsync };
        Vcpus = new Vcpu[vcpus];
        for (int i = 0; i < vcpus; i++)
        {
            Vcpus[i] = Vm.AddVcpu(i > 0 && ownAddressSpaces ? OwnAddressSpace(walkCase, i) : Cpu);
        }

        FaultVa = Base + 0x3000 + 0x123;
        LeafGpa = builder.EntryAddress(FaultVa, 1)!.Value;
        LeafValue = Memory.ReadEntry(LeafGpa, Mode.EntryBytes);

        // Warm: every page faulted in (shadow pages made, prefetch done), every path jitted.
        for (int round = 0; round < 3; round++)
        {
            foreach (Vcpu vcpu in Vcpus)
            {
                for (ulong page = 0; page < Pages; page++)
                {
                    Check(vcpu.Access(Base + (page << 12), AccessKind.Read, 3));
                }
            }
        }
    }

    public PagingModeInfo Mode { get; }

    // vCPU i's own address space: tables from 0x40_0000 + i MiB, its pages' frames from 0x70_0000 + i * 64 pages.
    private CpuState OwnAddressSpace(Walks.WalkCase walkCase, int i)
    {
        ulong tables = 0x40_0000 + ((ulong)i << 20);
        var builder = new PageTableBuilder(Memory, Mode, tables, tables + 0x10_0000);
        for (ulong page = 0; page < Pages; page++)
        {
            ulong frame = 0x70_0000 + (((ulong)i * Pages) + page << 12);
            builder.Map(Base + (page << 12), frame, 0x1000, Walks.WalkImage.LeafFlagsFor(walkCase), Walks.WalkImage.TableFlagsFor(walkCase));
        }

        return walkCase.StateFor(builder.Root);
    }

    /// <summary>The page table that maps the <see cref="Pages"/> pages.</summary>
    public ulong TableGpa { get; }

    public GuestMemory Memory { get; }

    public CpuState Cpu { get; }

    public Vm Vm { get; }

    public Vcpu[] Vcpus { get; }

    /// <summary>The address every single-fault benchmark faults on (page 3 of group 0: seven neighbours to prefetch).</summary>
    public ulong FaultVa { get; }

    /// <summary>Its guest PTE.</summary>
    public ulong LeafGpa { get; }

    public ulong LeafValue { get; }

    /// <summary>The shadow page that holds the leaf for <paramref name="va"/> (found by walking the shadow tables).</summary>
    public ShadowPage LeafShadowPage(Vcpu vcpu, ulong va)
    {
        ShadowPage page = vcpu.RootFor(va) ?? throw new InvalidOperationException("no root");
        for (int level = page.Role.Level; level > 1; level--)
        {
            ulong link = page[Vcpu.ShadowIndex(va, level)];
            if (!Spte.IsPresent(link))
            {
                throw new InvalidOperationException($"0x{va:x} has no shadow entry at level {level}.");
            }

            page = Vm.Page(Spte.ChildId(link));
        }

        return page;
    }

    /// <summary>One vCPU's steady-state fault: INVLPG drops the shadow leaf, the access faults, walks, fetches, retries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InvlpgAndFault(Vcpu vcpu, ulong va)
    {
        vcpu.Invlpg(va);
        vcpu.Access(va, AccessKind.Read, 3);
    }

    public static void Check(AccessResult result)
    {
        if (result.Outcome != AccessOutcome.Translated)
        {
            throw new InvalidOperationException($"The access did not translate: {result}.");
        }
    }

    /// <summary>
    /// The rights of the shadow leaf, as the vCPU's fault path computes them (Vcpu.LeafAccess, KVM's protect_clean_gpte):
    /// a clean page read is mapped without W.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint LeafAccess(in GuestWalk walk, in CpuState cpu, bool write, int cpl)
    {
        // EPT rights arrive as ACC (read as U) and the shadow keeps R, W, X; EPT has no CR0.WP to honour, and its dirty
        // flag is bit 9 (only with EPT A/D flags on).
        bool ept = cpu.Eptp != 0;
        ulong dirty = ept ? ((cpu.Eptp & EptPointer.AccessedDirty) != 0 ? 0x200UL : 0) : 0x40UL;
        uint access = walk.PteAccess & AccessRights.All;
        bool wp = (cpu.Cr0 & Cr0.WP) != 0 || ept;
        if (write && cpl != 3 && !wp && (access & AccessRights.Write) == 0)
        {
            access = (access | AccessRights.Write) & ~AccessRights.User;
            if ((cpu.Cr4 & Cr4.SMEP) != 0)
            {
                access &= ~AccessRights.Execute;
            }
        }
        else if (!write && dirty != 0 && (walk.Ptes[walk.Level - 1] & dirty) == 0)
        {
            access &= ~AccessRights.Write;
        }

        return access;
    }
}

/// <summary>
/// A second thread running a vCPU's faults in batches (a <see cref="BatchWorker"/>): the benchmark thread runs vCPU 0,
/// this one vCPU 1, on the same VM (they contend for the mmu_lock).
/// </summary>
internal sealed class VcpuWorker : IDisposable
{
    private readonly BatchWorker _worker;
    private int _count;

    public VcpuWorker(Vcpu vcpu, ulong firstPage) =>
        _worker = new BatchWorker($"vCPU {vcpu.Id}", () => Faults(vcpu, firstPage, _count));

    /// <summary>Starts a batch of <paramref name="count"/> faults.</summary>
    public void Start(int count)
    {
        _count = count;
        _worker.Start();
    }

    /// <summary>Waits for the batch to end.</summary>
    public void Wait() => _worker.Wait();

    public void Dispose() => _worker.Dispose();

    /// <summary>Faults on 32 pages in turn from <paramref name="firstPage"/>.</summary>
    public static void Faults(Vcpu vcpu, ulong firstPage, int count)
    {
        for (int k = 0; k < count; k++)
        {
            ShadowRig.InvlpgAndFault(vcpu, firstPage + ((ulong)(k & 31) << 12));
        }
    }
}
