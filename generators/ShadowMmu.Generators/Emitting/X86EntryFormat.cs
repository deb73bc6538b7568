using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ShadowMmu.Specs;
using static ShadowMmu.Generators.Code;

namespace ShadowMmu.Generators
{
    /// <summary>
    /// The processor's own page tables: a present bit, R/W and U/S ANDed over the levels, execute-disable ORed, KVM's
    /// permission bitmap and protection keys at the leaf; every fault a #PF with its error code.
    /// </summary>
    internal sealed class X86EntryFormat : EntryFormat
    {
        private readonly X86Plan _x86;

        public X86EntryFormat(WalkerPlan plan, X86Plan x86, SourceWriter writer)
            : base(plan, writer)
        {
            _x86 = x86;
        }

        public override string WalkerInterface => Plan.NestedWalk ? "INestedPageWalker" : "IGuestPageWalker";

        public override string Input => "va";

        public override string EntryAddress => "gpa";

        public override string RootRegister => "CR3";

        public override string RootRegisterField => "Cr3";

        public override string Rights => "access";

        public override string AllRights => Mmu + "AccessRights.All";

        public override bool FoldsRights => _x86.FoldsRights;

        public override int RequestWriteBit => 1;

        private int MaxLevel => Plan.FirstMemoryLevel;

        private FlagBit? ExecuteDisable => _x86.ExecuteDisable;

        /// <summary>The rights an entry grants, as U W X bits; X is cleared by an enabled execute-disable bit.</summary>
        public override Expression RightsOf(string entry)
        {
            int w = _x86.WritableBit, u = _x86.UserBit;
            string rights = w == 1 && u == 2
                ? "((uint)" + entry + " & 6)"
                : "((uint)(" + entry + " >> " + w + ") & 1) << 1 | ((uint)(" + entry + " >> " + u + ") & 1) << 2";
            rights = "(" + rights + " | " + Mmu + "AccessRights.Execute)";
            return ExecuteDisable is FlagBit xd
                ? new Expression("&", rights, "~(uint)((" + entry + " & _executeDisable) >> " + xd.Bit + ")")
                : new Expression("&", rights);
        }

        public override string FoldedDescription =>
            ExecuteDisable != null ? "each execute-disable bit moved onto the present bit" : "their present bits";

        /// <summary>The entry with an enabled execute-disable bit moved onto the present bit's place, which stands for X.</summary>
        public override string FoldedEntry(string entry) =>
            ExecuteDisable is FlagBit xd ? entry + " ^ ((" + entry + " & _executeDisable) >> " + xd.Bit + ")" : entry;

        public override Expression ShadowRightsOf(string entry) => RightsOf(entry);

        public override string PresentTest(string entry) => "(" + entry + " & " + Hex(1UL << _x86.PresentBit) + ") != 0";

        public override string KeyOf(string entry) =>
            _x86.ProtectionKey is ProtectionKeyPlan key
                ? "_pkruMask != 0 ? (int)((" + entry + " >> " + key.Bits.Lo + ") & " + Hex((1UL << key.Bits.Width) - 1) + ") : 0"
                : "0";

        public override Call OutsideMemory(int level, string address) =>
            Calling("EndOutsideMemory", Num(MaxLevel), Num(level), address,
                "FaultBits(request)", PtAccess);

        public override Call ReservedBitSet(int level) => PageFault(Num(level), "FaultBits(request) | ReservedFault");

        public override void EmitEntryFaults(int level) =>
            EmitFault("(pte & " + Hex(1UL << _x86.PresentBit) + ") == 0", PageFault(Num(level), "FaultBits(request)"));

        /// <summary>A #PF at <paramref name="level"/> with <paramref name="errorCode"/>.</summary>
        private Call PageFault(string level, string errorCode) =>
            Calling("EndPageFault", Num(MaxLevel), level, errorCode, PtAccess);

        public override string[] Summary => new[]
        {
            "The guest page walker for " + Xml(Plan.Title) + ", generated from <c>" + Plan.FileName + "</c>.",
        };

