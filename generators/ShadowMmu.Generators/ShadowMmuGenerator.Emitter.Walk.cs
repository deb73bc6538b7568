using System.Collections.Generic;
using System.Linq;
using ShadowMmu.Specs;

namespace ShadowMmu.Generators
{
    public sealed partial class ShadowMmuGenerator
    {
        /// <summary>
        /// The walk template, KVM's <c>FNAME(walk_addr_generic)</c>: an entry point that computes the request once, one pass
        /// over the levels (<c>WalkOnce</c>: a block per level, every shift and mask a constant) that ends at a leaf in
        /// <c>Leaf</c> (rights, protection keys, the translation), and the accessed/dirty update with its retry out of line.
        /// A pass keeps what it learns in locals and writes the record's ending in a few wide stores (GuestWalk's
        /// <c>End</c> methods): on a core with one store port a walk is bound by its stores, not by its loads. Every way
        /// out of a pass is a return of a call's result or of a value, so that nothing stays live across a call and the
        /// walk saves few registers.
        /// </summary>
        internal sealed partial class Emitter
        {
            private const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";
            private const string Inline = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]";
            private const string NoInline = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]";

            // True while the two-dimensional variant of the pass is written (WalkNestedOnce): the same template, with every
            // guest table access going through EPT.
            private bool _nested;

            private void EmitWalk()
            {
                EmitWalkAddr();
                EmitRequestHelpers();
                EmitWalkOnce();
                EmitLeaf();
                if (_spec.ProtectionKey != null)
                {
                    EmitDenied();
                }

                EmitSetAccessedDirty();
                if (SupportsNestedWalk)
                {
                    _nested = true;
                    EmitWalkNested();
                    EmitWalkOnce();
                    if (HasAccessedDirty)
                    {
                        EmitTrySetAccessedDirty();
                    }

                    _nested = false;
                }
            }

            private void EmitWalkAddr()
            {
                _w.Line("/// <inheritdoc/>");
                _w.Line("// Never inlined: the pass is inlined here, and a call site that inlined this small method would get a copy of the");
                _w.Line("// whole walk.");
                _w.Line(NoInline);
                _w.Open("public bool WalkAddr(ref " + Ns + "GuestWalk walk, ulong va, " + Ns + "AccessKind kind, int cpl, bool ac)");
                EmitWalkPrologue();
                _w.Line();
                _w.Line("return WalkOnce(ref walk, va, Request(kind, cpl, ac)" + (HasAccessedDirty ? ", retry: false" : "") + ");");
                _w.Close();
                _w.Line();
            }

            private void EmitWalkNested()
            {
                _w.Line("/// <inheritdoc/>");
                _w.Open("public bool WalkNested(ref " + Ns + "NestedWalk nested, ulong va, " + Ns + "AccessKind kind, int cpl, bool ac, " + Ns + "IEptWalker ept)");
                _w.Line("// The guest's own faults end the walk unless EPT exits first or everything translates.");
                _w.Line("nested.Begin();");
                _w.Line("nested.Fault = " + Ns + "NestedFault.Guest;");
                _w.Line("ref " + Ns + "GuestWalk walk = ref nested.Guest;");
                _w.Line();
                EmitWalkPrologue();
                _w.Line();
                _w.Line("int request = Request(kind, cpl, ac);");
                _w.Open("while (!WalkNestedOnce(ref nested, va, request, ept))");
                if (HasAccessedDirty)
                {
                    _w.Line("// A fault of either dimension ends the walk; a pass that translated but found accessed or dirty flags missing");
                    _w.Line("// returns false with neither. Each flag is a write of a guest paging structure through EPT, which may exit; an");
                    _w.Line("// entry that changed since it was read makes the walk run again.");
                    _w.Open("if (walk.Fault != " + Ns + "WalkFault.None || nested.Fault == " + Ns + "NestedFault.Ept)");
                    _w.Line("return false;");
                    _w.Close();
                    _w.Line();
                    _w.Line("int set = SetAccessedDirtyNested(ept, ref nested, walk.Level, (request & 1) != 0);");
                    _w.Open("if (set < 0)");
                    _w.Line("return false;");
                    _w.Close();
                    _w.Line();
                    _w.Open("if (set > 0)");
                    _w.Line("break;");
                    _w.Close();
                }
                else
                {
                    _w.Line("return false;");
                }

                _w.Close();
                _w.Line();
                _w.Line("// The final guest-physical address through EPT, for the access itself.");
                _w.Line("return nested.TranslateFinal(ept, kind);");
                _w.Close();
                _w.Line();
            }

