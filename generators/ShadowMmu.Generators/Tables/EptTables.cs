using System.Linq;
using ShadowMmu.Specs;

namespace ShadowMmu.Generators
{
    /// <summary>
    /// The EPT walk's two precomputed tables: KVM's <c>bad_mt_xwr</c> bitmap (which entries are misconfigured by their
    /// rights and memory type) and the permission table (which accumulated rights fault for which request).
    /// </summary>
    internal static class EptTables
    {
        /// <summary>
        /// Rights bits as the walk accumulates them: KVM's ACC encoding, which the shadow MMU shares with the x86 modes
        /// (X = 1, W = 2, R in the place of U = 4), and user-execute as 8.
        /// </summary>
        public const int Execute = 1, Write = 2, Read = 4, UserExecute = 8;

        /// <summary>For each accumulated rights value, the exit qualification's bits 3 (R), 4 (W), 5 (X) and 6 (user-execute).</summary>
        public static byte[] RightsQualification()
        {
            var table = new byte[16];
            for (int rights = 0; rights < 16; rights++)
            {
                table[rights] = (byte)(((rights & Read) != 0 ? 1 << 3 : 0) | ((rights & Write) != 0 ? 1 << 4 : 0)
                    | ((rights & Execute) != 0 ? 1 << 5 : 0) | ((rights & UserExecute) != 0 ? 1 << 6 : 0));
            }

            return table;
        }

        /// <summary>
        /// Two rows (execute-only entries not allowed, allowed) of two 64-bit words (user-execute bit clear, set);
        /// bit <c>memory type &lt;&lt; 3 | XWR</c> of a word is 1 when such an entry is an EPT misconfiguration (SDM
        /// "EPT Misconfigurations"): bit 0 clear and bit 1 set (write-only, write+execute); without execute-only
        /// support, bit 0 clear and bit 2 or the user-execute bit set; or a reserved memory type. Only present entries
        /// are looked up. For an entry that references a table the memory-type field is reserved anyway.
        /// </summary>
        public static ulong[] MisconfigurationBitmap(EptSpec ept)
        {
            var words = new ulong[4];
            for (int executeOnly = 0; executeOnly < 2; executeOnly++)
            {
                for (int userExecute = 0; userExecute < 2; userExecute++)
                {
                    ulong word = 0;
                    for (int index = 0; index < 64; index++)
                    {
                        int xwr = index & 7, memoryType = index >> 3;
                        bool read = (xwr & 1) != 0, write = (xwr & 2) != 0;
                        bool executes = (xwr & 4) != 0 || userExecute != 0;
                        bool bad = (!read && write)
                            || (executeOnly == 0 && !read && executes)
                            || ept.ReservedMemoryTypes.Contains(memoryType);
                        if (bad)
                        {
                            word |= 1UL << index;
                        }
                    }

                    words[(executeOnly * 2) + userExecute] = word;
                }
            }

            return words;
        }

        /// <summary>Index of a request in a permission row: the access kind (0 read, 1 write, 2 fetch), plus 4 for a user-mode linear address.</summary>
        public const int RequestsPerRow = 8;

        /// <summary>
        /// Two rows (mode-based execute control off, on) of 8 requests; bit v of an entry is 1 when the request faults
        /// on rights v. Reads need R, writes W; fetches need X, or under mode-based execute control X for
        /// supervisor-mode linear addresses and the user-execute bit for user-mode ones.
        /// </summary>
        public static ushort[] PermissionTable()
        {
            var table = new ushort[2 * RequestsPerRow];
            for (int mbec = 0; mbec < 2; mbec++)
            {
                for (int request = 0; request < RequestsPerRow; request++)
                {
                    int kind = request & 3;
                    bool user = (request & 4) != 0;
                    if (kind == 3)
                    {
                        continue;
                    }

                    int needed = kind == 0 ? Read : kind == 1 ? Write : (mbec == 1 && user ? UserExecute : Execute);
                    ushort faults = 0;
                    for (int rights = 0; rights < 16; rights++)
                    {
                        if ((rights & needed) == 0)
                        {
                            faults |= (ushort)(1 << rights);
                        }
                    }

                    table[(mbec * RequestsPerRow) + request] = faults;
                }
            }

            return table;
        }
    }
}
