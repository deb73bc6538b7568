using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using ShadowMmu.Dumps;
using ShadowMmu.Tests.Dumps;

namespace ShadowMmu.Tests.Roots;

/// <summary>
/// A small guest built in memory the way an operating system builds its address spaces: a kernel's top table that
/// maps a kernel half (2 MiB or 4 MiB pages and a page table of 4 KiB pages), and process tables that copy the
/// kernel's upper entries and map user pages of their own, for any x86 mode.
/// </summary>
internal sealed class SyntheticGuest
{
    public const ulong MemorySize = 32UL << 20;

    private SyntheticGuest(PagingModeInfo mode, byte[] image, ulong kernelRoot, ulong[] processRoots)
    {
        Mode = mode;
        Image = image;
        KernelRoot = kernelRoot;
        ProcessRoots = processRoots;
    }

    public PagingModeInfo Mode { get; }

    /// <summary>The guest's memory, byte N at guest-physical N.</summary>
    public byte[] Image { get; }

    public ulong KernelRoot { get; }

    public ulong[] ProcessRoots { get; }

    /// <summary>Every root (kernel first).</summary>
    public IEnumerable<ulong> Roots => ProcessRoots.Prepend(KernelRoot);

    public static PagingModeInfo ModeNamed(string name) => PagingModes.All.Single(m => m.Name == name);

    /// <summary>
    /// Builds the guest: tables from 1 MiB up, the kernel's pages at 8 MiB, user pages at 16 MiB; a PAE process's PDPT
    /// is moved to a 32-byte slot inside a page, as Linux allocates them.
    /// </summary>
    public static SyntheticGuest Build(string modeName, int processes, bool selfMap = false)
    {
        PagingModeInfo mode = ModeNamed(modeName);
        using GuestMemory memory = GuestMemory.Allocate(MemorySize);
        ulong next = 0x100000;
        PageTableBuilder NewTables()
        {
            var builder = new PageTableBuilder(memory, mode, next, next + 0x40000);
            next += 0x40000;
            return builder;
        }

        ulong kernelBase = KernelBase(modeName);
        ulong largePage = modeName == "legacy32" ? 4UL << 20 : 2UL << 20;
        PageTableBuilder kernel = NewTables();
        for (ulong i = 0; i < 2; i++)
        {
            kernel.Map(kernelBase + (i * largePage), 0x800000 + (i * largePage), largePage, 0x62);
        }

        for (ulong i = 0; i < 96; i++)
        {
            kernel.Map(kernelBase + (4 * largePage) + (i * 0x1000), 0x800000 + (i * 0x1000), 0x1000, 0x62);
        }

        int entryBytes = mode.EntryBytes;
        int rootEntries = modeName == "pae" ? 4 : 4096 / entryBytes;
        int firstKernelEntry = modeName == "pae" ? 3 : modeName == "legacy32" ? 768 : 256;
        var roots = new ulong[processes];
        for (int p = 0; p < processes; p++)
        {
            PageTableBuilder process = NewTables();
            for (ulong i = 0; i < (ulong)(8 + p); i++)
            {
                process.Map(0x400000 + (i * 0x1000), 0x1000000 + ((ulong)p << 20) + (i * 0x1000), 0x1000, 0x7);
            }

            for (int e = firstKernelEntry; e < rootEntries; e++)
            {
                ulong at = (ulong)(e * entryBytes);
                memory.WriteEntry(process.Root + at, memory.ReadEntry(kernel.Root + at, entryBytes), entryBytes);
            }

            roots[p] = process.Root;
            if (modeName == "pae")
            {
                // Linux's PDPTs come from a slab: 32-byte aligned, not page aligned.
                ulong slot = process.Root + 0x7a0 + ((ulong)p * 0x20);
                var pdpt = new byte[32];
                memory.Read(process.Root, pdpt);
                memory.Write(slot, pdpt);
                memory.Write(process.Root, new byte[32]);
                roots[p] = slot;
            }
        }

        if (selfMap)
        {
            // Windows' self-map: one top-level entry references the table itself (x64: index 0x1ed in older releases).
            memory.WriteEntry(kernel.Root + (0x1ed * 8), kernel.Root | 0x63, 8);
        }

        var image = new byte[MemorySize];
        memory.Read(0, image);
        return new SyntheticGuest(mode, image, kernel.Root, roots);
    }

    /// <summary>Where the guest's kernel lives: the upper half of 4- and 5-level paging, 0xC0000000 for 32-bit guests.</summary>
    public static ulong KernelBase(string modeName) => modeName switch
    {
        "long4" => 0xffff800000000000,
        "long5" => 0xff00000000000000,
        _ => 0xC0000000,
    };

    /// <summary>Opens the image as a raw dump, from memory.</summary>
    public MemoryDump OpenRaw() => MemoryDump.Open(new MemorySource($"{Mode.Name}.raw", Image), null);

    /// <summary>An ELF core of the image with a VMCOREINFO note holding <paramref name="vmcoreinfo"/>.</summary>
    public MemoryDump OpenElf(ushort machine, string vmcoreinfo) =>
        MemoryDump.Open(new MemorySource($"{Mode.Name}.elf", DumpWriters.Elf(true, machine, Note("VMCOREINFO", 0, Encoding.ASCII.GetBytes(vmcoreinfo)), new[] { new DumpWriters.Range(0, Image) }, pageAligned: true)), null);

    /// <summary>An ELF note: name and descriptor, each padded to 4 bytes.</summary>
    public static byte[] Note(string name, uint type, byte[] desc)
    {
        byte[] nameBytes = Encoding.ASCII.GetBytes(name + "\0");
        int nameLength = (nameBytes.Length + 3) & ~3, descLength = (desc.Length + 3) & ~3;
        var note = new byte[12 + nameLength + descLength];
        BinaryPrimitives.WriteUInt32LittleEndian(note, (uint)nameBytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(4), (uint)desc.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(note.AsSpan(8), type);
        nameBytes.CopyTo(note, 12);
        desc.CopyTo(note, 12 + nameLength);
        return note;
    }
}