            // The address's width, the record's fields that a retry keeps, and the faults raised before any table is read.
            private void EmitWalkPrologue()
            {
                if (_spec.LinearBits < 64 && !_spec.Canonical)
                {
                    _w.Line("// Linear addresses are " + _spec.LinearBits + " bits wide in this mode.");
                    _w.Line("va &= " + Hex((1UL << _spec.LinearBits) - 1) + ";");
                    _w.Line();
                }

                _w.Line("// The record's fields that a retry keeps: the address, and the A/D updates (none yet).");
                _w.Line("walk.Va = va;");
                _w.Line("walk.UpdateCount = 0;");
                if (_spec.Canonical)
                {
                    int shift = 64 - _spec.LinearBits;
                    _w.Line();
                    _w.Line("// A non-canonical address (bits 63:" + (_spec.LinearBits - 1) + " not all equal) is a #GP(0), raised before any table is read.");
                    _w.Open("if (((long)va << " + shift + " >> " + shift + ") != (long)va)");
                    EmitGeneralProtection();
                    _w.Close();
                }

                if (Registers.Any())
                {
                    _w.Line();
                    _w.Open("if (_registerLoadFaulted)");
                    EmitGeneralProtection();
                    _w.Close();
                }
            }

            private void EmitGeneralProtection()
            {
                _w.Line("walk.Restart(0);");
                _w.Line("return walk.GeneralProtection();");
            }

            private void EmitRequestHelpers()
            {
                _w.Line("/// <summary>");
                _w.Line("/// The request as one value, below 256: the CPU state's row of the permission bitmap, and the write (bit 0), user (1),");
                _w.Line("/// SMAP-override (2: EFLAGS.AC on a supervisor access) and fetch (3) bits, KVM's <c>pfec &gt;&gt; 1</c>.");
                _w.Line("/// </summary>");
                _w.Line(Inline);
                _w.Open("private int Request(" + Ns + "AccessKind kind, int cpl, bool ac)");
                _w.Line("// RequestBits: W, U, SMAP override and F for a read, write or fetch, + 4 in user mode, + 8 with EFLAGS.AC (which");
                _w.Line("// overrides SMAP for a supervisor access only); an undefined kind reads.");
                _w.Line("int index = ((uint)kind <= 2 ? (int)kind : 0) | (cpl == 3 ? 4 : 0) | (ac ? 8 : 0);");
                _w.Line("return _permissionRow | " + Unsafe + ".Add(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(RequestBits), index);");
                _w.Close();
                _w.Line();
                _w.Line("/// <summary>The error-code bits a fault reports for <paramref name=\"request\"/>: W/R, U/S, and I/D for a fetch when it counts.</summary>");
                _w.Line(Inline);
                _w.Open("private uint FaultBits(int request)");
                _w.Line("return (uint)(request & 1) * " + Ns + "PageFaultErrorCode.Write | (uint)((request >> 1) & 1) * " + Ns + "PageFaultErrorCode.User | ((request & 8) != 0 ? _fetchErrorCode : 0);");
                _w.Close();
                _w.Line();
            }

