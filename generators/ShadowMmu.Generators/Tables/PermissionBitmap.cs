namespace ShadowMmu.Generators
{
    /// <summary>
    /// KVM's permission bitmap (<c>update_permission_bitmask</c>) and PKRU mask (<c>update_pkru_bitmask</c>),
    /// computed here once per mode and emitted as static data, so the walk decides rights with one table lookup.
    /// </summary>
    internal static class PermissionBitmap
    {
        // Bit v of these bytes is set when the access rights value v (U W X) has the right.
        private const int X = 0xAA, W = 0xCC, U = 0xF0;

        /// <summary>Index bits of a row: W = write, U = user access, O = SMAP overridden, F = instruction fetch.</summary>
        public const int IndexWrite = 1, IndexUser = 2, IndexSmapOverride = 4, IndexFetch = 8;

        /// <summary>Row bits: which control bits are set.</summary>
        public const int RowWp = 1, RowSmep = 2, RowSmap = 4, RowNx = 8;

        /// <summary>
        /// 16 rows (one per combination of CR0.WP, CR4.SMEP, CR4.SMAP, EFER.NXE) of 16 bytes (one per request);
        /// bit v of a byte is 1 when that request faults on a page with rights v.
        /// </summary>
        public static byte[] Compute(bool modeHasExecuteDisable)
        {
            var table = new byte[256];
            for (int row = 0; row < 16; row++)
            {
                bool wp = (row & RowWp) != 0, smep = (row & RowSmep) != 0, smap = (row & RowSmap) != 0;
                bool nx = (row & RowNx) != 0 && modeHasExecuteDisable;
                for (int index = 0; index < 16; index++)
                {
                    bool write = (index & IndexWrite) != 0, user = (index & IndexUser) != 0;
                    bool smapOverride = (index & IndexSmapOverride) != 0, fetch = (index & IndexFetch) != 0;

                    int wf = write ? ~W : 0;          // a write to a read-only page
                    int uf = user ? ~U : 0;           // a user access to a supervisor page
                    int ff = fetch && nx ? ~X : 0;    // a fetch from an execute-disabled page
                    int kf = user ? 0 : U;            // a supervisor access to a user page
                    if (!wp && !user)
                    {
                        wf = 0;                       // supervisor writes ignore R/W while CR0.WP = 0
                    }

                    int smepf = smep && fetch ? kf : 0;
                    int smapf = smap && !fetch && !smapOverride ? kf : 0;
                    table[(row * 16) + index] = (byte)(ff | uf | wf | smepf | smapf);
                }
            }

            return table;
        }

        /// <summary>
        /// The PKRU mask for CR0.WP = <paramref name="wp"/>: 2 bits (AD applies, WD applies) at bit position pfec,
        /// for every even pfec whose RSVD position stands for "the page is a user page".
        /// </summary>
        public static uint PkruMask(bool wp)
        {
            uint mask = 0;
            for (int bit = 0; bit < 16; bit++)
            {
                int pfec = bit << 1;
                bool fetch = (pfec & 0x10) != 0, user = (pfec & 0x4) != 0, write = (pfec & 0x2) != 0;
                bool pageIsUser = (pfec & 0x8) != 0;
                bool checkKey = !fetch && pageIsUser;
                bool checkWrite = checkKey && write && (user || wp);
                uint bits = (checkKey ? 1u : 0u) | (checkWrite ? 2u : 0u);
                mask |= bits << pfec;
            }

            return mask;
        }
    }
}
