using System.Linq;
using ShadowMmu.Specs;
using static ShadowMmu.Generators.Code;

namespace ShadowMmu.Generators
{
    /// <summary>
    /// Extended page tables (KVM's <c>PTTYPE == PTTYPE_EPT</c>): an entry is present when any right is set, a bad entry
    /// is an EPT misconfiguration decided by the reserved bits and the precomputed XWR/memory-type bitmap, and a denied
    /// access is an EPT violation whose exit qualification carries the request and the rights every level allowed.
    /// Rights accumulate as KVM's ACC bits (X = 1, W = 2, R = 4), user-execute as 8.
    /// </summary>
    internal sealed class EptEntryFormat : EntryFormat
    {
        private readonly EptPlan _ept;

        public EptEntryFormat(WalkerPlan plan, EptPlan ept, SourceWriter writer)
            : base(plan, writer)
        {
            _ept = ept;
        }

        public override string WalkerInterface => "IEptWalker";

        public override string Input => "gpa";

        public override string EntryAddress => "address";

        public override string RootRegister => "EPTP";

        public override string RootRegisterField => "Eptp";

        public override string Rights => "rights";

        public override string AllRights => Mmu + "EptRights.All";

        public override int RequestWriteBit => 16;

        private int MaxLevel => Plan.FirstMemoryLevel;

        /// <summary>
        /// Whether the entries have accessed and dirty flags for the walker's CPU state: <c>false</c> without flags,
        /// <c>true</c> when they always count, else the field the constructor set from their condition (EPTP.AD).
        /// </summary>
        private string AccessedDirtyOn => Plan.AccessedDirty is AccessedDirtyPlan ad ? ad.When != null ? "_accessedDirty" : "true" : "false";

        /// <summary>The rights an EPT entry grants as KVM's ACC bits (X = 1, W = 2, R = 4), user-execute as 8 under mode-based execute control.</summary>
        public override Expression RightsOf(string entry) =>
            _ept.UserExecute is FlagBit userExecute
                ? new Expression("|", ReadWriteExecute(entry), "((uint)(" + entry + " >> " + userExecute.Bit + ") << 3 & _userExecute)")
                : new Expression("|", ReadWriteExecute(entry));

        /// <summary>R W X as KVM's ACC bits (R in the place of U); user-execute (bit 3 of the walk's rights) is not shadowed.</summary>
        public override Expression ShadowRightsOf(string entry) => new Expression("&", ReadWriteExecute(entry));

        private string ReadWriteExecute(string entry) =>
            "((" + EntryBit(entry, _ept.ReadBit) + ") << 2 | (" + EntryBit(entry, _ept.WriteBit) + ") << 1 | (" + EntryBit(entry, _ept.ExecuteBit) + "))";

        public override string PresentTest(string entry) => "(" + entry + " & _presentMask) != 0";

        public override string? MisconfiguredTest(string entry) => "IsMisconfigured(" + entry + ")";

        public override Call OutsideMemory(int level, string address) =>
            Calling("EndEptOutsideMemory", Num(MaxLevel), Num(level), address, "Qualification(request)", PtAccess);

        public override Call ReservedBitSet(int level) => Calling("EndEptMisconfiguration", Num(MaxLevel), Num(level), PtAccess);

        public override void EmitEntryFaults(int level)
        {
            W.Line();
            W.Comment("Not present: a violation, whose rights bits (the AND over the entries used, this one included) are all 0.");
            EmitFault("(pte & _presentMask) == 0", Violation(Num(level), "Qualification(request)"));
            EmitFault("IsMisconfigured(pte)", ReservedBitSet(level));
        }

        /// <summary>An EPT violation at <paramref name="level"/> with the exit qualification <paramref name="qualification"/>.</summary>
        private Call Violation(string level, string qualification) =>
            Calling("EndEptViolation", Num(MaxLevel), level, qualification, PtAccess);

        public override string[] Summary => new[]
        {
            "The EPT walker for " + Xml(Plan.Title) + ", generated from <c>" + Plan.FileName + "</c>: guest-physical to host-physical",
            "addresses, ending in a translation, an EPT violation or an EPT misconfiguration.",
        };

        public override string[] ConstructorDocumentation => new[]
        {
            "<summary>Builds the walker for the EPT pointer and VMX controls in <paramref name=\"cpu\"/>.</summary>",
            "<param name=\"memory\">The memory the EPT tables are in (host-physical, from the walk's point of view).</param>",
            "<param name=\"cpu\">EPTP, mode-based execute control, MAXPHYADDR and the VMX capabilities.</param>",
        };

        public override string ReservedBitsName => "KVM's __reset_rsvds_bits_mask_ept";