            private void EmitWalkOnce()
            {
                _w.Line("/// <summary>");
                if (_nested)
                {
                    _w.Line("/// One pass of the two-dimensional walk: each guest table entry's guest-physical address through EPT before it is read.");
                    _w.Line("/// True when it translated to a guest-physical address with every accessed and dirty flag set; false with the guest's");
                    _w.Line("/// fault or EPT's exit recorded, or with neither when flags are missing.");
                    _w.Line("/// </summary>");
                    _w.Open("private bool WalkNestedOnce(ref " + Ns + "NestedWalk nested, ulong va, int request, " + Ns + "IEptWalker ept)");
                    _w.Line("ref " + Ns + "GuestWalk walk = ref nested.Guest;");
                    _w.Line();
                }
                else
                {
                    _w.Line("/// One pass of the walk: true when it translated, false with the fault recorded." + (HasAccessedDirty ? " Missing accessed or dirty flags" : ""));
                    if (HasAccessedDirty)
                    {
                        _w.Line("/// are set by SetAccessedDirty, which walks again when an entry changed; its passes (<paramref name=\"retry\"/>) return");
                        _w.Line("/// false with no fault for them instead.");
                    }

                    _w.Line("/// </summary>");
                    _w.Line(Inline);
                    _w.Open("private bool WalkOnce(ref " + Ns + "GuestWalk walk, ulong va, int request" + (HasAccessedDirty ? ", bool retry" : "") + ")");
                }

                if (MemoryLevels.Any(EntriesAligned))
                {
                    _w.Line("// Guest memory's bytes never move while it lives (the stores to the record cannot change them).");
                    _w.Line("ref byte memoryBase = ref _memory.DangerousGetBaseReference();");
                    _w.Line();
                }

                _w.Line("// What the pass learns stays in locals until its end: those rights each level inherits (byte level - 1 of ptAccess,");
                var locals = new List<string> { "ptAccess = 0", "table = _root", "gpa", "pte" };
                if (StandardRights)
                {
                    _w.Line("// KVM's pt_access), and the AND of the entries read with " + (HasExecuteDisable ? "each execute-disable bit moved onto the present bit" : "their present bits") + ":");
                    _w.Line("// its bits 2:0 are the rights U W X accumulated so far (KVM's pte_access)" + (HasAccessedDirty ? ", and bit " + _spec.Accessed!.Value.Bit + " says whether every" : "."));
                    if (HasAccessedDirty)
                    {
                        _w.Line("// entry read has its accessed flag.");
                    }

                    locals.Insert(0, "acc = ulong.MaxValue");
                }
                else
                {
                    _w.Line("// KVM's pt_access), the rights accumulated so far" + (HasAccessedDirty ? ", and the AND of the entries read, for the A/D test." : "."));
                    _w.Line("uint access = " + Ns + "AccessRights.All;");
                    if (HasAccessedDirty)
                    {
                        locals.Add("accessed = ulong.MaxValue");
                    }
                }

                if (_nested)
                {
                    locals.Add("hpa");
                }

                _w.Line("ulong " + string.Join(", ", locals) + ";");
                foreach (LevelSpec level in _spec.Levels)
                {
                    _w.Line();
                    if (level.Register)
                    {
                        EmitRegisterLevel(level);
                    }
                    else
                    {
                        EmitLevel(level);
                    }
                }

                _w.Close();
                _w.Line();
            }

            private void EmitRegisterLevel(LevelSpec level)
            {
                int shift = level.Index.Lo;
                ulong mask = (1UL << level.Index.Width) - 1;
                _w.Line("// Level " + level.Level + ": the " + level.EntryName + " register that va[" + level.Index + "] selects. It carries no rights and no accessed flag.");
                _w.Line("gpa = table + (((va >> " + shift + ") & " + Hex(mask) + ") << " + EntryShift + ");");
                _w.Line("pte = " + RegistersField(level) + "[(int)(va >> " + shift + ") & " + Hex(mask) + "];");
                _w.Line("walk.Record(" + level.Level + ", gpa, pte);");
                EmitInherited(level);
                EmitPresentCheck(level);
                _w.Line("table = pte & " + Hex(level.Table!.Value.Mask) + ";");
            }

