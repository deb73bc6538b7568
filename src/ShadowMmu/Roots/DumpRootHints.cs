using System;
using System.Collections.Generic;
using System.Globalization;
using ShadowMmu.Dumps;

namespace ShadowMmu.Roots;

/// <summary>A root the dump itself names: VMCOREINFO's kernel root or a CPU's CR3.</summary>
internal sealed record NamedRoot(ulong Root, TableFormat Format, RootEvidence Evidence, int? Cpu);

/// <summary>
/// What a dump says about its own roots and paging mode, before any table is read:
/// <list type="bullet">
/// <item>VMCOREINFO (QEMU's <c>-device vmcoreinfo</c>, a kernel's own crash dump). x86-64 kernels write
/// <c>SYMBOL(init_top_pgt)</c> (<c>init_level4_pgt</c> before 4.13), <c>NUMBER(phys_base)</c> and, since 4.17,
/// <c>NUMBER(pgtable_l5_enabled)</c>; the symbol is the run-time address, KASLR slide included (<c>KERNELOFFSET</c> is
/// already in it and must not be added again), in the kernel's text mapping, so its physical address is
/// symbol − __START_KERNEL_map (0xffffffff80000000) + phys_base (printed with %ld: negative when the kernel runs below
/// where it was linked, as KASLR moves it). i386 kernels write <c>SYMBOL(swapper_pg_dir)</c>, in the direct mapping at
/// PAGE_OFFSET (0xC0000000 in Debian's and most kernels; the other VMSPLIT choices are tried when that misses), and
/// <c>CONFIG_X86_PAE=y</c> with PAE.</item>
/// <item>A CPU note's control registers (QEMU's ELF and kdump output): CR3, and the mode CR0, CR4 and the dump's
/// machine select (EFER is not in the note: long mode when the machine is x86-64 or CS is a 64-bit segment).</item>
/// </list>
/// </summary>
internal static class DumpRootHints
{
    /// <summary>__START_KERNEL_map: where x86-64 kernels map their image.</summary>
    public const ulong StartKernelMap = 0xffffffff80000000;

    /// <summary>i386 PAGE_OFFSET choices (CONFIG_VMSPLIT_3G, 3G_OPT, 2G, 2G_OPT, 1G), the default first.</summary>
    private static readonly ulong[] PageOffsets = { 0xC0000000, 0xB0000000, 0x80000000, 0x78000000, 0x40000000 };

    /// <summary>The modes the dump says its guest used, and why; empty when it says nothing (raw, LiME).</summary>
    public static List<(TableFormat Format, string Why)> Modes(MemoryDump dump)
    {
        var modes = new List<(TableFormat, string)>();
        if (dump.VmcoreInfo is { } info)
        {
            if (IsX86_64(info))
            {
                bool five = info.TryGetNumber("pgtable_l5_enabled", out long l5) && l5 != 0;
                modes.Add(five
                    ? (TableFormat.Long5, "VMCOREINFO NUMBER(pgtable_l5_enabled)=1")
                    : (TableFormat.Long4, info.Entries.ContainsKey("NUMBER(pgtable_l5_enabled)") ? "VMCOREINFO NUMBER(pgtable_l5_enabled)=0" : "VMCOREINFO of an x86-64 kernel without 5-level paging"));
            }
            else if (IsI386(info, dump))
            {
                bool pae = info.Entries.TryGetValue("CONFIG_X86_PAE", out string? value) && value == "y";
                modes.Add(pae
                    ? (TableFormat.Pae, "VMCOREINFO CONFIG_X86_PAE=y")
                    : (TableFormat.Legacy32, "VMCOREINFO of an i386 kernel without CONFIG_X86_PAE"));
            }
        }

        foreach (DumpCpuState cpu in dump.Cpus)
        {
            if (CpuMode(dump, cpu) is { } format && !modes.Exists(m => m.Item1 == format))
            {
                modes.Add((format, $"CPU {cpu.Index.ToString(CultureInfo.InvariantCulture)}'s {CpuModeWhy(format)}"));
            }
        }

        return modes;
    }

