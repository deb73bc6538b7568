using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ShadowMmu.Specs;

namespace ShadowMmu.Generators
{
    public sealed partial class ShadowMmuGenerator
    {
        /// <summary>
        /// The template's EPT instance (KVM's <c>PTTYPE == PTTYPE_EPT</c>): the same straight-line walk, a block per
        /// level, but an entry is present when any right is set, a bad entry is an EPT misconfiguration decided by the
        /// reserved-bit masks and the precomputed XWR/memory-type bitmap, and a denied access is an EPT violation whose
        /// exit qualification carries the request and the rights every level allowed.
        /// </summary>
        internal sealed partial class Emitter
        {
            private EptSpec Ept => _spec.Ept!;

            private ulong ReadBit => 1UL << _spec.Present.Bit;

            private ulong WriteBit => 1UL << _spec.Writable.Bit;

            private ulong ExecuteBit => 1UL << Ept.Execute.Bit;

            /// <summary>Entry bits 5:0 are memory type and XWR in the SDM's layout, so the bitmap index is one mask.</summary>
            private bool StandardEptLayout => _spec.Present.Bit == 0 && _spec.Writable.Bit == 1 && Ept.Execute.Bit == 2 && Ept.MemoryType.Lo == 3;

            private void EmitEptStaticTables()
            {
                EmitReservedBitsTable("KVM's __reset_rsvds_bits_mask_ept");

                ulong[] bad = EptTables.MisconfigurationBitmap(Ept);
                _w.Line("// KVM's bad_mt_xwr: bit (memory type << 3 | XWR) is set when a present entry with those bits is an EPT misconfiguration");
                _w.Line("// (write-only, write+execute, reserved memory types " + string.Join(", ", Ept.ReservedMemoryTypes) + ", and read-less executable entries");
                _w.Line("// unless execute-only entries are allowed). Rows: execute-only not allowed, allowed; a word for user-execute clear, set.");
                _w.Open("private static global::System.ReadOnlySpan<ulong> BadMemoryTypeXwr => new ulong[]");
                _w.Line(Hex(bad[0]) + ", " + Hex(bad[1]) + ", // no execute-only entries");
                _w.Line(Hex(bad[2]) + ", " + Hex(bad[3]) + ", // execute-only entries allowed");
                _w.Close(";");
                _w.Line();

                ushort[] permissions = EptTables.PermissionTable();
                _w.Line("// Rights: row = mode-based execute control; entry = access kind (read, write, fetch) | user-mode linear address << 2;");
                _w.Line("// bit v of an entry is set when the request faults on accumulated rights v (KVM's ACC: X = 1, W = 2, R = 4; user-execute = 8).");
                _w.Line("// An array rather than a span over constants: every walk reads it, and a ReadOnlySpan<ushort> over constants is made by");
                _w.Line("// RuntimeHelpers.CreateSpan, which allocates a field handle on each call in unoptimized (Debug) code.");
                _w.Open("private static readonly ushort[] Permissions = new ushort[]");
                for (int row = 0; row < 2; row++)
                {
                    _w.Line(string.Join(", ", permissions.Skip(row * EptTables.RequestsPerRow).Take(EptTables.RequestsPerRow).Select(p => "0x" + p.ToString("X4", CultureInfo.InvariantCulture)))
                        + ", // mode-based execute control " + (row == 0 ? "off" : "on"));
                }

                _w.Close(";");
                _w.Line();

                byte[] qualification = EptTables.RightsQualification();
                _w.Line("// The exit qualification's bits 3 to 6 (R, W, X, user-execute allowed by every entry used) for each rights value.");
                _w.Open("private static global::System.ReadOnlySpan<byte> RightsQualification => new byte[]");
                _w.Line(string.Join(", ", qualification.Select(b => "0x" + b.ToString("X2", CultureInfo.InvariantCulture))) + ",");
                _w.Close(";");
                _w.Line();
            }