            private void EmitLevel(LevelSpec level)
            {
                BitRange index = level.Index;
                int byteShift = index.Lo - EntryShift;
                ulong byteMask = ((1UL << index.Width) - 1) << EntryShift;
                _w.Line("// Level " + level.Level + ": the " + level.EntryName + " that va[" + index + "] selects" + (level.Level == _spec.RootLevel ? ", in the table CR3 names." : "."));
                _w.Line("gpa = table + ((va >> " + byteShift + ") & " + Hex(byteMask) + ");");
                if (_nested)
                {
                    _w.Line();
                    _w.Line("// Through EPT first: a read of a guest paging structure (a write, with EPT A/D flags on). When EPT exits, the");
                    _w.Line("// guest walk ends at this level, unread, with no fault of its own.");
                    _w.Open("if (!nested.TranslateGuestEntry(ept, " + level.Level + ", gpa, update: false, out hpa))");
                    _w.Line("walk.MaxLevel = " + MaxLevel + ";");
                    _w.Line("walk.PtAccess = new " + Ns + "LevelAccess(ptAccess);");
                    _w.Line("return false;");
                    _w.Close();
                    _w.Line();
                    EmitInherited(level);
                    EmitFault("hpa >= _entryLimit", "EndOutsideMemory(" + MaxLevel + ", " + level.Level + ", gpa, FaultBits(request), " + PtAccessArgument + ")");
                    _w.Line("pte = ReadEntry(ref memoryBase, hpa);");
                }
                else if (EntriesAligned(level))
                {
                    EmitInherited(level);
                    EmitFault("gpa >= _entryLimit", "EndOutsideMemory(" + MaxLevel + ", " + level.Level + ", gpa, FaultBits(request), " + PtAccessArgument + ")");
                    _w.Line("pte = ReadEntry(ref memoryBase, gpa);");
                }
                else
                {
                    EmitInherited(level);
                    _w.Line("// The table's address may leave the entry unaligned: the checked read.");
                    EmitFault("!TryReadEntry(gpa, out pte)", "EndOutsideMemory(" + MaxLevel + ", " + level.Level + ", gpa, FaultBits(request), " + PtAccessArgument + ")");
                }

                _w.Line("walk.Record(" + level.Level + ", gpa, pte);");
                if (StandardRights)
                {
                    _w.Line("acc &= pte" + (HasExecuteDisable ? " ^ ((pte & _executeDisable) >> " + _spec.ExecuteDisable!.Value.Bit + ")" : "") + ";");
                }
                else
                {
                    if (HasAccessedDirty)
                    {
                        _w.Line("accessed &= pte;");
                    }

                    _w.Line("access &= " + AccessOf() + ";");
                }

                EmitPresentCheck(level);
                PageRule? page = level.Page;
                ReservedSlot tableSlot = _reserved.Slots.FirstOrDefault(s => s.Level.Level == level.Level && s.Case == EntryCase.Table);
                ReservedSlot pageSlot = _reserved.Slots.FirstOrDefault(s => s.Level.Level == level.Level && s.Case == EntryCase.Page);
                if (level.Level == 1)
                {
                    EmitReservedCheck(level, pageSlot);
                    EmitLeafCall(level);
                    return;
                }

                if (page != null)
                {
                    ulong ps = 1UL << _spec.PageSize!.Value.Bit;
                    string test = "(pte & " + Hex(ps) + ") != 0";
                    if (page.When != null && !page.ElseReserved)
                    {
                        test += " && " + MapsPagesField(level);
                    }

                    _w.Open("if (" + test + ")");
                    EmitReservedCheck(level, pageSlot);
                    EmitLeafCall(level);
                    _w.Close();
                    _w.Line();
                }

                EmitReservedCheck(level, tableSlot);
                _w.Line("table = pte & " + Hex(level.Table!.Value.Mask) + ";");
            }

            /// <summary>The rights <paramref name="level"/> inherits from the levels above it, in its byte of ptAccess.</summary>
            private void EmitInherited(LevelSpec level)
            {
                string shift = level.Level == 1 ? "" : " << " + (8 * (level.Level - 1));
                string rights = _spec.IsEpt ? "(ulong)rights" : StandardRights ? "(acc & 7)" : "(ulong)access";
                _w.Line("ptAccess |= " + rights + shift + ";");
            }

            /// <summary>
            /// The present, writable and user bits are bits 0, 1 and 2, as in every x86 format: the rights accumulate in one AND
            /// of the entries (KVM's <c>pte_access = pt_access &amp; (pte ^ walk_nx_mask)</c>), an execute-disable bit that
            /// counts clearing the present bit's place, which stands for X; the accessed flags come with it.
            /// </summary>
            private bool StandardRights => !_spec.IsEpt && _spec.Present.Bit == 0 && _spec.Writable.Bit == 1 && _spec.User.Bit == 2
                && (_spec.ExecuteDisable == null || _spec.ExecuteDisable.Value.Bit > 2);