    /// <summary>The roots the dump names: VMCOREINFO's (when its address lies in the dump) and each CPU's CR3.</summary>
    public static List<NamedRoot> Roots(MemoryDump dump, HeldMemory held)
    {
        var roots = new List<NamedRoot>();
        if (dump.VmcoreInfo is { } info)
        {
            if (IsX86_64(info) && KernelSymbol(info) is (string name, ulong symbol) && symbol >= StartKernelMap)
            {
                info.TryGetNumber("phys_base", out long physBase);
                ulong root = unchecked(symbol - StartKernelMap + (ulong)physBase) & ~0xFFFUL;
                bool five = info.TryGetNumber("pgtable_l5_enabled", out long l5) && l5 != 0;
                roots.Add(new NamedRoot(root, five ? TableFormat.Long5 : TableFormat.Long4, new RootEvidence(RootEvidenceKind.Vmcoreinfo, $"VMCOREINFO SYMBOL({name})"), null));
            }
            else if (IsI386(info, dump) && info.TryGetSymbol("swapper_pg_dir", out ulong swapper))
            {
                bool pae = info.Entries.TryGetValue("CONFIG_X86_PAE", out string? value) && value == "y";
                TableFormat format = pae ? TableFormat.Pae : TableFormat.Legacy32;
                foreach (ulong pageOffset in PageOffsets)
                {
                    ulong root = swapper - pageOffset;
                    if (swapper >= pageOffset && held.Holds(root, (ulong)format.RootBytes) && LooksLikeRoot(held, format, root))
                    {
                        string offset = pageOffset == PageOffsets[0] ? string.Empty : $" (PAGE_OFFSET 0x{pageOffset:x})";
                        roots.Add(new NamedRoot(root, format, new RootEvidence(RootEvidenceKind.Vmcoreinfo, $"VMCOREINFO SYMBOL(swapper_pg_dir){offset}"), null));
                        break;
                    }
                }
            }
        }

        foreach (DumpCpuState cpu in dump.Cpus)
        {
            if (CpuMode(dump, cpu) is { } format)
            {
                ulong cr3 = (cpu.Cr4 & Cr4.PCIDE) != 0 ? cpu.Cr3 & ~0xFFFUL : cpu.Cr3;
                string text = $"CPU {cpu.Index.ToString(CultureInfo.InvariantCulture)}'s CR3";
                roots.Add(new NamedRoot(cr3 & format.RootMask, format, new RootEvidence(RootEvidenceKind.CpuRegister, text), cpu.Index));
            }
        }

        return roots;
    }

    /// <summary>The mode a CPU note's registers select, or null when paging is off or the note has no control registers.</summary>
    private static TableFormat? CpuMode(MemoryDump dump, DumpCpuState cpu)
    {
        if (!cpu.HasControlRegisters || (cpu.Cr0 & Cr0.PG) == 0)
        {
            return null;
        }

        if ((cpu.Cr4 & Cr4.PAE) == 0)
        {
            return TableFormat.Legacy32;
        }

        if (dump.Machine == DumpMachine.X86_64 || cpu.Cs.Long)
        {
            return (cpu.Cr4 & Cr4.LA57) != 0 ? TableFormat.Long5 : TableFormat.Long4;
        }

        return TableFormat.Pae;
    }

    private static string CpuModeWhy(TableFormat format) => format.Mode.Name switch
    {
        "long5" => "CR4.LA57",
        "long4" => "long mode without CR4.LA57",
        "pae" => "CR4.PAE outside long mode",
        _ => "CR0.PG without CR4.PAE",
    };

    private static (string Name, ulong Address)? KernelSymbol(VmcoreInfo info)
    {
        foreach (string name in new[] { "init_top_pgt", "init_level4_pgt", "swapper_pg_dir" })
        {
            if (info.TryGetSymbol(name, out ulong address))
            {
                return (name, address);
            }
        }

        return null;
    }

    // x86-64 kernels are the ones that write init_top_pgt (init_level4_pgt before 4.13) or phys_base.
    private static bool IsX86_64(VmcoreInfo info) =>
        info.TryGetSymbol("init_top_pgt", out _) || info.TryGetSymbol("init_level4_pgt", out _) || info.TryGetNumber("phys_base", out _);

    // An i386 kernel: swapper_pg_dir in 32 bits, and a dump that is not of a 64-bit CPU.
    private static bool IsI386(VmcoreInfo info, MemoryDump dump) =>
        dump.Machine != DumpMachine.X86_64 && info.TryGetSymbol("swapper_pg_dir", out ulong swapper) && swapper <= uint.MaxValue;

    private static bool LooksLikeRoot(HeldMemory held, TableFormat format, ulong root) => format.RootBytes == 32
        ? PageScanner.IsPdpt(held, format, held.Words(root, 4))
        : PageScanner.IsNarrowRoot(held, format, held.Dwords(root, 1024));
}
