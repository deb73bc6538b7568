using System;
using System.Collections.Generic;
using System.Linq;
using ShadowMmu.Oracle;

namespace ShadowMmu.Tests.Differential;

/// <summary>
/// Random guest tables that QEMU's MMU can be run on through the oracle harness: the harness's code pages are
/// mapped first and kept intact, no walk reaches past the image or into the harness region, and accessed
/// linear pages never collide with the image (Unicorn maps the linear page as a physical one).
/// </summary>
internal sealed class QemuGuest
{
    public const ulong ImageSize = 0x40_0000;

    private QemuGuest(GuestMemory memory, RandomGuestTables tables, byte[] image)
    {
        Memory = memory;
        Tables = tables;
        Image = image;
    }

    public GuestMemory Memory { get; }

    public RandomGuestTables Tables { get; }

    /// <summary>The memory as bytes, for the oracle; equal to <see cref="Memory"/> between walks.</summary>
    public byte[] Image { get; }

    public static QemuGuest Create(int seed, PagingModeInfo mode, int pages = 120)
    {
        var memory = GuestMemory.Allocate(ImageSize);
        var protectedEntries = new HashSet<ulong>();
        var tables = new RandomGuestTables(seed, memory, mode, new RandomGuestTables.Options(
            PointersOutsideMemory: false,
            VaAllowed: VaAllowed,
            FrameAllowed: (frame, size) => !Overlaps(frame, size, QemuMmu.HarnessBase, QemuMmu.HarnessSize),
            ProtectedEntries: protectedEntries));

        // The harness runs the access from its code pages: map them before anything else, and keep them intact.
        var image = new byte[ImageSize];
        memory.Read(0, image);
        protectedEntries.UnionWith(OracleGuestCode.MapCodePages(image, OracleModeOf(mode.Name), tables.Builder.Root, tables.Builder.AllocatePage));
        if (mode.Name == "pae")
        {
            // The PDPTEs are where QEMU departs from the SDM (read per walk, reserved bits unchecked): keep them valid.
            for (ulong i = 0; i < 4; i++)
            {
                protectedEntries.Add(tables.Builder.Root + (i * 8));
            }
        }

        memory.Write(0, image);
        tables.Populate(pages);
        memory.Read(0, image);
        return new QemuGuest(memory, tables, image);
    }

    public static OracleCase ToOracle(RandomPagingCase c) => new(
        c.Cpu.Cr0, c.Cpu.Cr3, c.Cpu.Cr4, c.Cpu.Efer, c.Cpu.Pkru, c.Ac, c.Cpl,
        c.Kind switch { AccessKind.Read => OracleAccess.Read, AccessKind.Write => OracleAccess.Write, _ => OracleAccess.Fetch },
        c.Va);

    public static OracleMode OracleModeOf(string mode) => mode switch
    {
        "legacy32" => OracleMode.Legacy32,
        "pae" => OracleMode.Pae,
        "long4" => OracleMode.Long4,
        _ => OracleMode.Long5,
    };

    /// <summary>
    /// Addresses the oracle can run: the page not inside the image nor in the harness region, and the harness's
    /// 4-byte load or store not crossing into the next page (which Unicorn would need mapped too).
    /// </summary>
    public static bool VaAllowed(ulong va)
    {
        ulong page = va & ~0xFFFUL;
        return page >= ImageSize && !Overlaps(page, 0x1000, QemuMmu.HarnessBase, QemuMmu.HarnessSize) && (va & 0xFFF) <= 0xFFC;
    }

    private static bool Overlaps(ulong start, ulong size, ulong otherStart, ulong otherSize) =>
        start < otherStart + otherSize && otherStart < start + size;
}