        public override void EmitStaticTables()
        {
            ImmutableEquatableArray<ulong> bad = _ept.BadMemoryTypeXwr;
            W.Comment("KVM's bad_mt_xwr: bit (memory type << 3 | XWR) is set when a present entry with those bits is an EPT misconfiguration",
                "(write-only, write+execute, reserved memory types " + string.Join(", ", _ept.ReservedMemoryTypes) + ", and read-less executable",
                "entries unless execute-only entries are allowed). Rows: execute-only not allowed, allowed; a word for user-execute clear, set.");
            W.Open("private static global::System.ReadOnlySpan<ulong> BadMemoryTypeXwr => new ulong[]");
            W.Line(Hex(bad[0]) + ", " + Hex(bad[1]) + ", // no execute-only entries");
            W.Line(Hex(bad[2]) + ", " + Hex(bad[3]) + ", // execute-only entries allowed");
            W.Close(";");
            W.Line();

            W.Comment("Rights: row = mode-based execute control; entry = access kind (read, write, fetch) | user-mode linear address << 2;",
                "bit v of an entry is set when the request faults on accumulated rights v (KVM's ACC: X = 1, W = 2, R = 4; user-execute = 8).",
                "An array rather than a span over constants: every walk reads it, and a ReadOnlySpan<ushort> over constants is made by",
                "RuntimeHelpers.CreateSpan, which allocates a field handle on each call in unoptimized (Debug) code.");
            W.Open("private static readonly ushort[] Permissions = new ushort[]");
            for (int row = 0; row < 2; row++)
            {
                W.Line(string.Join(", ", _ept.Permissions.Skip(row * EptTables.RequestsPerRow).Take(EptTables.RequestsPerRow).Select(Hex4))
                    + ", // mode-based execute control " + (row == 0 ? "off" : "on"));
            }

            W.Close(";");
            W.Line();

            W.Comment("The exit qualification's bits 3 to 6 (R, W, X, user-execute allowed by every entry used) for each rights value.");
            W.Open("private static global::System.ReadOnlySpan<byte> RightsQualification => new byte[]");
            W.Line(string.Join(", ", _ept.RightsQualification.Select(Hex2)) + ",");
            W.Close(";");
            W.Line();
        }

        public override void EmitFields()
        {
            W.Line("private readonly ulong _presentMask;");
            W.Line("private readonly uint _userExecute;");
            W.Line("private readonly ulong _badXwr;");
            W.Line("private readonly ulong _badXwrUserExecute;");
            W.Line("private readonly int _permissionRow;");
        }

        public override void EmitConstructorState()
        {
            W.Line();
            FlagBit? userExecute = _ept.UserExecute;
            W.Comment("An entry is present when any of its rights is set"
                + (userExecute != null ? "; the user-execute bit counts only under mode-based execute control." : "."));
            W.Line("bool mbec = " + (userExecute is FlagBit ux ? TestOrTrue(ux.When) : "false") + ";");
            ulong rights = (1UL << _ept.ReadBit) | (1UL << _ept.WriteBit) | (1UL << _ept.ExecuteBit);
            W.Line("_presentMask = " + Hex(rights) + (userExecute is FlagBit bit ? " | (mbec ? " + Hex(1UL << bit.Bit) + " : 0)" : "") + ";");
            W.Line("_userExecute = mbec ? " + EptTables.UserExecute + "U : 0;");
            W.Line();
            W.Comment("This state's words of the misconfiguration bitmap: for entries without and with the user-execute bit (the same",
                "word unless mode-based execute control makes that bit count).");
            W.Line("int badRow = " + (_ept.ExecuteOnly ? TestOrTrue(_ept.ExecuteOnlyWhen) : "false") + " ? 2 : 0;");
            W.Line("_badXwr = BadMemoryTypeXwr[badRow];");
            W.Line("_badXwrUserExecute = BadMemoryTypeXwr[badRow + (mbec ? 1 : 0)];");
            W.Line("_permissionRow = mbec ? " + EptTables.RequestsPerRow + " : 0;");
        }

        public override void EmitWrappingEntryPoints()
        {
            W.Summary("Translates the guest-physical address <paramref name=\"va\"/> as the final translation of a linear address;",
                "<paramref name=\"cpl\"/> 3 stands for a user-mode linear address (mode-based execute control), <paramref name=\"ac\"/> is unused.");
            W.Open("public bool WalkAddr(ref " + Mmu + "GuestWalk walk, ulong va, " + Mmu + "AccessKind kind, int cpl, bool ac)");
            Statement(W, "return ", Calling("WalkGpa", "ref walk", "va", "kind",
                Mmu + "EptAccessFlags.Final | (cpl == 3 ? " + Mmu + "EptAccessFlags.GuestUser : 0)"));
            W.Close();
            W.Line();
        }

