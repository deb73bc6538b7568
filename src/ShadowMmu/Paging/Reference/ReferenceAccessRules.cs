namespace ShadowMmu;

/// <summary>
/// The SDM's access-rights and protection-key rules (Vol. 3A "Access Rights", "Protection Keys"), written as plain
/// if-statements over the accumulated rights rather than KVM's precomputed permission bitmap, so that the reference
/// walker checks the generated walkers' bitmaps instead of sharing them.
/// </summary>
internal static class ReferenceAccessRules
{
    /// <summary>
    /// True when the access may not use a page with <paramref name="rights"/> (<see cref="AccessRights"/>,
    /// accumulated over every entry of the walk). <paramref name="executeDisableEnabled"/>: the mode's
    /// execute-disable bit counts (EFER.NXE in PAE and IA-32e paging).
    /// </summary>
    public static bool RightsFault(uint rights, AccessKind kind, int cpl, bool ac, in CpuState cpu, bool executeDisableEnabled)
    {
        // Only explicit accesses are modelled: CPL 3 is a user-mode access, anything else supervisor-mode.
        bool userAccess = cpl == 3;
        bool userPage = (rights & AccessRights.User) != 0;
        bool writablePage = (rights & AccessRights.Write) != 0;
        bool executablePage = (rights & AccessRights.Execute) != 0;
        bool write = kind == AccessKind.Write;
        bool fetch = kind == AccessKind.Fetch;

        // User-mode accesses reach only user-mode addresses.
        if (userAccess && !userPage)
        {
            return true;
        }

        // User-mode writes need R/W = 1 everywhere; supervisor-mode writes only when CR0.WP = 1.
        if (write && !writablePage && (userAccess || cpu.Test(PagingCondition.Cr0Wp)))
        {
            return true;
        }

        // Instruction fetches from an execute-disabled address, where the mode honours XD.
        if (fetch && executeDisableEnabled && !executablePage)
        {
            return true;
        }

        // SMEP: supervisor-mode fetches from user-mode addresses.
        if (fetch && !userAccess && userPage && cpu.Test(PagingCondition.Cr4Smep))
        {
            return true;
        }

        // SMAP: supervisor-mode data accesses to user-mode addresses, unless an explicit access with EFLAGS.AC = 1
        // at CPL < 3 (at CPL 3 a supervisor-mode access is implicit, never exempt).
        bool smapExempt = ac && cpl < 3;
        if (!fetch && !userAccess && userPage && cpu.Test(PagingCondition.Cr4Smap) && !smapExempt)
        {
            return true;
        }

        return false;
    }

    /// <summary>
    /// True when PKRU forbids the access: only data accesses to user-mode addresses are checked, with the leaf's
    /// key <paramref name="key"/>; AD (PKRU bit 2k) forbids reads and writes, WD (bit 2k+1) forbids writes by
    /// user-mode accesses, and by supervisor-mode accesses when CR0.WP = 1. Call only when protection keys are on.
    /// </summary>
    public static bool ProtectionKeyFault(uint rights, AccessKind kind, int cpl, int key, in CpuState cpu)
    {
        bool userPage = (rights & AccessRights.User) != 0;
        if (kind == AccessKind.Fetch || !userPage)
        {
            return false;
        }

        int adBit = 2 * key;
        int wdBit = adBit + 1;
        if (key < 0 || wdBit >= 32)
        {
            // PKRU has 16 keys; a spec with a wider key field names keys no PKRU bit controls.
            return false;
        }

        bool accessDisabled = ((cpu.Pkru >> adBit) & 1) != 0;
        bool writeDisabled = ((cpu.Pkru >> wdBit) & 1) != 0;
        if (accessDisabled)
        {
            return true;
        }

        bool userAccess = cpl == 3;
        return writeDisabled && kind == AccessKind.Write && (userAccess || cpu.Test(PagingCondition.Cr0Wp));
    }
}