            private static string PtAccessArgument => "new " + Ns + "LevelAccess(ptAccess)";

            /// <summary>Ends the pass with <paramref name="ending"/> (a call on the record, false) when <paramref name="condition"/> holds.</summary>
            private void EmitFault(string condition, string ending, bool onRecord = true)
            {
                _w.Open("if (" + condition + ")");
                _w.Line("return " + (onRecord ? "walk." : "") + ending + ";");
                _w.Close();
                _w.Line();
            }

            private void EmitDenied()
            {
                BitRange keyBits = _spec.ProtectionKey!.Value;
                _w.Line("/// <summary>");
                _w.Line("/// Ends a pass whose leaf denied the access: the error code has PK when the key denied it (a data access to a user-mode");
                _w.Line("/// page whose key's PKRU bits forbid it), whether or not the rights did too. Out of line: the walk's cold path.");
                _w.Line("/// </summary>");
                _w.Line(NoInline);
                _w.Open("private bool Denied(ref " + Ns + "GuestWalk walk, int request, uint access, int key, int level, ulong ptAccess)");
                _w.Line("uint pkFault = (uint)(_pkDenied >> ((request & 3) << 4 | key)) & (access >> 2) & ~((uint)request >> 3) & 1;");
                _w.Line("return walk.EndPageFault(" + MaxLevel + ", level, FaultBits(request) | " + Ns + "PageFaultErrorCode.Present | pkFault * " + Ns + "PageFaultErrorCode.ProtectionKey, " + PtAccessArgument + ");");
                _w.Close();
                _w.Line();
            }

            private void EmitPresentCheck(LevelSpec level)
            {
                EmitFault("(pte & " + Hex(1UL << _spec.Present.Bit) + ") == 0", "EndPageFault(" + MaxLevel + ", " + level.Level + ", FaultBits(request), " + PtAccessArgument + ")");
            }

            private void EmitReservedCheck(LevelSpec level, ReservedSlot slot)
            {
                EmitFault("(pte & " + slot.FieldName + ") != 0", "EndPageFault(" + MaxLevel + ", " + level.Level + ", FaultBits(request) | ReservedFault, " + PtAccessArgument + ")");
            }

            /// <summary>The pass ends at the page <paramref name="level"/>'s entry maps: Leaf, with that page's constants.</summary>
            private void EmitLeafCall(LevelSpec level)
            {
                PageRule page = level.Page!;
                string address = _spec.IsEpt ? "gpa" : "va";
                string rights = _spec.IsEpt ? "rights" : StandardRights ? "(uint)acc & 7" : "access";
                string accessed = !HasAccessedDirty ? "" : (_spec.IsEpt || !StandardRights ? ", accessed" : ", acc") + (_nested ? ", retry: true" : ", retry");
                _w.Line("// " + (level.Level == 1 ? "The" : "A") + " " + page.SizeName + " page" + (page.High != null ? "; entry bits " + page.High + " are physical-address bits " + new BitRange(page.HighAt + page.High.Value.Width - 1, page.HighAt) : "") + ".");
                _w.Line("return Leaf(ref walk, " + address + ", request, pte, " + rights + ", ptAccess, " + level.Level + ", " + Hex(page.Size) + ", " + FrameOf(page) + accessed + ");");
            }