        public override string[] ConstructorDocumentation => new[]
        {
            "<summary>Builds the walker for <paramref name=\"cpu\"/>, as KVM rebuilds its MMU context on a control-register write.</summary>",
            "<param name=\"memory\">Guest physical memory.</param>",
            "<param name=\"cpu\">Control registers, EFER, PKRU, MAXPHYADDR and CPU features.</param>",
        };

        public override string ReservedBitsName => "KVM's rsvd_bits_mask";

        public override void EmitStaticTables()
        {
            W.Comment("The error code of a fault on a reserved bit, with the request's bits.");
            W.Line("private const uint ReservedFault = " + Mmu + "PageFaultErrorCode.Present | " + Mmu + "PageFaultErrorCode.Reserved;");
            W.Line();
            W.Comment("KVM's permission bitmap: row = CR0.WP | CR4.SMEP << 1 | CR4.SMAP << 2 | EFER.NXE << 3 (named at its end: W, S, A, N",
                "when set, - when clear); byte = write | user << 1 | SMAP overridden << 2 | fetch << 3; bit v of the byte is set when the",
                "request faults on a page whose rights (U W X) are v.");
            W.Open("private static global::System.ReadOnlySpan<byte> Permissions => new byte[]");
            const string rowBits = "WSAN";
            for (int row = 0; row < 16; row++)
            {
                string set = new string(rowBits.Select((letter, bit) => ((row >> bit) & 1) != 0 ? letter : '-').ToArray());
                W.Line(string.Join(", ", _x86.Permissions.Skip(row * 16).Take(16).Select(Hex2)) + ", // " + set);
            }

            W.Close(";");
            W.Line();
            W.Comment("A request's write (1), user (2), SMAP-override (4) and fetch (8) bits: [kind | user mode << 2 | EFLAGS.AC << 3].");
            W.Wrap("private static global::System.ReadOnlySpan<byte> RequestBits => new byte[] { ",
                new[] { "0", "1", "8", "0", "2", "3", "10", "2", "4", "5", "12", "4", "2", "3", "10", "2" }, ", ", " };");
            W.Line();
            if (_x86.ProtectionKey is ProtectionKeyPlan key)
            {
                W.Comment("KVM's pkru_mask: which of PKRU's AD and WD bits apply to each request, for CR0.WP = 0 and 1.");
                W.Line("private const uint PkruMaskWp0 = " + Hex(key.PkruMaskWp0) + ";");
                W.Line("private const uint PkruMaskWp1 = " + Hex(key.PkruMaskWp1) + ";");
                W.Line();
            }
        }

        public override void EmitFields()
        {
            if (ExecuteDisable != null)
            {
                W.Line("private readonly ulong _executeDisable;");
            }

            W.Line("private readonly int _permissionRow;");
            W.Line("private readonly uint _fetchErrorCode;");
            if (_x86.ProtectionKey is ProtectionKeyPlan key)
            {
                W.Line("private readonly uint _pkruMask;");
                W.Line("private readonly ulong _pkDenied;");
                W.Line("private readonly int _keyMask;");
                W.Line("private readonly ulong[] _leafFaults = new ulong[" + key.LeafFaultWords + "];");
            }
        }

        public override void EmitConstructorState()
        {
            W.Line();
            if (ExecuteDisable is FlagBit xd)
            {
                W.Line("bool nx = " + TestOrTrue(xd.When) + ";");
                W.Line("_executeDisable = nx ? " + Hex(1UL << xd.Bit) + " : 0;");
            }

            W.Line("bool smep = (cpu.Cr4 & " + Mmu + "Cr4.SMEP) != 0;");
            W.Line("bool wp = (cpu.Cr0 & " + Mmu + "Cr0.WP) != 0;");
            var row = new List<string> { "(wp ? 1 : 0)", "(smep ? 2 : 0)", "((cpu.Cr4 & " + Mmu + "Cr4.SMAP) != 0 ? 4 : 0)" };
            if (ExecuteDisable != null)
            {
                row.Add("(nx ? 8 : 0)");
            }

            W.Wrap("_permissionRow = 16 * (", row, " | ", ");");
            W.Line();
            W.Comment("The error code's I/D bit is reported for fetches only when " + (ExecuteDisable != null ? "execute-disable is on or " : "") + "SMEP is.");
            W.Line("_fetchErrorCode = " + (ExecuteDisable != null ? "nx || " : "") + "smep ? " + Mmu + "PageFaultErrorCode.Fetch : 0;");
            if (_x86.ProtectionKey is ProtectionKeyPlan key)
            {
                EmitProtectionKeyState(key);
            }
        }

