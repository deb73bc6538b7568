using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using ShadowMmu.Benchmarks.Native;

namespace ShadowMmu.Benchmarks.Walks;

/// <summary>
/// Guest page tables for one case, in two copies with the same layout: <see cref="Memory"/> (a
/// <see cref="GuestMemory.FromBytes"/> copy) for the generated and reference walkers, and <see cref="Native"/> (a
/// page-aligned native buffer filled with <see cref="GuestMemory.Read"/>) for the C walkers and both floors.
/// Images are built once per process and kept: in-process runs share them between benchmarks.
/// </summary>
internal sealed unsafe class WalkImage
{
    /// <summary>Leaf flags: present, writable, user, accessed, dirty (A/D already set: walks write nothing).</summary>
    public const ulong LeafFlags = 0x67;

    /// <summary>Table flags: present, writable, user, accessed.</summary>
    public const ulong TableFlags = 0x27;

    /// <summary>EPT leaf flags: read, write, execute, write-back memory type (6 &lt;&lt; 3), accessed, dirty.</summary>
    public const ulong EptLeafFlags = 0x337;

    /// <summary>EPT table flags: read, write, execute, accessed.</summary>
    public const ulong EptTableFlags = 0x107;

    private static readonly Dictionary<(string, bool), WalkImage> Images = new();
    private static readonly Dictionary<(string, WalkPattern), VaList> Lists = new();

    private WalkImage(WalkCase walkCase, GuestMemory built, ulong root, ulong[]? hot)
    {
        Case = walkCase;
        Size = built.Size;
        Root = root;
        Cpu = walkCase.StateFor(root);
        Native = (byte*)NativeMemory.AlignedAlloc((nuint)Size, 4096);
        built.Read(0, new Span<byte>(Native, checked((int)Size)));
        Memory = GuestMemory.FromBytes(new ReadOnlySpan<byte>(Native, (int)Size));
        HotVas = hot;
        Permissions = (byte*)NativeMemory.AlignedAlloc(256, 64);
        Ctx = (CwCtx*)NativeMemory.AlignedAlloc((nuint)sizeof(CwCtx), 64);
        NativeContext.Fill(Ctx, this);
    }

    /// <summary>The case.</summary>
    public WalkCase Case { get; }

    /// <summary>Bytes of guest memory.</summary>
    public ulong Size { get; }

    /// <summary>CR3.</summary>
    public ulong Root { get; }

    /// <summary>The processor state walked.</summary>
    public CpuState Cpu { get; }

    /// <summary>The copy the managed walkers read.</summary>
    public GuestMemory Memory { get; }

    /// <summary>The copy the native walkers and the floors read.</summary>
    public byte* Native { get; }

    /// <summary>KVM's permission bitmap for the C walkers (256 bytes).</summary>
    public byte* Permissions { get; }

    /// <summary>The C walkers' context.</summary>
    public CwCtx* Ctx { get; }

    private ulong[]? HotVas { get; }

    /// <summary>The flags of a leaf entry in <paramref name="c"/>'s format (A/D set, as a warm guest has them).</summary>
    public static ulong LeafFlagsFor(WalkCase c) => c.IsEpt ? EptLeafFlags : LeafFlags;

    /// <summary>The flags of a table entry in <paramref name="c"/>'s format.</summary>
    public static ulong TableFlagsFor(WalkCase c) => c.IsEpt ? EptTableFlags : TableFlags;

    /// <summary>The image for <paramref name="walkCase"/>: the hot set's, or the large region's.</summary>
    public static WalkImage Get(WalkCase walkCase, WalkPattern pattern)
    {
        bool hot = pattern == WalkPattern.Hot;
        lock (Images)
        {
            if (!Images.TryGetValue((walkCase.Name, hot), out WalkImage? image))
            {
                image = hot ? BuildHot(walkCase) : BuildLarge(walkCase);
                Images.Add((walkCase.Name, hot), image);
            }

            return image;
        }
    }

    /// <summary>The addresses of <paramref name="pattern"/> (a power-of-two count, in native memory).</summary>
    public static VaList Addresses(WalkCase walkCase, WalkPattern pattern)
    {
        WalkImage image = Get(walkCase, pattern);
        lock (Lists)
        {
            if (!Lists.TryGetValue((walkCase.Name, pattern), out VaList? list))
            {
                list = pattern switch
                {
                    WalkPattern.Hot => VaList.From(image.HotVas!),
                    WalkPattern.Sequential => VaList.Region(walkCase, shuffle: false),
                    _ => VaList.Region(walkCase, shuffle: true),
                };
                Lists.Add((walkCase.Name, pattern), list);
            }

            return list;
        }
    }

