using ShadowMmu.Benchmarks.Walks;

namespace ShadowMmu.Benchmarks.Native;

/// <summary>
/// Fills the C walkers' context from a CPU state, as a hand-written walker's setup would: the reserved-bit masks from
/// the Intel SDM's entry formats for this state (MAXPHYADDR, NXE, 1 GiB pages, PSE-36), KVM's permission bitmap and
/// pkru_mask, and the level table of the looped walker. Nothing is read from the generated walkers: the checks made in
/// <see cref="WalkVerifier"/> are what says both compute the same thing.
/// </summary>
internal static unsafe class NativeContext
{
    private const ulong Addr51_12 = 0x000F_FFFF_FFFF_F000, Addr51_21 = 0x000F_FFFF_FFE0_0000, Addr51_30 = 0x000F_FFFF_C000_0000;

    public static void Fill(CwCtx* c, WalkImage image)
    {
        *c = default;
        CpuState cpu = image.Cpu;
        string mode = image.Case.Mode;
        bool wp = (cpu.Cr0 & Cr0.WP) != 0, smep = (cpu.Cr4 & Cr4.SMEP) != 0, smap = (cpu.Cr4 & Cr4.SMAP) != 0;
        bool nx = mode != "legacy32" && (cpu.Efer & Efer.NXE) != 0;
        bool longMode = mode is "long4" or "long5";
        bool pke = longMode && (cpu.Cr4 & Cr4.PKE) != 0;

        // Physical-address bits at or above MAXPHYADDR are reserved in every entry that holds an address.
        ulong high = cpu.MaxPhysAddr >= 52 ? 0 : Addr51_12 & ~((1UL << cpu.MaxPhysAddr) - 1);

        c->Base = image.Native;
        c->Size = image.Size;
        c->Xd = nx ? 1UL << 63 : 0;
        c->Permissions = image.Permissions;
        FillPermissions(image.Permissions);
        c->PermRow = 16UL * ((wp ? 1UL : 0) | (smep ? 2UL : 0) | (smap ? 4UL : 0) | (nx ? 8UL : 0));
        c->FetchEc = nx || smep ? PageFaultErrorCode.Fetch : 0;
        c->PkruMask = pke ? (wp ? 0xDD00U : 0xD500U) : 0;
        c->Pkru = cpu.Pkru;
        c->HasPkeys = longMode ? 1UL : 0;
        c->EntryBytes = mode == "legacy32" ? 4UL : 8UL;

        switch (mode)
        {
            case "ept4" or "ept5":
                FillEpt(c, cpu, mode == "ept5" ? 5 : 4, high);
                break;

            case "legacy32":
            {
                c->Root = cpu.Cr3 & 0xFFFF_F000;
                c->RootLevel = 2;
                c->LinearBits = 32;
                c->PdeMapsPages = (cpu.Cr4 & Cr4.PSE) != 0 ? 1UL : 0;
                // PSE-36: PDE bits 20:13 are physical-address bits 39:32; bit 21 is reserved.
                c->Rsvd[1] = 0;
                c->RsvdPage[1] = 0x20_0000 | HighBelow(cpu.MaxPhysAddr);
                c->Rsvd[0] = 0;
                c->Levels[1] = new CwLevel
                {
                    IndexShift = 22, IndexMask = 1023, TableMask = 0xFFFF_F000, FrameMask = 0xFFC0_0000, HighMask = 0x1F_E000,
                    HighShift = 19, PageSize = 0x40_0000, Rsvd = c->Rsvd[1], RsvdPage = c->RsvdPage[1], MapsPages = c->PdeMapsPages,
                };
                c->Levels[0] = new CwLevel
                {
                    IndexShift = 12, IndexMask = 1023, FrameMask = 0xFFFF_F000, PageSize = 0x1000, Rsvd = 0, RsvdPage = 0, MapsPages = 1,
                };
                break;
            }

            case "pae":
            {
                c->Root = cpu.Cr3 & 0xFFFF_FFE0;
                c->RootLevel = 3;
                c->LinearBits = 32;
                ulong nxBits = nx ? 0x7FF0_0000_0000_0000UL : 0xFFF0_0000_0000_0000UL;
                ulong pdpteReserved = 0xFFF0_0000_0000_01E6UL | high;
                for (int i = 0; i < 4; i++)
                {
                    ulong entry = *(ulong*)(image.Native + c->Root + (ulong)(i * 8));
                    c->Pdpte[i] = entry;
                    if ((entry & 1) != 0 && (entry & pdpteReserved) != 0)
                    {
                        c->RegisterFault = 1;
                    }
                }

                c->Rsvd[1] = nxBits | high;
                c->RsvdPage[1] = nxBits | 0x1F_E000 | high;
                c->Rsvd[0] = nxBits | high;
                c->Levels[2] = new CwLevel { IndexShift = 30, IndexMask = 3, TableMask = Addr51_12, IsRegister = 1 };
                c->Levels[1] = new CwLevel
                {
                    IndexShift = 21, IndexMask = 511, TableMask = Addr51_12, FrameMask = Addr51_21, PageSize = 0x20_0000,
                    Rsvd = c->Rsvd[1], RsvdPage = c->RsvdPage[1], MapsPages = 1,
                };
                c->Levels[0] = new CwLevel
                {
                    IndexShift = 12, IndexMask = 511, FrameMask = Addr51_12, PageSize = 0x1000, Rsvd = c->Rsvd[0], RsvdPage = c->Rsvd[0], MapsPages = 1,
                };
                break;
            }

            default:
            {
                int levels = mode == "long5" ? 5 : 4;
                bool page1G = (cpu.Features & CpuFeatures.Page1Gb) != 0;
                ulong xdReserved = nx ? 0 : 1UL << 63;
                c->Root = cpu.Cr3 & Addr51_12;
                c->RootLevel = (ulong)levels;
                c->LinearBits = levels == 5 ? 57UL : 48UL;
                c->Canonical = 1;
                for (int level = 1; level <= levels; level++)
                {
                    ulong table = xdReserved | high;
                    ulong page = level switch
                    {
                        1 => xdReserved | high,
                        2 => xdReserved | 0x1F_E000 | high,
                        3 => xdReserved | 0x3FFF_E000 | high,
                        _ => 0,
                    };
                    if (level >= 4)
                    {
                        table |= 0x80;  // PS is reserved in a PML4E and a PML5E
                    }

                    c->Rsvd[level - 1] = table;
                    c->RsvdPage[level - 1] = page;
                    c->Levels[level - 1] = new CwLevel
                    {
                        IndexShift = 12 + (9 * (ulong)(level - 1)), IndexMask = 511, TableMask = Addr51_12,
                        FrameMask = level switch { 1 => Addr51_12, 2 => Addr51_21, 3 => Addr51_30, _ => 0 },
                        PageSize = level switch { 1 => 0x1000, 2 => 0x20_0000, 3 => 0x4000_0000, _ => 0 },
                        Rsvd = level == 1 ? page : table,
                        RsvdPage = page,
                        MapsPages = level <= 2 || (level == 3 && page1G) ? 1UL : 0,
                    };
                }

                if (!page1G)
                {
                    // Without 1 GiB pages the PS bit of a PDPTE is reserved.
                    c->Rsvd[2] |= 0x80;
                    c->Levels[2].Rsvd |= 0x80;
                }

                break;
            }
        }
    }