        private void EmitProtectionKeyState(ProtectionKeyPlan key)
        {
            int keys = 1 << key.Bits.Width;
            W.Line("_pkruMask = " + TestOrTrue(key.When) + " ? (wp ? PkruMaskWp1 : PkruMaskWp0) : 0;");
            W.Line("_keyMask = _pkruMask != 0 ? " + (keys - 1).ToString(CultureInfo.InvariantCulture) + " : 0;");
            W.Line();
            W.Comment("For each data access (write | user mode << 1), the keys whose PKRU bits deny it on a user-mode page: bit",
                "access * 16 + key. KVM's pkru_mask, at the offset of the access (pfec >> 1) with the page's U/S as bit 3, says",
                "which of the key's AD and WD bits apply (WD to user writes, and to supervisor writes with CR0.WP).");
            W.Open("for (int access = 0; access < 4; access++)");
            W.Open("for (int key = 0; key < " + keys.ToString(CultureInfo.InvariantCulture) + "; key++)");
            W.Line("int pkOffset = (access & 1) << 1 | (access & 2) << 1 | 8;");
            W.Open("if (((cpu.Pkru >> (key * 2)) & 3 & (_pkruMask >> pkOffset)) != 0)");
            W.Line("_pkDenied |= 1UL << ((access * 16) + key);");
            W.Close();
            W.Close();
            W.Close();

            int keyWidth = key.Bits.Width;
            W.Line();
            W.Comment("The leaf's whole check in one table for this CPU state: bit request << " + (keyWidth + 3) + " | rights << " + keyWidth
                + " | key is set when the request (write, user, SMAP override, fetch) faults on a page with those rights (U W X) and that",
                "key, for its rights (the permission bitmap) or for its key (a data access to a user-mode page that _pkDenied denies).");
            W.Open("for (int request = 0; request < 16; request++)");
            W.Open("for (int rights = 0; rights < 8; rights++)");
            W.Line("bool rightsFault = ((Permissions[_permissionRow | request] >> rights) & 1) != 0;");
            W.Open("for (int key = 0; key < " + keys + "; key++)");
            W.Wrap("bool keyFault = ", new[] { "(request & 8) == 0", "(rights & 4) != 0", "((_pkDenied >> (((request & 3) * 16) + key)) & 1) != 0" }, " && ", ";");
            W.Line("int bit = request << " + (keyWidth + 3) + " | rights << " + keyWidth + " | key;");
            W.Open("if (rightsFault || keyFault)");
            W.Line("_leafFaults[bit >> 6] |= 1UL << bit;");
            W.Close();
            W.Close();
            W.Close();
            W.Close();
        }

        public override Call EntrySignature =>
            Calling("WalkAddr", "ref " + Mmu + "GuestWalk walk", "ulong va", Mmu + "AccessKind kind", "int cpl", "bool ac");

        public override string RequestCall => "Request(kind, cpl, ac)";

        public override string TruncationComment => "// Linear addresses are " + Plan.Address.Bits + " bits wide in this mode.";