            private void EmitEptFields()
            {
                _w.Line("private readonly " + Ns + "GuestMemory _memory;");
                EmitEntryLimitFields();
                _w.Line("private readonly ulong _root;");
                foreach (ReservedSlot slot in _reserved.Slots)
                {
                    _w.Line("private readonly ulong " + slot.FieldName + ";");
                }

                _w.Line("private readonly ulong _presentMask;");
                _w.Line("private readonly uint _userExecute;");
                _w.Line("private readonly ulong _badXwr;");
                _w.Line("private readonly ulong _badXwrUserExecute;");
                _w.Line("private readonly int _permissionRow;");
                if (_spec.Accessed != null)
                {
                    _w.Line("private readonly bool _accessedDirty;");
                }

                _w.Line();
            }

            private void EmitEptConstructor()
            {
                _w.Line("/// <summary>Builds the walker for the EPT pointer and VMX controls in <paramref name=\"cpu\"/>.</summary>");
                _w.Line("/// <param name=\"memory\">The memory the EPT tables are in (host-physical, from the walk's point of view).</param>");
                _w.Line("/// <param name=\"cpu\">EPTP, mode-based execute control, MAXPHYADDR and the VMX capabilities.</param>");
                _w.Open("public " + _spec.WalkerName + "(" + Ns + "GuestMemory memory, in " + Ns + "CpuState cpu)");
                _w.Line("_memory = memory;");
                EmitEntryLimit();
                _w.Line("_root = cpu.Eptp & " + Hex(_spec.Root.Mask) + ";");
                _w.Line("int maxPhysAddr = cpu.MaxPhysAddr;");
                _w.Line();
                EmitReservedFieldsInit();
                _w.Line();
                FlagBit? userExecute = Ept.UserExecute;
                _w.Line("// An entry is present when any of its rights is set" + (userExecute != null ? "; the user-execute bit counts only under mode-based execute control." : "."));
                string mbec = userExecute == null ? "false" : userExecute.Value.When == null ? "true" : Test(userExecute.Value.When.Value);
                _w.Line("bool mbec = " + mbec + ";");
                ulong rights = ReadBit | WriteBit | ExecuteBit;
                _w.Line("_presentMask = " + Hex(rights) + (userExecute != null ? " | (mbec ? " + Hex(1UL << userExecute.Value.Bit) + " : 0)" : "") + ";");
                _w.Line("_userExecute = mbec ? " + EptTables.UserExecute + "U : 0;");
                _w.Line();
                _w.Line("// This state's words of the misconfiguration bitmap: for entries without and with the user-execute bit (the same");
                _w.Line("// word unless mode-based execute control makes that bit count).");
                string executeOnly = !Ept.ExecuteOnly ? "false" : Ept.ExecuteOnlyWhen == null ? "true" : Test(Ept.ExecuteOnlyWhen.Value);
                _w.Line("int badRow = " + executeOnly + " ? 2 : 0;");
                _w.Line("_badXwr = BadMemoryTypeXwr[badRow];");
                _w.Line("_badXwrUserExecute = BadMemoryTypeXwr[badRow + (mbec ? 1 : 0)];");
                _w.Line("_permissionRow = mbec ? " + EptTables.RequestsPerRow + " : 0;");
                if (_spec.Accessed != null)
                {
                    FlagBit accessed = _spec.Accessed.Value;
                    _w.Line("_accessedDirty = " + (accessed.When == null ? "true" : Test(accessed.When.Value)) + ";");
                }

                _w.Close();
                _w.Line();
            }

            private void EmitEptWalk()
            {
                EmitEptWalkAddr();
                EmitEptWalkGpa();
                EmitEptRequestHelpers();
                EmitEptWalkOnce();
                EmitEptLeaf();
                EmitSetAccessedDirty();
                EmitEptMisconfiguredHelper();
            }

