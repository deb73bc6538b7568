namespace ShadowMmu.Dumps;

/// <summary>The ELF machine of a dump (e_machine; for kdump, inferred from its notes or its utsname).</summary>
public enum DumpMachine : ushort
{
    /// <summary>Not recorded (raw and LiME dumps).</summary>
    Unknown = 0,

    /// <summary>EM_386: QEMU writes it whenever CPU 0 was not in long mode, whatever the guest's CPU model.</summary>
    I386 = 3,

    /// <summary>EM_X86_64: CPU 0 was in long mode (EFER.LMA).</summary>
    X86_64 = 62,
}
