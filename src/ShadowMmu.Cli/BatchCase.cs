namespace ShadowMmu.Cli;

/// <summary>One batch case as read from its JSON line, missing keys at their defaults.</summary>
internal struct BatchCase
{
    /// <summary>The image, as an index into the batch's <see cref="BatchImages"/>.</summary>
    public int Image;
    public CpuState Cpu;
    public ulong Va;
    public AccessKind Access;
    public int Cpl;
    public bool Ac;
    public bool Gpa;
    public bool User;
    public bool Nested;
    public PdpteChoice Pdptes;

    // No cr3: the registers come from the dump's note for CpuIndex (0 when not given), with Given over them.
    public bool FromNote;
    public int? CpuIndex;
    public GivenRegisters Given;

    /// <summary>The keys a case may have.</summary>
    public static readonly string[] Keys =
    {
        "image", "cpu", "cr0", "cr3", "cr4", "efer", "pkru", "ac", "cpl", "access", "va", "maxphyaddr", "pdptes", "strict_pae", "eptp", "gpa", "mbec", "user",
    };
}

/// <summary>
/// What a case's keys said, before the case is put together: each register and address as given or null, so that
/// <see cref="Complete"/> can tell a missing key from a default.
/// </summary>
internal struct BatchCaseFields
{
    public ulong? Cr0, Cr3, Cr4, Efer, Pkru, MaxBits, Cpu, Va, Eptp, Gpa;
    public bool Mbec, StrictPae, HasImage;
    public PdpteChoice? Pdptes;
    public ulong Cpl;

    /// <summary>Puts the case together; null when it is complete, else why not.</summary>
    public readonly string? Complete(ref BatchCase c)
    {
        if (!HasImage)
        {
            return "image is missing";
        }

        if (Pdptes != null && StrictPae)
        {
            return "give either pdptes or strict_pae: both say where the PDPTE registers come from";
        }

        if ((Pdptes != null || StrictPae) && (Eptp != null || Gpa != null))
        {
            return "pdptes and strict_pae are for a PAE guest's own walk; through EPT its PDPTEs are loaded as the SDM says";
        }

        c.Pdptes = Pdptes ?? (StrictPae ? new PdpteChoice(PdpteSource.Strict) : PdpteChoice.FromImage);
        if (Gpa != null)
        {
            // EPT alone: the guest's registers do not take part.
            if (Eptp == null)
            {
                return "gpa is walked through EPT: eptp is missing";
            }

            if (Va != null)
            {
                return "give either gpa (EPT alone) or va, not both";
            }

            c.Cpu = new CpuState(0, 0, 0, 0, 0, (int)(MaxBits ?? TranslateDefaults.MaxPhysAddr), TranslateDefaults.Features, Eptp.Value, Mbec);
            c.Va = Gpa.Value;
            c.Gpa = true;
            return null;
        }

        if (Va == null)
        {
            return "va is missing";
        }

        c.Given = new GivenRegisters(Cr0, Cr3, Cr4, Efer, Pkru, (int?)MaxBits);
        c.CpuIndex = (int?)Cpu;
        c.FromNote = Cpu != null || Cr3 == null;
        c.Cpu = c.Given.WithDefaults(Cr3 ?? 0) with { Eptp = Eptp ?? 0, ModeBasedExecute = Mbec };
        c.Nested = Eptp != null;
        c.Va = Va.Value;
        c.Cpl = (int)Cpl;
        return null;
    }
}