        public override void EmitRequestHelpers()
        {
            W.Summary("The request as one value, below 256: the CPU state's row of the permission bitmap, and the write (bit 0), user (1),",
                "SMAP-override (2: EFLAGS.AC on a supervisor access) and fetch (3) bits, KVM's <c>pfec &gt;&gt; 1</c>.");
            Inline(W);
            W.Open("private int Request(" + Mmu + "AccessKind kind, int cpl, bool ac)");
            W.Comment("RequestBits: W, U, SMAP override and F for a read, write or fetch, + 4 in user mode, + 8 with EFLAGS.AC (which",
                "overrides SMAP for a supervisor access only); an undefined kind reads.");
            W.Line("int index = ((uint)kind <= 2 ? (int)kind : 0) | (cpl == 3 ? 4 : 0) | (ac ? 8 : 0);");
            W.Wrap("return _permissionRow | " + Unsafe + ".Add(", new[] { "ref " + MemoryMarshal + ".GetReference(RequestBits)", "index" }, ", ", ");");
            W.Close();
            W.Line();
            W.Summary("The error-code bits a fault reports for <paramref name=\"request\"/>: W/R, U/S, and I/D for a fetch when it counts.");
            Inline(W);
            W.Open("private uint FaultBits(int request)");
            W.Wrap("return ", new[]
            {
                "(uint)(request & 1) * " + Mmu + "PageFaultErrorCode.Write",
                "(uint)((request >> 1) & 1) * " + Mmu + "PageFaultErrorCode.User",
                "((request & 8) != 0 ? _fetchErrorCode : 0)",
            }, " | ", ";");
            W.Close();
            W.Line();
        }

        public override string LeafSummary =>
            "the rights the request needs" + (_x86.ProtectionKey != null ? ", its protection key" : "") + ", then the translation";

        public override Call EmitLeafChecks()
        {
            string key = "0";
            if (_x86.ProtectionKey is ProtectionKeyPlan keyPlan)
            {
                BitRange keyBits = keyPlan.Bits;
                W.Comment("Rights and protection keys in one lookup of the table made for this CPU state (Denied works out which failed). The",
                    "key is reported as 0 unless protection keys are on. No bounds check: the index is below the table's size.");
                W.Line("int key = (int)(pte >> " + keyBits.Lo + ") & _keyMask;");
                W.Line("int check = (request & 15) << " + (keyBits.Width + 3) + " | (int)access << " + keyBits.Width + " | key;");
                W.Wrap("ulong faultWord = " + Unsafe + ".Add(", new[] { "ref " + MemoryMarshal + ".GetArrayDataReference(_leafFaults)", "check >> 6" }, ", ", ");");
                EmitFault("((faultWord >> check) & 1) != 0", Calling("Denied", "ref walk", "request", "access", "key", "level", "ptAccess"), onRecord: false);
                key = "key";
            }
            else
            {
                W.Comment("Rights: the request's byte of the permission bitmap (no bounds check: the request is below 256) has bit v set",
                    "when rights v fault.");
                W.Wrap("uint faultingRights = " + Unsafe + ".Add(", new[] { "ref " + MemoryMarshal + ".GetReference(Permissions)", "request" }, ", ", ");");
                EmitFault("((faultingRights >> (int)access) & 1) != 0", PageFault("level", "FaultBits(request) | " + Mmu + "PageFaultErrorCode.Present"));
            }

            return Calling("walk.EndTranslated", Num(MaxLevel), "level", "frame | (va & (pageSize - 1))", "pageSize",
                "access", key, PtAccess);
        }

        public override void EmitWalkHelpers()
        {
            if (_x86.ProtectionKey == null)
            {
                return;
            }

            W.Summary("Ends a pass whose leaf denied the access: the error code has PK when the key denied it (a data access to a user-mode",
                "page whose key's PKRU bits forbid it), whether or not the rights did too. Out of line: the walk's cold path.");
            NoInline(W);
            W.Open("private bool Denied(ref " + Mmu + "GuestWalk walk, int request, uint access, int key, int level, ulong ptAccess)");
            W.Line("uint pkFault = (uint)(_pkDenied >> ((request & 3) << 4 | key)) & (access >> 2) & ~((uint)request >> 3) & 1;");
            W.Wrap("uint errorCode = ", new[] { "FaultBits(request)", Mmu + "PageFaultErrorCode.Present", "pkFault * " + Mmu + "PageFaultErrorCode.ProtectionKey" },
                " | ", ";");
            Statement(W, "return walk.", PageFault("level", "errorCode"));
            W.Close();
            W.Line();
        }
    }
}