        public override Call EntrySignature =>
            Calling("WalkGpa", "ref " + Mmu + "GuestWalk walk", "ulong gpa", Mmu + "AccessKind kind", Mmu + "EptAccessFlags flags");

        public override string RequestCall => "Request(kind, flags)";

        public override string TruncationComment => "// The translation uses guest-physical-address bits " + (Plan.Address.Bits - 1) + ":0 only.";

        public override void EmitRequestHelpers()
        {
            string pagingStructure = "(flags & " + Mmu + "EptAccessFlags.GuestPagingStructure) != 0";
            string pagingStructureWrite = AccessedDirtyOn == "false" ? "false"
                : AccessedDirtyOn == "true" ? pagingStructure : AccessedDirtyOn + " && " + pagingStructure;
            W.Summary("The request as one value: bits 0 to 3 its entry of the permission table (the access kind, 4 for a user-mode linear",
                "address, the mode-based execute control row), bit 4 set when it writes (for the dirty flag), and from bit 8 the exit",
                "qualification's access bits (0 read, 1 write, 2 fetch; both 0 and 1 for a guest paging-structure write) and bits 7 to",
                "11 as <paramref name=\"flags\"/> give them. A guest paging-structure access is a write when EPT A/D flags are on.");
            Inline(W);
            W.Open("private int Request(" + Mmu + "AccessKind kind, " + Mmu + "EptAccessFlags flags)");
            W.Line("bool pagingStructureWrite = " + pagingStructureWrite + ";");
            W.Wrap("int permission = ", new[]
            {
                "_permissionRow", "(pagingStructureWrite ? 1 : (int)kind)", "((flags & " + Mmu + "EptAccessFlags.GuestUser) != 0 ? 4 : 0)",
            }, " + ", ";");
            W.Line("int writes = kind == " + Mmu + "AccessKind.Write || pagingStructureWrite ? 16 : 0;");
            W.Line("uint qualification = (pagingStructureWrite ? 3U : 1U << (int)kind) | ((uint)flags & 0xF80U);");
            W.Line("return permission | writes | (int)(qualification << 8);");
            W.Close();
            W.Line();
            W.Summary("The exit qualification's bits that <paramref name=\"request\"/> gives (its rights bits are the walk's).");
            Inline(W);
            W.Open("private static uint Qualification(int request)");
            W.Line("return (uint)request >> 8;");
            W.Close();
            W.Line();
        }

        public override string LeafSummary => "the rights the request needs, then the translation with the leaf's memory type";

        public override Call EmitLeafChecks()
        {
            W.Comment("Rights: the request's entry of the permission table says which accumulated rights values fault; the qualification's",
                "bits 3 to 6 are those rights.");
            W.Wrap("uint faultingRights = " + Unsafe + ".Add(", new[] { "ref " + MemoryMarshal + ".GetArrayDataReference(Permissions)", "request & 15" },
                ", ", ");");
            EmitFault("((faultingRights >> (int)rights) & 1) != 0", Violation("level", "Qualification(request) | RightsQualification[(int)rights & 15]"));
            string ipat = _ept.IgnorePat is FlagBit ignorePat ? "(pte & " + Hex(1UL << ignorePat.Bit) + ") != 0" : "false";
            return Calling("walk.EndTranslatedEpt", Num(MaxLevel), "level", "frame | (gpa & (pageSize - 1))", "pageSize", "rights",
                "(int)(pte >> " + _ept.MemoryType.Lo + ") & 7", ipat, PtAccess);
        }

        public override void EmitWalkHelpers()
        {
            string index = _ept.StandardLayout
                ? "(int)pte & 0x3F"
                : "(int)((pte >> " + _ept.ReadBit + ") & 1) | (int)((pte >> " + _ept.WriteBit + ") & 1) << 1 | (int)((pte >> " + _ept.ExecuteBit
                    + ") & 1) << 2 | (int)((pte >> " + _ept.MemoryType.Lo + ") & 7) << 3";
            string word = _ept.UserExecute is FlagBit ux ? "(pte & " + Hex(1UL << ux.Bit) + ") != 0 ? _badXwrUserExecute : _badXwr" : "_badXwr";
            W.Comment("KVM's is_bad_mt_xwr: a present entry's XWR and memory type (and the user-execute bit under mode-based execute control).");
            Inline(W);
            W.Open("private bool IsMisconfigured(ulong pte)");
            W.Line("ulong bad = " + word + ";");
            W.Line("return ((bad >> (" + index + ")) & 1) != 0;");
            W.Close();
            W.Line();
        }
    }
}