            private void EmitLeaf()
            {
                _w.Line("/// <summary>");
                _w.Line("/// The end of a pass at a leaf of <paramref name=\"level\"/> that maps <paramref name=\"pageSize\"/> bytes at <paramref name=\"frame\"/>:");
                _w.Line("/// the rights the request needs" + (_spec.ProtectionKey != null ? ", its protection key" : "") + ", then the translation. Inlined into each level that may map a");
                _w.Line("/// page, where all but the entry's values are constants.");
                _w.Line("/// </summary>");
                _w.Line(Inline);
                _w.Open("private bool Leaf(ref " + Ns + "GuestWalk walk, ulong va, int request, ulong pte, uint access, ulong ptAccess, int level, ulong pageSize, ulong frame" + AccessedParameters + ")");
                string key = "0";
                if (_spec.ProtectionKey != null)
                {
                    BitRange keyBits = _spec.ProtectionKey.Value;
                    _w.Line("// Rights and protection keys in one lookup of the table made for this CPU state (Denied works out which failed). The");
                    _w.Line("// key is reported as 0 unless protection keys are on. No bounds check: the index is below the table's size.");
                    _w.Line("int key = (int)(pte >> " + keyBits.Lo + ") & _keyMask;");
                    _w.Line("int check = (request & 15) << " + (keyBits.Width + 3) + " | (int)access << " + keyBits.Width + " | key;");
                    EmitFault("((" + Unsafe + ".Add(ref global::System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_leafFaults), check >> 6) >> check) & 1) != 0",
                        "Denied(ref walk, request, access, key, level, ptAccess)", onRecord: false);
                    key = "key";
                }
                else
                {
                    _w.Line("// Rights: the request's byte of the permission bitmap (no bounds check: the request is below 256) has bit v set");
                    _w.Line("// when rights v fault.");
                    EmitFault("(((uint)" + Unsafe + ".Add(ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(Permissions), request) >> (int)access) & 1) != 0",
                        "EndPageFault(" + MaxLevel + ", level, FaultBits(request) | " + Ns + "PageFaultErrorCode.Present, " + PtAccessArgument + ")");
                }

                string translated = "walk.EndTranslated(" + MaxLevel + ", level, frame | (va & (pageSize - 1)), pageSize, access, " + key + ", " + PtAccessArgument + ")";
                if (!HasAccessedDirty)
                {
                    _w.Line("return " + translated + ";");
                }
                else
                {
                    _w.Line(translated + ";");
                    EmitAccessedDirtyTest("(request & 1) == 0", "va", "");
                }

                _w.Close();
                _w.Line();
            }

            /// <summary>The leaf's parameters for the A/D test: the AND of the entries read, and whether this is a retry's pass.</summary>
            private string AccessedParameters => HasAccessedDirty ? ", ulong accessed, bool retry" : "";

            /// <summary>
            /// The end of a leaf that translated: the A/D test over the entries read, and when a flag is missing, the out-of-line
            /// update (a first pass) or false with no fault (a retry's pass, whose loop sets them).
            /// </summary>
            private void EmitAccessedDirtyTest(string notWrite, string address, string enabled)
            {
                ulong a = 1UL << _spec.Accessed!.Value.Bit;
                string dirty = _spec.Dirty != null ? " && (" + notWrite + " || (pte & " + Hex(1UL << _spec.Dirty.Value.Bit) + ") != 0)" : "";
                _w.Line();
                string flags = _spec.Dirty != null ? "accessed and dirty flags" : "accessed flags";
                string where = _spec.Dirty != null ? "A in every entry read, D in the leaf for a write" : "A in every entry read";
                _w.Line("// " + (enabled.Length > 0 ? "With EPT A/D flags on, o" : "O") + "ne test of the " + flags + " for the whole walk (" + where + "). When one");
                _w.Line("// is missing, SetAccessedDirty sets them; a retry's pass leaves that to its loop.");
                _w.Line("return " + enabled + "((accessed & " + Hex(a) + ") != 0" + dirty + ") || (!retry && SetAccessedDirty(ref walk, " + address + ", request));");
            }

