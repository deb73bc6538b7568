using static ShadowMmu.Tests.Paging.Reference.ReferenceWalkerHarness;

namespace ShadowMmu.Tests.Paging.Reference;

/// <summary>
/// A 4-level page-table tree for the long4 tests: PML4 at 0x1000, PDPT at 0x2000, PD at 0x3000, PT at 0x4000,
/// with <see cref="Va4K"/> reaching PML4E[1], PDPTE[2], PDE[3], PTE[4].
/// </summary>
internal static class Long4Tables
{
    public const ulong Pml4 = 0x1000;
    public const ulong Pdpt = 0x2000;
    public const ulong Pd = 0x3000;
    public const ulong Pt = 0x4000;

    // Entry addresses: table + index * 8.
    public const ulong Pml4eGpa = Pml4 + (1 * 8);
    public const ulong PdpteGpa = Pdpt + (2 * 8);
    public const ulong PdeGpa = Pd + (3 * 8);
    public const ulong PteGpa = Pt + (4 * 8);

    /// <summary>PML4 index 1, PDPT index 2, PD index 3, PT index 4, offset 0x123.</summary>
    public const ulong Va4K = (1UL << 39) | (2UL << 30) | (3UL << 21) | (4UL << 12) | 0x123;

    /// <summary>A user, writable 4 KiB page at 0xABCD000.</summary>
    public const ulong UserPte = 0xABCD000 | P | RW | US;

    /// <summary>IA-32e mode with CR0.WP and EFER.NXE, MAXPHYADDR 40, every CPU feature.</summary>
    public static CpuState Cpu(ulong cr4Extra = 0, bool wp = true, bool nxe = true, uint pkru = 0, int maxPhysAddr = 40,
        CpuFeatures features = CpuFeatures.All) =>
        new(Cr0PE | Cr0PG | (wp ? Cr0WP : 0), Pml4, Cr4PAE | cr4Extra, EferLME | (nxe ? EferNXE : 0), pkru, maxPhysAddr, features);

    /// <summary>The tree down to <paramref name="pte"/>; the upper entries are user, writable tables unless given.</summary>
    public static GuestMemory Build(ulong pte = UserPte, ulong pde = Pt | P | RW | US, ulong pdpte = Pd | P | RW | US,
        ulong pml4e = Pdpt | P | RW | US)
    {
        GuestMemory memory = GuestMemory.Allocate(MemorySize);
        memory.WriteUInt64(Pml4eGpa, pml4e);
        memory.WriteUInt64(PdpteGpa, pdpte);
        memory.WriteUInt64(PdeGpa, pde);
        memory.WriteUInt64(PteGpa, pte);
        return memory;
    }
}