    /// <summary>
    /// 64 user pages in four clusters, as a process's hot pages are: code, heap, shared libraries, stack. Each cluster
    /// spans 256 pages, so the upper levels share a few entries while the leaf entries land at random indices, on
    /// different cache lines and sets, as real page tables do (not all at index 0).
    /// </summary>
    private static WalkImage BuildHot(WalkCase c)
    {
        ulong[] bases64 = { 0x0000_0000_0040_0000, 0x0000_5555_5600_0000, 0x0000_7f3a_1c00_0000, 0x0000_7ffc_8000_0000 };
        ulong[] bases32 = { 0x0804_8000, 0x0900_0000, 0xb7e0_0000, 0xbf80_0000 };
        ulong[] bases = c.Is32Bit ? bases32 : bases64;
        ulong span = c.PageSize * 256;
        using GuestMemory memory = GuestMemory.Allocate(0x40_0000);
        var builder = new PageTableBuilder(memory, c.Info, 0x1000, memory.Size);
        var rng = new Random(20240601);
        var seen = new HashSet<ulong>();
        var vas = new ulong[64];
        for (int k = 0; k < vas.Length; k++)
        {
            ulong clusterBase = bases[k % bases.Length] & ~(span - 1);
            ulong page;
            do
            {
                page = clusterBase + ((ulong)rng.Next(256) * c.PageSize);
            }
            while (!seen.Add(page));

            builder.Map(page, 0x4000_0000 + ((ulong)k * c.PageSize), c.PageSize, LeafFlagsFor(c), TableFlagsFor(c));
            vas[k] = page | (((ulong)k * 0x1d8) & 0xFF8);
        }

        rng.Shuffle(vas);
        return new WalkImage(c, memory, builder.Root, vas);
    }

    /// <summary>
    /// The large region: 2^<see cref="WalkCase.LargeLog2"/> pages from <see cref="WalkCase.LargeBase"/>. The builder maps
    /// the first page of every leaf table (making the tables above it); the rest of each leaf table is filled directly.
    /// </summary>
    private static WalkImage BuildLarge(WalkCase c)
    {
        ulong pages = 1UL << c.LargeLog2;
        ulong perTable = 4096UL / (ulong)c.EntryBytes;
        ulong leafTables = Math.Max(1, pages / perTable);
        ulong tablePages = 0;
        for (ulong t = leafTables; ; t = (t + perTable - 1) / perTable)
        {
            tablePages += t + 1;
            if (t <= 1)
            {
                break;
            }
        }

        ulong size = (tablePages + 16) * 4096;
        using GuestMemory memory = GuestMemory.Allocate(size);
        var builder = new PageTableBuilder(memory, c.Info, 0x1000, size);
        ulong paLimit = c.Mode == "legacy32" ? 1UL << 32 : 1UL << 39;
        int bytes = c.EntryBytes;
        for (ulong t = 0; t < leafTables; t++)
        {
            ulong va = c.LargeBase + (t * perTable * c.PageSize);
            ulong pa = (t * perTable * c.PageSize) % paLimit;
            builder.Map(va, pa, c.PageSize, LeafFlagsFor(c), TableFlagsFor(c));
            ulong gpa = builder.EntryAddress(va, c.LeafLevel)!.Value;
            ulong first = memory.ReadEntry(gpa, bytes);
            ulong count = Math.Min(perTable, pages);
            for (ulong j = 1; j < count; j++)
            {
                memory.WriteEntry(gpa + (j * (ulong)bytes), first + (j * c.PageSize), bytes);
            }
        }

        return new WalkImage(c, memory, builder.Root, null);
    }
}

/// <summary>Linear addresses to walk, in native memory, a power-of-two count.</summary>
internal sealed unsafe class VaList
{
    private VaList(ulong* vas, int count)
    {
        Vas = vas;
        Count = count;
    }

    /// <summary>The addresses.</summary>
    public ulong* Vas { get; }

    /// <summary>How many.</summary>
    public int Count { get; }

    /// <summary>Count - 1: the cursor wraps with an AND.</summary>
    public uint Mask => (uint)Count - 1;

    /// <summary>The address at <paramref name="i"/>.</summary>
    public ulong this[int i] => Vas[i];

    public static VaList From(ulong[] vas)
    {
        var list = new VaList((ulong*)NativeMemory.AlignedAlloc((nuint)(vas.Length * sizeof(ulong)), 64), vas.Length);
        vas.CopyTo(new Span<ulong>(list.Vas, vas.Length));
        return list;
    }

    /// <summary>Every page of the case's large region, in order or in a random order (a fixed seed).</summary>
    public static VaList Region(WalkCase c, bool shuffle)
    {
        int count = 1 << c.LargeLog2;
        var list = new VaList((ulong*)NativeMemory.AlignedAlloc((nuint)count * sizeof(ulong), 4096), count);
        for (int i = 0; i < count; i++)
        {
            // An offset inside the page, so that the physical address carries one too.
            list.Vas[i] = c.LargeBase + ((ulong)i * c.PageSize) + (((ulong)i * 0x1d8) & 0xFF8);
        }

        if (shuffle)
        {
            new Random(77).Shuffle(new Span<ulong>(list.Vas, count));
        }

        return list;
    }
}
