using System;
using System.Buffers.Binary;
using System.Collections.Generic;

namespace ShadowMmu.Oracle.Harness;

/// <summary>Builds the bytes of the harness region for one run.</summary>
internal static class HarnessImage
{
    /// <param name="imageBytes">Size of guest-physical memory (the image), mapped 1:1 by the nested tables.</param>
    /// <param name="nestedMapped">When set, the only image pages the nested tables map: the guest's first touch
    /// of any other page leaves with a nested page fault whose EXITINFO2 is the guest-physical address.</param>
    /// <param name="guest">The guest state VMRUN loads.</param>
    public static byte[] Build(int imageBytes, IReadOnlySet<ulong>? nestedMapped, GuestSetup guest)
    {
        var region = new byte[HarnessLayout.Size];
        Span<byte> h = region;

        // Host: VMRUN; HLT.
        ReadOnlySpan<byte> host = [0x0F, 0x01, 0xD8, 0xF4];
        host.CopyTo(h);

        WriteNestedTables(h, imageBytes, nestedMapped);
        GuestCode.WriteInto(h.Slice(Offset(HarnessLayout.SupervisorCode), 4096));
        GuestCode.WriteInto(h.Slice(Offset(HarnessLayout.UserCode), 4096));
        WriteVmcb(h.Slice(Offset(HarnessLayout.Vmcb), 4096), guest);
        return region;
    }

    private static void WriteNestedTables(Span<byte> h, int imageBytes, IReadOnlySet<ulong>? nestedMapped)
    {
        const ulong B = HarnessLayout.Base;
        const ulong T = HarnessLayout.NestedTableFlags;
        Put(h, HarnessLayout.NestedPml4, B + HarnessLayout.NestedPdpt | T);
        Put(h, HarnessLayout.NestedPdpt + 0 * 8, B + HarnessLayout.NestedPdImage | T);
        Put(h, HarnessLayout.NestedPdpt + (int)((B >> 30) & 511) * 8, B + HarnessLayout.NestedPdHarness | T);

        int imagePages = imageBytes / 4096;
        for (int table = 0; table * 512 < imagePages; table++)
        {
            Put(h, HarnessLayout.NestedPdImage + table * 8, B + (ulong)(HarnessLayout.NestedPtImage + table * 4096) | T);
        }

        for (int page = 0; page < imagePages; page++)
        {
            ulong pa = (ulong)page * 4096;
            if (nestedMapped is null || nestedMapped.Contains(pa))
            {
                Put(h, HarnessLayout.NestedPtImage + page * 8, pa | HarnessLayout.NestedPageFlags);
            }
        }

        // Of the harness itself the guest sees only its two code pages.
        Put(h, HarnessLayout.NestedPdHarness + (int)((B >> 21) & 511) * 8, B + HarnessLayout.NestedPtHarness | T);
        foreach (ulong code in new[] { HarnessLayout.SupervisorCode, HarnessLayout.UserCode })
        {
            Put(h, HarnessLayout.NestedPtHarness + (int)((code >> 12) & 511) * 8, code | T);
        }
    }

    private static void WriteVmcb(Span<byte> vmcb, GuestSetup guest)
    {
        OracleCase c = guest.Case;
        vmcb[VmcbLayout.TlbControl] = 1; // flush everything on VMRUN
        Put(vmcb, VmcbLayout.NestedPagingEnable, 1);
        Put(vmcb, VmcbLayout.NestedCr3, HarnessLayout.Base + HarnessLayout.NestedPml4);

        // CPL comes from SS.DPL; no GDT is needed because VMRUN loads the segment caches directly.
        ushort dpl = (ushort)(c.Cpl << 5);
        ushort codeSize = CaseRules.IsLongMode(guest.Mode) ? VmcbLayout.LongMode : VmcbLayout.Default32;
        ushort codeAttrib = (ushort)(VmcbLayout.CodeSegment | dpl | VmcbLayout.Granularity | codeSize);
        ushort dataAttrib = (ushort)(VmcbLayout.DataSegment | dpl | VmcbLayout.Granularity | VmcbLayout.Default32);
        ushort rpl = (ushort)c.Cpl;
        PutSegment(vmcb, VmcbLayout.Es, (ushort)(0x10 | rpl), dataAttrib);
        PutSegment(vmcb, VmcbLayout.Cs, (ushort)(0x08 | rpl), codeAttrib);
        PutSegment(vmcb, VmcbLayout.Ss, (ushort)(0x10 | rpl), dataAttrib);
        PutSegment(vmcb, VmcbLayout.Ds, (ushort)(0x10 | rpl), dataAttrib);
        vmcb[VmcbLayout.Cpl] = (byte)c.Cpl;

        Put(vmcb, VmcbLayout.Efer, guest.GuestEfer);
        Put(vmcb, VmcbLayout.Cr4, c.Cr4);
        Put(vmcb, VmcbLayout.Cr3, c.Cr3);
        Put(vmcb, VmcbLayout.Cr0, c.Cr0);
        Put(vmcb, VmcbLayout.Rflags, guest.GuestRflags);
        Put(vmcb, VmcbLayout.Rip, guest.Entry);
        Put(vmcb, VmcbLayout.Rax, c.Pkru); // the value WRPKRU loads
    }

    private static void PutSegment(Span<byte> vmcb, int offset, ushort selector, ushort attrib)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(vmcb[offset..], selector);
        BinaryPrimitives.WriteUInt16LittleEndian(vmcb[(offset + 2)..], attrib);
        BinaryPrimitives.WriteUInt32LittleEndian(vmcb[(offset + 4)..], uint.MaxValue);
        BinaryPrimitives.WriteUInt64LittleEndian(vmcb[(offset + 8)..], 0);
    }

    private static void Put(Span<byte> bytes, int offset, ulong value) =>
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[offset..], value);

    private static int Offset(ulong address) => (int)(address - HarnessLayout.Base);
}