            private void EmitSetAccessedDirty()
            {
                if (!HasAccessedDirty)
                {
                    return;
                }

                string write = _spec.IsEpt ? "(request & 16) != 0" : "(request & 1) != 0";
                string address = _spec.IsEpt ? "gpa" : "va";
                _w.Line("/// <summary>");
                _w.Line("/// Sets the accessed flag of every entry the pass read, and the leaf's dirty flag for a write, each with a locked");
                _w.Line("/// compare-exchange of the value read (KVM's update_accessed_dirty_bits). When an entry changed since it was read, the");
                _w.Line("/// walk runs again, the updates already made staying listed: a loop rather than a recursion, so that a guest that keeps");
                _w.Line("/// rewriting an entry cannot exhaust the stack. Out of line: a walk whose entries have their flags never calls it.");
                _w.Line("/// </summary>");
                _w.Line(NoInline);
                _w.Open("private bool SetAccessedDirty(ref " + Ns + "GuestWalk walk, ulong " + address + ", int request)");
                _w.Open("while (!TrySetAccessedDirty(_memory, ref walk, walk.Level, " + write + "))");
                _w.Open("if (WalkOnce(ref walk, " + address + ", request, retry: true))");
                _w.Line("return true;");
                _w.Close();
                _w.Line();
                _w.Open("if (walk.Fault != " + Ns + "WalkFault.None)");
                _w.Line("return false;");
                _w.Close();
                _w.Close();
                _w.Line();
                _w.Line("return true;");
                _w.Close();
                _w.Line();
                EmitTrySetAccessedDirty();
            }

            private void EmitTrySetAccessedDirty()
            {
                ulong a = 1UL << _spec.Accessed!.Value.Bit;
                ulong d = _spec.Dirty != null ? 1UL << _spec.Dirty.Value.Bit : 0;
                if (_nested)
                {
                    _w.Line("/// <summary>");
                    _w.Line("/// The guest's accessed and dirty flags in two dimensions: each entry that lacks a flag is first translated through EPT as a");
                    _w.Line("/// write of a guest paging structure, then exchanged at its host-physical address. 1: done; 0: an entry changed, walk");
                    _w.Line("/// again; -1: EPT exited.");
                    _w.Line("/// </summary>");
                    _w.Line(NoInline);
                    _w.Open("private int SetAccessedDirtyNested(" + Ns + "IEptWalker ept, ref " + Ns + "NestedWalk nested, int level, bool write)");
                    _w.Line("ref " + Ns + "GuestWalk walk = ref nested.Guest;");
                }
                else
                {
                    _w.Line("/// <summary>One compare-exchange for each entry that lacks its flags; false when an entry changed since the walk read it.</summary>");
                    _w.Open("private static bool TrySetAccessedDirty(" + Ns + "GuestMemory memory, ref " + Ns + "GuestWalk walk, int level, bool write)");
                }

                int deepestLeafAbove = int.MaxValue;
                foreach (LevelSpec level in MemoryLevels)
                {
                    bool mayBeLeaf = level.Page != null;
                    string flags = mayBeLeaf && d != 0
                        ? (level.Level == 1 ? "write ? " + Hex(a | d) + " : " + Hex(a) : "level == " + level.Level + " && write ? " + Hex(a | d) + " : " + Hex(a))
                        : Hex(a);
                    string reached = deepestLeafAbove == int.MaxValue ? "" : (level.Level == 1 ? "level == 1 && " : "level <= " + level.Level + " && ");
                    if (_nested)
                    {
                        _w.Open("if (" + reached + "(walk.Ptes[" + (level.Level - 1) + "] & (" + flags + ")) != (" + flags + "))");
                        _w.Open("if (!nested.TranslateGuestEntry(ept, " + level.Level + ", walk.PteGpa[" + (level.Level - 1) + "], update: true, out ulong hpa" + level.Level + "))");
                        _w.Line("return -1;");
                        _w.Close();
                        _w.Line();
                        _w.Open("if (!walk.TrySetFlagsAt(_memory, hpa" + level.Level + ", " + level.Level + ", " + flags + ", " + EntryBytes + "))");
                        _w.Line("return 0;");
                        _w.Close();
                        _w.Close();
                    }
                    else
                    {
                        _w.Open("if (" + reached + "!walk.TrySetFlags(memory, " + level.Level + ", " + flags + ", " + EntryBytes + "))");
                        _w.Line("return false;");
                        _w.Close();
                    }

                    _w.Line();
                    if (mayBeLeaf)
                    {
                        deepestLeafAbove = level.Level;
                    }
                }

                _w.Line(_nested ? "return 1;" : "return true;");
                _w.Close();
                _w.Line();
            }
        }
    }
}