            private void EmitEptWalkAddr()
            {
                _w.Line("/// <summary>");
                _w.Line("/// Translates the guest-physical address <paramref name=\"va\"/> as the final translation of a linear address;");
                _w.Line("/// <paramref name=\"cpl\"/> 3 stands for a user-mode linear address (mode-based execute control), <paramref name=\"ac\"/> is unused.");
                _w.Line("/// </summary>");
                _w.Open("public bool WalkAddr(ref " + Ns + "GuestWalk walk, ulong va, " + Ns + "AccessKind kind, int cpl, bool ac)");
                _w.Line("return WalkGpa(ref walk, va, kind, " + Ns + "EptAccessFlags.Final | (cpl == 3 ? " + Ns + "EptAccessFlags.GuestUser : 0));");
                _w.Close();
                _w.Line();
            }

            private void EmitEptWalkGpa()
            {
                _w.Line("/// <inheritdoc/>");
                _w.Line("// Never inlined: the pass is inlined here, and a call site that inlined this small method would get a copy of the");
                _w.Line("// whole walk.");
                _w.Line(NoInline);
                _w.Open("public bool WalkGpa(ref " + Ns + "GuestWalk walk, ulong gpa, " + Ns + "AccessKind kind, " + Ns + "EptAccessFlags flags)");
                if (_spec.LinearBits < 64)
                {
                    _w.Line("// The translation uses guest-physical-address bits " + (_spec.LinearBits - 1) + ":0 only.");
                    _w.Line("gpa &= " + Hex((1UL << _spec.LinearBits) - 1) + ";");
                    _w.Line();
                }

                _w.Line("// The record's fields that a retry keeps: the address, and the A/D updates (none yet).");
                _w.Line("walk.Va = gpa;");
                _w.Line("walk.UpdateCount = 0;");
                _w.Line();
                _w.Line("return WalkOnce(ref walk, gpa, Request(kind, flags)" + (HasAccessedDirty ? ", retry: false" : "") + ");");

                _w.Close();
                _w.Line();
            }

            private void EmitEptRequestHelpers()
            {
                string pagingWrite = _spec.Accessed != null ? "_accessedDirty && (flags & " + Ns + "EptAccessFlags.GuestPagingStructure) != 0" : "false";
                _w.Line("/// <summary>");
                _w.Line("/// The request as one value: bits 0 to 3 its entry of the permission table (the access kind, 4 for a user-mode linear");
                _w.Line("/// address, the mode-based execute control row), bit 4 set when it writes (for the dirty flag), and from bit 8 the exit");
                _w.Line("/// qualification's access bits (0 read, 1 write, 2 fetch; both 0 and 1 for a guest paging-structure write) and bits 7 to");
                _w.Line("/// 11 as <paramref name=\"flags\"/> give them. A guest paging-structure access is a write when EPT A/D flags are on.");
                _w.Line("/// </summary>");
                _w.Line(Inline);
                _w.Open("private int Request(" + Ns + "AccessKind kind, " + Ns + "EptAccessFlags flags)");
                _w.Line("bool pagingStructureWrite = " + pagingWrite + ";");
                _w.Line("int permission = _permissionRow + (pagingStructureWrite ? 1 : (int)kind) + ((flags & " + Ns + "EptAccessFlags.GuestUser) != 0 ? 4 : 0);");
                _w.Line("int writes = kind == " + Ns + "AccessKind.Write || pagingStructureWrite ? 16 : 0;");
                _w.Line("uint qualification = (pagingStructureWrite ? 3U : 1U << (int)kind) | ((uint)flags & 0xF80U);");
                _w.Line("return permission | writes | (int)(qualification << 8);");
                _w.Close();
                _w.Line();
                _w.Line("/// <summary>The exit qualification's bits that <paramref name=\"request\"/> gives (its rights bits are the walk's).</summary>");
                _w.Line(Inline);
                _w.Open("private static uint Qualification(int request)");
                _w.Line("return (uint)request >> 8;");
                _w.Close();
                _w.Line();
            }