    /// <summary>
    /// EPT, from the Intel SDM's EPT entry formats and "EPT Misconfigurations" and KVM's reset_rsvds_bits_mask_ept and
    /// update_permission_bitmask (ept branch): reserved bits per level, the bad_mt_xwr bitmap, the permission rows.
    /// </summary>
    private static void FillEpt(CwCtx* c, in CpuState cpu, int levels, ulong high)
    {
        bool mbec = cpu.ModeBasedExecute;
        bool executeOnly = (cpu.Features & CpuFeatures.EptExecuteOnly) != 0;
        bool page1G = (cpu.Features & CpuFeatures.EptPage1Gb) != 0;
        c->Root = cpu.Eptp & Addr51_12;
        c->RootLevel = (ulong)levels;
        c->LinearBits = levels == 5 ? 57UL : 48UL;
        c->EptGpaMask = (1UL << (int)c->LinearBits) - 1;
        c->EptPresent = mbec ? 0x407UL : 7UL;
        c->EptUserExec = mbec ? 8UL : 0;
        c->EptUxIndex = mbec ? 1UL : 0;
        c->EptAd = (cpu.Eptp & EptPointer.AccessedDirty) != 0 ? 1UL : 0;

        // bad_mt_xwr: memory types 2, 3, 7 at any XWR; write-only (010) and write+execute (110); execute-only (100)
        // without the capability. Under MBEC a user-execute-only entry (bit 10 with XWR 000) is executable too.
        for (int word = 0; word < 2; word++)
        {
            ulong bad = 0;
            for (int bits = 0; bits < 64; bits++)
            {
                int type = bits >> 3, xwr = bits & 7;
                bool r = (xwr & 1) != 0, w = (xwr & 2) != 0, x = (xwr & 4) != 0 || word == 1;
                bool badType = type is 2 or 3 or 7;
                bool badXwr = (w && !r) || (x && !r && !executeOnly);
                if (badType || badXwr)
                {
                    bad |= 1UL << bits;
                }
            }

            c->EptBadMtXwr[word] = bad;
        }

        // Permissions: index kind | user-mode linear address << 2; bit v set when ACC rights v fault.
        for (int index = 0; index < 8; index++)
        {
            int kind = index & 3;
            bool user = (index & 4) != 0;
            ushort bits = 0;
            for (int v = 0; v < 16; v++)
            {
                bool fault = kind switch
                {
                    0 => (v & 4) == 0,
                    1 => (v & 2) == 0,
                    2 => mbec && user ? (v & 8) == 0 : (v & 1) == 0,
                    _ => false,
                };
                if (fault)
                {
                    bits |= (ushort)(1 << v);
                }
            }

            c->EptPerm[index] = bits;
        }

        for (int level = 1; level <= levels; level++)
        {
            // Table entries: PML5E/PML4E 7:3, PDPTE/PDE 6:3; pages: 1G 29:12, 2M 20:12, 4K none; plus MAXPHYADDR.
            ulong table = (level >= 4 ? 0xF8UL : 0x78UL) | high;
            ulong frame = level switch { 1 => Addr51_12, 2 => Addr51_21, 3 => Addr51_30, _ => 0 };
            ulong page = level switch
            {
                1 => high,
                2 => 0x1F_F000UL | (high & Addr51_21),
                3 => 0x3FFF_F000UL | (high & Addr51_30) | (page1G ? 0 : 0x80UL),
                _ => 0,
            };
            c->Rsvd[level - 1] = level == 1 ? page : table;
            c->RsvdPage[level - 1] = page;
            c->Levels[level - 1] = new CwLevel
            {
                IndexShift = 12 + (9 * (ulong)(level - 1)), IndexMask = 511, TableMask = Addr51_12, FrameMask = frame,
                PageSize = level switch { 1 => 0x1000, 2 => 0x20_0000, 3 => 0x4000_0000, _ => 0 },
                Rsvd = c->Rsvd[level - 1], RsvdPage = page, MapsPages = level <= 3 ? 1UL : 0,
            };
        }
    }

