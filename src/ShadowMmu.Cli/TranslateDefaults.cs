namespace ShadowMmu.Cli;

/// <summary>What <c>translate</c> assumes for a register or option that is not given (on the command line or in a batch case).</summary>
internal static class TranslateDefaults
{
    /// <summary>CR0: PG, WP, NE, ET, MP, PE (0x80010033, as a 64-bit kernel runs).</summary>
    public const ulong Cr0 = 0x80010033;

    /// <summary>CR4: nothing set (32-bit paging with 4 KiB pages only).</summary>
    public const ulong Cr4 = 0;

    /// <summary>IA32_EFER: nothing set.</summary>
    public const ulong Efer = 0;

    /// <summary>PKRU: every key allows everything.</summary>
    public const ulong Pkru = 0;

    /// <summary>CPL 0: a supervisor access.</summary>
    public const ulong Cpl = 0;

    /// <summary>A data read.</summary>
    public const AccessKind Access = AccessKind.Read;

    /// <summary>MAXPHYADDR.</summary>
    public const ulong MaxPhysAddr = CpuState.DefaultMaxPhysAddr;

    /// <summary>The CPU has every feature paging knows.</summary>
    public const CpuFeatures Features = CpuFeatures.All;

    /// <summary><c>read</c>, <c>write</c> or <c>fetch</c>.</summary>
    public static bool TryParseAccess(string? text, out AccessKind access)
    {
        switch (text)
        {
            case "read":
                access = AccessKind.Read;
                return true;
            case "write":
                access = AccessKind.Write;
                return true;
            case "fetch":
                access = AccessKind.Fetch;
                return true;
            default:
                access = Access;
                return false;
        }
    }

    /// <summary>The option spelling of <paramref name="access"/>.</summary>
    public static string Name(AccessKind access) => access switch
    {
        AccessKind.Write => "write",
        AccessKind.Fetch => "fetch",
        _ => "read",
    };
}