            private void EmitEptWalkOnce()
            {
                _w.Line("/// <summary>");
                _w.Line("/// One pass of the walk: true when it translated, false with the violation or misconfiguration recorded" + (HasAccessedDirty ? " (or, in a" : "."));
                if (HasAccessedDirty)
                {
                    _w.Line("/// retry's pass, with neither when accessed or dirty flags are missing).");
                }

                _w.Line("/// </summary>");
                _w.Line(Inline);
                _w.Open("private bool WalkOnce(ref " + Ns + "GuestWalk walk, ulong gpa, int request" + (HasAccessedDirty ? ", bool retry" : "") + ")");
                _w.Line("// The memory's bytes never move while it lives (the stores to the record cannot change them).");
                _w.Line("ref byte memoryBase = ref _memory.DangerousGetBaseReference();");
                _w.Line();
                _w.Line("// What the pass learns stays in locals until its end: the rights accumulated so far, those each level inherits");
                _w.Line("// (byte level - 1 of ptAccess)" + (HasAccessedDirty ? ", and the AND of the entries read, for the A/D test." : "."));
                _w.Line("uint rights = " + Ns + "EptRights.All;");
                _w.Line("ulong ptAccess = 0, table = _root, address, pte" + (HasAccessedDirty ? ", accessed" : "") + ";");
                foreach (LevelSpec level in _spec.Levels)
                {
                    _w.Line();
                    EmitEptLevel(level);
                }

                _w.Close();
                _w.Line();
            }

            private void EmitEptLevel(LevelSpec level)
            {
                BitRange index = level.Index;
                int byteShift = index.Lo - EntryShift;
                ulong byteMask = ((1UL << index.Width) - 1) << EntryShift;
                int max = _spec.RootLevel;
                string ptAccess = PtAccessArgument;
                _w.Line("// Level " + level.Level + ": the " + level.EntryName + " that gpa[" + index + "] selects" + (level.Level == max ? ", in the table EPTP names." : "."));
                _w.Line("address = table + ((gpa >> " + byteShift + ") & " + Hex(byteMask) + ");");
                EmitInherited(level);
                EmitFault("address >= _entryLimit", "EndEptOutsideMemory(" + max + ", " + level.Level + ", address, Qualification(request), " + ptAccess + ")");
                _w.Line("pte" + (HasAccessedDirty && level.Level == max ? " = accessed" : "") + " = ReadEntry(ref memoryBase, address);");
                if (HasAccessedDirty && level.Level != max)
                {
                    _w.Line("accessed &= pte;");
                }

                _w.Line("walk.Record(" + level.Level + ", address, pte);");
                _w.Line("rights &= " + EptRightsOf() + ";");
                _w.Line();
                _w.Line("// Not present: a violation, whose rights bits (the AND over the entries used, this one included) are all 0.");
                EmitFault("(pte & _presentMask) == 0", "EndEptViolation(" + max + ", " + level.Level + ", Qualification(request), " + ptAccess + ")");
                EmitFault("IsMisconfigured(pte)", "EndEptMisconfiguration(" + max + ", " + level.Level + ", " + ptAccess + ")");

                ReservedSlot tableSlot = _reserved.Slots.FirstOrDefault(s => s.Level.Level == level.Level && s.Case == EntryCase.Table);
                ReservedSlot pageSlot = _reserved.Slots.FirstOrDefault(s => s.Level.Level == level.Level && s.Case == EntryCase.Page);
                if (level.Level == 1)
                {
                    EmitEptReservedCheck(level, pageSlot);
                    EmitLeafCall(level);
                    return;
                }

                if (level.Page != null)
                {
                    _w.Open("if ((pte & " + Hex(1UL << _spec.PageSize!.Value.Bit) + ") != 0)");
                    EmitEptReservedCheck(level, pageSlot);
                    EmitLeafCall(level);
                    _w.Close();
                    _w.Line();
                }

                EmitEptReservedCheck(level, tableSlot);
                _w.Line("table = pte & " + Hex(level.Table!.Value.Mask) + ";");
            }

            private void EmitEptReservedCheck(LevelSpec level, ReservedSlot slot)
            {
                EmitFault("(pte & " + slot.FieldName + ") != 0", "EndEptMisconfiguration(" + _spec.RootLevel + ", " + level.Level + ", " + PtAccessArgument + ")");
            }