    // PSE-36 4 MiB pages: entry bits 20:13 hold physical-address bits 39:32; those at or above MAXPHYADDR are reserved.
    private static ulong HighBelow(int maxPhysAddr)
    {
        ulong mask = 0;
        for (int bit = 32; bit <= 39; bit++)
        {
            if (bit >= maxPhysAddr)
            {
                mask |= 1UL << (bit - 19);
            }
        }

        return mask;
    }

    /// <summary>
    /// KVM's update_permission_bitmask: row = WP | SMEP &lt;&lt; 1 | SMAP &lt;&lt; 2 | NXE &lt;&lt; 3; byte = write | user &lt;&lt; 1 |
    /// SMAP overridden (EFLAGS.AC, supervisor) &lt;&lt; 2 | fetch &lt;&lt; 3; bit v set when rights v (U W X) fault.
    /// </summary>
    private static void FillPermissions(byte* table)
    {
        for (int row = 0; row < 16; row++)
        {
            bool wp = (row & 1) != 0, smep = (row & 2) != 0, smap = (row & 4) != 0, nx = (row & 8) != 0;
            for (int request = 0; request < 16; request++)
            {
                bool write = (request & 1) != 0, user = (request & 2) != 0, overridden = (request & 4) != 0, fetch = (request & 8) != 0;
                byte bits = 0;
                for (int v = 0; v < 8; v++)
                {
                    bool x = (v & 1) != 0, w = (v & 2) != 0, u = (v & 4) != 0;
                    bool fault = (write && !w && (user || wp))
                        || (fetch && nx && !x)
                        || (user && !u)
                        || (!user && u && fetch && smep)
                        || (!user && u && !fetch && smap && !overridden);
                    if (fault)
                    {
                        bits |= (byte)(1 << v);
                    }
                }

                table[(row * 16) + request] = bits;
            }
        }
    }
}
