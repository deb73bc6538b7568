using System;
using System.Collections.Generic;
using System.Linq;

namespace ShadowMmu.Benchmarks.Walks;

/// <summary>Where the walked addresses come from.</summary>
public enum WalkPattern
{
    /// <summary>64 pages in four clusters (code, heap, libraries, stack), their entries spread over the cache sets: fits in L1.</summary>
    Hot,

    /// <summary>Every page of a large mapped region in address order, the cursor going on from batch to batch.</summary>
    Sequential,

    /// <summary>The same pages in a random order (a permutation precomputed at setup).</summary>
    Random,
}

/// <summary>How consecutive walks relate.</summary>
public enum WalkDependency
{
    /// <summary>Each address depends on the previous walk's physical address: the walks' latency.</summary>
    Serialized,

    /// <summary>Addresses straight from the array: the out-of-order core overlaps walks, the throughput.</summary>
    Independent,
}

/// <summary>A paging mode and a page size, with the large region its sequential and random patterns cover.</summary>
/// <param name="Name">The benchmark parameter, e.g. <c>long4-4K</c>.</param>
/// <param name="Mode">The paging mode's name.</param>
/// <param name="PageSize">Bytes of the pages walked to.</param>
/// <param name="LeafLevel">The level whose entry maps the page.</param>
/// <param name="LargeLog2">log2 of the pages in the large region.</param>
/// <param name="LargeBase">First linear address of the large region.</param>
internal sealed record WalkCase(string Name, string Mode, ulong PageSize, int LeafLevel, int LargeLog2, ulong LargeBase)
{
    /// <summary>The parameter values, in the order tables show them.</summary>
    public const string Legacy32_4K = "legacy32-4K", Legacy32_4M = "legacy32-4M", Pae_4K = "pae-4K", Pae_2M = "pae-2M",
        Long4_4K = "long4-4K", Long4_2M = "long4-2M", Long4_1G = "long4-1G", Long5_4K = "long5-4K", Long5_2M = "long5-2M", Long5_1G = "long5-1G",
        Ept4_4K = "ept4-4K", Ept4_2M = "ept4-2M", Ept4_1G = "ept4-1G", Ept5_4K = "ept5-4K", Ept5_2M = "ept5-2M", Ept5_1G = "ept5-1G";

    private const ulong K4 = 0x1000, M2 = 0x20_0000, M4 = 0x40_0000, G1 = 0x4000_0000;

    /// <summary>
    /// Every case. 32-bit and PAE paging map their whole 4 GiB linear space; 4-level and 5-level paging map 32 GiB of
    /// 4 KiB pages (64 MiB of page tables, twice the L3), 4 TiB of 2 MiB pages (16 MiB of directories) and 64 TiB of
    /// 1 GiB pages. The EPT cases walk guest-physical addresses with the same layout as 4- and 5-level paging (the same
    /// bases, all below 2^47: valid for ept4's 48 and ept5's 57 translated bits).
    /// </summary>
    public static readonly IReadOnlyList<WalkCase> All = new WalkCase[]
    {
        new(Legacy32_4K, "legacy32", K4, 1, 20, 0),
        new(Legacy32_4M, "legacy32", M4, 2, 10, 0),
        new(Pae_4K, "pae", K4, 1, 20, 0),
        new(Pae_2M, "pae", M2, 2, 11, 0),
        new(Long4_4K, "long4", K4, 1, 23, 0x100_0000_0000),
        new(Long4_2M, "long4", M2, 2, 21, 0x400_0000_0000),
        new(Long4_1G, "long4", G1, 3, 16, 0),
        new(Long5_4K, "long5", K4, 1, 23, 0x100_0000_0000),
        new(Long5_2M, "long5", M2, 2, 21, 0x400_0000_0000),
        new(Long5_1G, "long5", G1, 3, 16, 0),
        new(Ept4_4K, "ept4", K4, 1, 23, 0x100_0000_0000),
        new(Ept4_2M, "ept4", M2, 2, 21, 0x400_0000_0000),
        new(Ept4_1G, "ept4", G1, 3, 16, 0),
        new(Ept5_4K, "ept5", K4, 1, 23, 0x100_0000_0000),
        new(Ept5_2M, "ept5", M2, 2, 21, 0x400_0000_0000),
        new(Ept5_1G, "ept5", G1, 3, 16, 0),
    };

    /// <summary>The modes, in the order tables show them.</summary>
    public static readonly IReadOnlyList<string> Modes = new[] { "legacy32", "pae", "long4", "long5", "ept4", "ept5" };

    /// <summary>The case named <paramref name="name"/>.</summary>
    public static WalkCase Get(string name) =>
        All.FirstOrDefault(c => c.Name == name) ?? throw new ArgumentException($"No walk case is named '{name}'.", nameof(name));

    /// <summary>The mode's facts.</summary>
    public PagingModeInfo Info => PagingModes.All.Single(m => m.Name == Mode);

    /// <summary>Bytes per entry.</summary>
    public int EntryBytes => Mode == "legacy32" ? 4 : 8;

    /// <summary>True for the EPT modes (guest-physical to host-physical).</summary>
    public bool IsEpt => Mode is "ept4" or "ept5";

    /// <summary>
    /// The case whose floor makes the same dependent loads: an EPT walk reads the same chain as the 4- or 5-level
    /// paging walk of that page size (9 index bits per level from bit 12, the next table in bits 51:12).
    /// </summary>
    public string FloorCase => IsEpt ? "long" + Name[3..] : Name;

    /// <summary>True for the 32-bit linear-address modes.</summary>
    public bool Is32Bit => Mode is "legacy32" or "pae";

    /// <summary>
    /// The processor state walked, a current Linux guest's: CR0.WP, SMEP, SMAP, NX, and in long mode protection keys
    /// with Linux's default PKRU (every key but 0 access-disabled). For EPT, a KVM host's: EPTP with the page-walk length
    /// and A/D flags on, no mode-based execute control, the default MAXPHYADDR and every VMX capability (execute-only
    /// entries, 1 GiB pages).
    /// </summary>
    public CpuState StateFor(ulong root) => Mode switch
    {
        "ept4" => new CpuState(0, 0, 0, 0, Eptp: EptPointer.Make(root, 4, accessedDirty: true)),
        "ept5" => new CpuState(0, 0, 0, 0, Eptp: EptPointer.Make(root, 5, accessedDirty: true)),
        "legacy32" => new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, root, Cr4.PSE | Cr4.SMEP | Cr4.SMAP, 0),
        "pae" => new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, root, Cr4.PAE | Cr4.SMEP | Cr4.SMAP, Efer.NXE),
        "long4" => new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, root, Cr4.PAE | Cr4.SMEP | Cr4.SMAP | Cr4.PKE, Efer.LME | Efer.LMA | Efer.NXE, Pkru: 0x5555_5554),
        _ => new CpuState(Cr0.PG | Cr0.PE | Cr0.WP, root, Cr4.PAE | Cr4.LA57 | Cr4.SMEP | Cr4.SMAP | Cr4.PKE, Efer.LME | Efer.LMA | Efer.NXE, Pkru: 0x5555_5554),
    };

    /// <inheritdoc/>
    public override string ToString() => Name;
}