            private void EmitEptLeaf()
            {
                int max = _spec.RootLevel;
                _w.Line("/// <summary>");
                _w.Line("/// The end of a pass at a leaf of <paramref name=\"level\"/> that maps <paramref name=\"pageSize\"/> bytes at <paramref name=\"frame\"/>:");
                _w.Line("/// the rights the request needs, then the translation with the leaf's memory type. Inlined into each level that may");
                _w.Line("/// map a page, where all but the entry's values are constants.");
                _w.Line("/// </summary>");
                _w.Line(Inline);
                _w.Open("private bool Leaf(ref " + Ns + "GuestWalk walk, ulong gpa, int request, ulong pte, uint rights, ulong ptAccess, int level, ulong pageSize, ulong frame" + AccessedParameters + ")");
                _w.Line("// Rights: the request's entry of the permission table says which accumulated rights values fault; the qualification's");
                _w.Line("// bits 3 to 6 are those rights.");
                _w.Line("uint faultingRights = " + Unsafe + ".Add(ref global::System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(Permissions), request & 15);");
                EmitFault("((faultingRights >> (int)rights) & 1) != 0", "EndEptViolation(" + max + ", level, Qualification(request) | RightsQualification[(int)rights & 15], " + PtAccessArgument + ")");
                BitRange memoryType = Ept.MemoryType;
                string ipat = Ept.IgnorePat != null ? "(pte & " + Hex(1UL << Ept.IgnorePat.Value.Bit) + ") != 0" : "false";
                string translated = "walk.EndTranslatedEpt(" + max + ", level, frame | (gpa & (pageSize - 1)), pageSize, rights, (int)(pte >> " + memoryType.Lo + ") & 7, " + ipat + ", " + PtAccessArgument + ")";
                if (!HasAccessedDirty)
                {
                    _w.Line("return " + translated + ";");
                }
                else
                {
                    _w.Line(translated + ";");
                    EmitAccessedDirtyTest("(request & 16) == 0", "gpa", "!_accessedDirty || ");
                }

                _w.Close();
                _w.Line();
            }

            private void EmitEptMisconfiguredHelper()
            {
                string index = StandardEptLayout
                    ? "(int)pte & 0x3F"
                    : "(int)((pte >> " + _spec.Present.Bit + ") & 1) | (int)((pte >> " + _spec.Writable.Bit + ") & 1) << 1 | (int)((pte >> " + Ept.Execute.Bit + ") & 1) << 2 | (int)((pte >> " + Ept.MemoryType.Lo + ") & 7) << 3";
                string word = Ept.UserExecute != null ? "(pte & " + Hex(1UL << Ept.UserExecute.Value.Bit) + ") != 0 ? _badXwrUserExecute : _badXwr" : "_badXwr";
                _w.Line("// KVM's is_bad_mt_xwr: a present entry's XWR and memory type (and the user-execute bit under mode-based execute control).");
                _w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]");
                _w.Open("private bool IsMisconfigured(ulong pte)");
                _w.Line("ulong bad = " + word + ";");
                _w.Line("return ((bad >> (" + index + ")) & 1) != 0;");
                _w.Close();
                _w.Line();
            }

            /// <summary>The rights an EPT entry grants as KVM's ACC bits (X = 1, W = 2, R = 4), user-execute as 8 under mode-based execute control.</summary>
            private string EptRightsOf()
            {
                string rights = "((" + EntryBit(_spec.Present.Bit) + ") << 2 | (" + EntryBit(_spec.Writable.Bit) + ") << 1 | (" + EntryBit(Ept.Execute.Bit) + "))";
                if (Ept.UserExecute != null)
                {
                    int ux = Ept.UserExecute.Value.Bit;
                    rights += " | ((uint)(pte >> " + ux + ") << 3 & _userExecute)";
                }

                return rights;
            }

            private static string EntryBit(int bit) => bit == 0 ? "(uint)pte & 1" : "(uint)(pte >> " + bit + ") & 1";
        }
    }
}
