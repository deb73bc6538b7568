namespace ShadowMmu.Oracle;

/// <summary>How a case maps to a paging mode and which cases the harness can run.</summary>
internal static class CaseRules
{
    public static OracleMode ModeOf(OracleCase c)
    {
        if ((c.Cr0 & X86Bits.Cr0Pg) == 0 || (c.Cr0 & X86Bits.Cr0Pe) == 0)
        {
            throw new OracleException($"CR0 0x{c.Cr0:X} does not enable paging (PG and PE): only paged walks are supported.");
        }

        bool pae = (c.Cr4 & X86Bits.Cr4Pae) != 0;
        bool lme = (c.Efer & X86Bits.EferLme) != 0;
        if ((c.Efer & X86Bits.EferLma) != 0 && !lme)
        {
            throw new OracleException($"EFER 0x{c.Efer:X} has LMA without LME.");
        }

        if (!pae)
        {
            if (lme)
            {
                throw new OracleException("EFER.LME with CR4.PAE clear is not a paging mode (MOV to CR0 raises #GP).");
            }

            return (c.Cr4 & X86Bits.Cr4Pse) != 0 ? OracleMode.Legacy32Pse : OracleMode.Legacy32;
        }

        if (!lme)
        {
            return OracleMode.Pae;
        }

        return (c.Cr4 & X86Bits.Cr4La57) != 0 ? OracleMode.Long5 : OracleMode.Long4;
    }

    public static bool IsLongMode(OracleMode mode) => mode is OracleMode.Long4 or OracleMode.Long5;

    public static int EntrySize(OracleMode mode) => mode is OracleMode.Legacy32 or OracleMode.Legacy32Pse ? 4 : 8;

    /// <summary>Throws <see cref="OracleException"/> when the image or the case cannot be run.</summary>
    public static OracleMode Validate(int imageBytes, OracleCase c)
    {
        if (imageBytes <= 0 || imageBytes % 4096 != 0 || imageBytes > QemuMmu.MaxImageBytes)
        {
            throw new OracleException(
                $"Image size {imageBytes} must be a positive multiple of 4096 and at most {QemuMmu.MaxImageBytes}.");
        }

        if (c.Cpl is < 0 or > 3)
        {
            throw new OracleException($"CPL {c.Cpl} is not 0..3.");
        }

        OracleMode mode = ModeOf(c);
        if (!IsLongMode(mode) && c.Va > uint.MaxValue)
        {
            throw new OracleException($"VA 0x{c.Va:X} does not fit the 32-bit linear address of {mode} paging.");
        }

        // Unicorn 2.0.1 checks that the VA, taken as a physical address, is mapped before it walks, and the
        // access lands on that physical page: the harness maps a scratch page of INT3 there, which must not
        // hide guest memory or the harness.
        ulong page = c.Va & ~0xFFFUL;
        if (page < (ulong)imageBytes)
        {
            throw new OracleException(
                $"VA 0x{c.Va:X} lies inside the image [0, 0x{imageBytes:X}): Unicorn needs the VA's page mapped as a " +
                "physical scratch page, so the VA must be outside guest-physical memory.");
        }

        if (page >= QemuMmu.HarnessBase && page < QemuMmu.HarnessBase + QemuMmu.HarnessSize)
        {
            throw new OracleException(
                $"VA 0x{c.Va:X} lies inside the harness region [0x{QemuMmu.HarnessBase:X}, " +
                $"0x{QemuMmu.HarnessBase + QemuMmu.HarnessSize:X}): Unicorn needs the VA's page mapped as a physical scratch page.");
        }

        return mode;
    }
}
