using System.Collections.Generic;
using ShadowMmu.Specs;
using static ShadowMmu.Generators.Code;

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
            /// <summary>The two passes the template writes from the same levels.</summary>
            private enum WalkPass
            {
                /// <summary><c>WalkOnce</c>: the entries are read where the tables say.</summary>
                Plain,

                /// <summary><c>WalkNestedOnce</c>: each guest table entry's guest-physical address goes through EPT first.</summary>
                Nested,
            }

            private bool HasAccessedDirty => _plan.AccessedDirty != null;

            private void EmitWalk()
            {
                EmitEntryPoint();
                _format.EmitRequestHelpers();
                EmitWalkOnce(WalkPass.Plain);
                EmitLeaf();
                _format.EmitWalkHelpers();
                if (HasAccessedDirty)
                {
                    EmitSetAccessedDirty();
                    EmitTrySetAccessedDirty(WalkPass.Plain);
                }
            }

            private void EmitEntryPoint()
            {
                _format.EmitWrappingEntryPoints();
                _w.Line("/// <inheritdoc/>");
                _w.Comment("Never inlined: the pass is inlined here, and a call site that inlined this small method would get a copy of the",
                    "whole walk.");
                NoInline(_w);
                _w.OpenWrapped("public bool " + _format.EntrySignature.Method + "(", _format.EntrySignature.Arguments, ", ", ")");
                EmitWalkPrologue();
                _w.Line();
                _w.Line("return WalkOnce(ref walk, " + _format.Input + ", " + _format.RequestCall + (HasAccessedDirty ? ", retry: false" : "") + ");");
                _w.Close();
                _w.Line();
            }

            // The address's width, the record's fields that a retry keeps, and the faults raised before any table is read.
            private void EmitWalkPrologue()
            {
                string input = _format.Input;
                AddressPlan address = _plan.Address;
                if (address.Check == AddressCheck.Truncate)
                {
                    _w.Line(_format.TruncationComment);
                    _w.Line(input + " &= " + Hex((1UL << address.Bits) - 1) + ";");
                    _w.Line();
                }
                else if (address.Check == AddressCheck.EptViolation)
                {
                    _w.Comment("A guest-physical address has at most " + Planner.GuestPhysicalBits + " bits.");
                    _w.Line(input + " &= " + Hex((1UL << Planner.GuestPhysicalBits) - 1) + ";");
                    _w.Line();
                }

                _w.Comment("The record's fields that a retry keeps: the address, and the A/D updates (none yet).");
                _w.Line("walk.Va = " + input + ";");
                _w.Line("walk.UpdateCount = 0;");
                if (address.Check == AddressCheck.EptViolation)
                {
                    _w.Line();
                    _w.Comment("No structure of this EPT translates bits " + (Planner.GuestPhysicalBits - 1) + ":" + address.Bits
                        + ": an address with one set is an EPT violation before any entry is read, with no rights in its exit",
                        "qualification (SDM Vol. 3C, notes to \"Exit Qualification for EPT Violations\"). It is reported at level 0.");
                    _w.Open("if ((" + input + " >> " + address.Bits + ") != 0)");
                    _w.Line("walk.Restart(0);");
                    _w.Line("return walk.EptViolation(0, Qualification(" + _format.RequestCall + "));");
                    _w.Close();
                }
                if (address.Check == AddressCheck.Canonical)
                {
                    int shift = 64 - address.Bits;
                    _w.Line();
                    _w.Comment("A non-canonical address (bits 63:" + (address.Bits - 1) + " not all equal) is a #GP(0), raised before any table is read.");
                    _w.Open("if (((long)" + input + " << " + shift + " >> " + shift + ") != (long)" + input + ")");
                    EmitGeneralProtection();
                    _w.Close();
                }

                if (_plan.RegisterLevel != null)
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

            private void EmitWalkOnce(WalkPass pass)
            {
                if (pass == WalkPass.Nested)
                {
                    _w.Summary("One pass of the two-dimensional walk: each guest table entry's guest-physical address through EPT before it is",
                        "read. True when it translated to a guest-physical address with every accessed and dirty flag set; false with the",
                        "guest's fault or EPT's exit recorded, or with neither when flags are missing.");
                    _w.Open("private bool WalkNestedOnce(ref " + Mmu + "NestedWalk nested, ulong va, int request, " + Mmu + "IEptWalker ept)");
                    _w.Line("ref " + Mmu + "GuestWalk walk = ref nested.Guest;");
                    _w.Line();
                }
                else
                {
                    _w.Summary("One pass of the walk: true when it translated, false with the fault recorded.", HasAccessedDirty
                        ? "Missing accessed or dirty flags are set by SetAccessedDirty, which walks again when an entry changed; its passes "
                            + "(<paramref name=\"retry\"/>) return false with no fault for them instead."
                        : "");
                    Inline(_w);
                    _w.Open("private bool WalkOnce(ref " + Mmu + "GuestWalk walk, ulong " + _format.Input + ", int request" + (HasAccessedDirty ? ", bool retry" : "") + ")");
                }

                if (_plan.ReadsAlignedEntries)
                {
                    _w.Comment("The memory's bytes never move while it lives (the stores to the record cannot change them).");
                    _w.Line("ref byte memoryBase = ref _memory.DangerousGetBaseReference();");
                    _w.Line();
                }

                EmitPassLocals(pass);
                foreach (LevelPlan level in _plan.Levels)
                {
                    _w.Line();
                    EmitLevel(level, pass);
                }

                _w.Close();
                _w.Line();
            }

            /// <summary>What a pass keeps in locals: KVM's <c>pt_access</c> and <c>pte_access</c>, the table, the entry and its address.</summary>
            private void EmitPassLocals(WalkPass pass)
            {
                var locals = new List<string> { "ptAccess = 0", "table = _root", _format.EntryAddress, "pte" };
                const string learns = "What the pass learns stays in locals until its end: those rights each level inherits (byte level - 1 of "
                    + "ptAccess, KVM's pt_access),";
                if (_format.FoldsRights)
                {
                    _w.Comment(learns, "and the AND of the entries read with " + _format.FoldedDescription + ": its bits 2:0 are the rights U W X",
                        "accumulated so far (KVM's pte_access)" + (HasAccessedDirty
                            ? ", and bit " + _plan.AccessedDirty!.AccessedBit + " says whether every entry read has its accessed flag."
                            : "."));
                    locals.Insert(0, "acc = ulong.MaxValue");
                }
                else
                {
                    _w.Comment("KVM's pt_access), the rights accumulated so far" + (HasAccessedDirty ? ", and the AND of the entries read, for the A/D test." : "."));
                    _w.Line("uint " + _format.Rights + " = " + _format.AllRights + ";");
                    if (HasAccessedDirty)
                    {
                        locals.Add("accessed = ulong.MaxValue");
                    }
                }

                if (pass == WalkPass.Nested)
                {
                    locals.Add("hpa");
                }

                _w.Line("ulong " + string.Join(", ", locals) + ";");
            }

            private void EmitLevel(LevelPlan level, WalkPass pass)
            {
                string input = _format.Input;
                string address = _format.EntryAddress;
                BitRange index = level.Index;
                bool root = level.Level == _plan.RootLevel;
                if (level.Read == EntryRead.Register)
                {
                    EmitRegisterLevel(level);
                    return;
                }

                int byteShift = index.Lo - EntryShift;
                ulong byteMask = ((1UL << index.Width) - 1) << EntryShift;
                _w.Comment("Level " + level.Level + ": the " + level.EntryName + " that " + input + "[" + index + "] selects"
                    + (root ? ", in the table " + _format.RootRegister + " names." : "."));
                _w.Line(address + " = table + ((" + input + " >> " + byteShift + ") & " + Hex(byteMask) + ");");
                if (pass == WalkPass.Nested)
                {
                    EmitTranslateGuestEntry(level);
                    EmitInherited(level);
                    EmitFault("hpa >= _entryLimit", _format.OutsideMemory(level.Level, address));
                    _w.Line("pte = ReadEntry(ref memoryBase, hpa);");
                }
                else if (level.Read == EntryRead.Aligned)
                {
                    EmitInherited(level);
                    EmitFault(address + " >= _entryLimit", _format.OutsideMemory(level.Level, address));
                    _w.Line("pte = ReadEntry(ref memoryBase, " + address + ");");
                }
                else
                {
                    EmitInherited(level);
                    _w.Comment("The table's address may leave the entry unaligned: the checked read.");
                    EmitFault("!TryReadEntry(" + address + ", out pte)", _format.OutsideMemory(level.Level, address));
                }

                _w.Line("walk.Record(" + level.Level + ", " + address + ", pte);");
                if (_format.FoldsRights)
                {
                    _w.Line("acc &= " + _format.FoldedEntry("pte") + ";");
                }
                else
                {
                    if (HasAccessedDirty)
                    {
                        _w.Line("accessed &= pte;");
                    }

                    Expression rights = _format.RightsOf("pte");
                    _w.Wrap(_format.Rights + " &= ", rights.Terms, rights.Separator, ";");
                }

                _format.EmitEntryFaults(level.Level);
                if (level.Level == 1)
                {
                    EmitReservedCheck(level.Level, level.Page!.ReservedField);
                    EmitLeafCall(level, pass);
                    return;
                }

                if (level.Page is PagePlan page)
                {
                    _w.Open("if ((pte & " + Hex(_plan.PageSizeMask) + ") != 0" + (page.Gate != null ? " && " + page.Gate : "") + ")");
                    EmitReservedCheck(level.Level, page.ReservedField);
                    EmitLeafCall(level, pass);
                    _w.Close();
                    _w.Line();
                }

                EmitReservedCheck(level.Level, level.TableReservedField!);
                _w.Line("table = pte & " + Hex(level.TableMask) + ";");
            }

            /// <summary>A register level (PAE's PDPTEs): the entry was loaded with CR3 and checked then; it carries no rights.</summary>
            private void EmitRegisterLevel(LevelPlan level)
            {
                int shift = level.Index.Lo;
                ulong mask = (1UL << level.Index.Width) - 1;
                _w.Comment("Level " + level.Level + ": the " + level.EntryName + " register that " + _format.Input + "[" + level.Index
                    + "] selects. It carries no rights and no accessed flag.");
                _w.Line(_format.EntryAddress + " = table + (((" + _format.Input + " >> " + shift + ") & " + Hex(mask) + ") << " + EntryShift + ");");
                _w.Line("pte = " + level.RegistersField + "[(int)(" + _format.Input + " >> " + shift + ") & " + Hex(mask) + "];");
                _w.Line("walk.Record(" + level.Level + ", " + _format.EntryAddress + ", pte);");
                EmitInherited(level);
                _format.EmitEntryFaults(level.Level);
                _w.Line("table = pte & " + Hex(level.TableMask) + ";");
            }

            /// <summary>The rights <paramref name="level"/> inherits from the levels above it, in its byte of ptAccess.</summary>
            private void EmitInherited(LevelPlan level)
            {
                string shift = level.Level == 1 ? "" : " << " + (8 * (level.Level - 1));
                string rights = _format.FoldsRights ? "(acc & 7)" : "(ulong)" + _format.Rights;
                _w.Line("ptAccess |= " + rights + shift + ";");
            }

            private void EmitReservedCheck(int level, string field) => EmitFault("(pte & " + field + ") != 0", _format.ReservedBitSet(level));

            /// <summary>Ends the pass with <paramref name="ending"/>, a call on the record, when <paramref name="condition"/> holds.</summary>
            private void EmitFault(string condition, Call ending)
            {
                _w.Open("if (" + condition + ")");
                Statement(_w, "return walk.", ending);
                _w.Close();
                _w.Line();
            }

            /// <summary>The pass ends at the page <paramref name="level"/>'s entry maps: Leaf, with that page's constants.</summary>
            private void EmitLeafCall(LevelPlan level, WalkPass pass)
            {
                PagePlan page = level.Page!;
                string rights = _format.FoldsRights ? "(uint)acc & 7" : _format.Rights;
                string high = page.High is BitRange bits
                    ? "; entry bits " + bits + " are physical-address bits " + new BitRange(page.HighAt + bits.Width - 1, page.HighAt)
                    : "";
                _w.Comment("" + (level.Level == 1 ? "The" : "A") + " " + page.SizeName + " page" + high + ".");
                var arguments = new List<string> { "ref walk", _format.Input, "request", "pte", rights, "ptAccess", Num(level.Level), Hex(page.Size), FrameOf(page, "pte") };
                if (HasAccessedDirty)
                {
                    arguments.Add(_format.FoldsRights ? "acc" : "accessed");
                    arguments.Add(pass == WalkPass.Nested ? "retry: true" : "retry");
                }

                Statement(_w, "return ", Calling("Leaf", arguments.ToArray()));
            }

            private void EmitLeaf()
            {
                _w.Summary("The end of a pass at a leaf of <paramref name=\"level\"/> that maps <paramref name=\"pageSize\"/> bytes at <paramref name=\"frame\"/>:",
                    "" + _format.LeafSummary + ".",
                    "Inlined into each level that may map a page, where all but the entry's values are constants.");
                Inline(_w);
                var parameters = new List<string>
                {
                    "ref " + Mmu + "GuestWalk walk", "ulong " + _format.Input, "int request", "ulong pte", "uint " + _format.Rights, "ulong ptAccess",
                    "int level", "ulong pageSize", "ulong frame",
                };
                if (HasAccessedDirty)
                {
                    parameters.Add("ulong accessed");
                    parameters.Add("bool retry");
                }

                _w.OpenWrapped("private bool Leaf(", parameters, ", ", ")");
                Call translated = _format.EmitLeafChecks();
                if (_plan.AccessedDirty is AccessedDirtyPlan flags)
                {
                    Statement(_w, "", translated);
                    EmitAccessedDirtyTest(flags);
                }
                else
                {
                    Statement(_w, "return ", translated);
                }

                _w.Close();
                _w.Line();
            }

            /// <summary>
            /// The end of a leaf that translated: the A/D test over the entries read, and when a flag is missing, the out-of-line
            /// update (a first pass) or false with no fault (a retry's pass, whose loop sets them).
            /// </summary>
            private void EmitAccessedDirtyTest(AccessedDirtyPlan flags)
            {
                string dirty = flags.DirtyBit != null
                    ? " && ((request & " + _format.RequestWriteBit + ") == 0 || (pte & " + Hex(flags.DirtyMask) + ") != 0)"
                    : "";
                string kinds = flags.DirtyBit != null ? "accessed and dirty flags" : "accessed flags";
                string where = flags.DirtyBit != null ? "A in every entry read, D in the leaf for a write" : "A in every entry read";
                _w.Line();
                _w.Comment("" + (flags.When != null ? "With " + flags.When + ", o" : "O") + "ne test of the " + kinds + " for the whole walk (" + where + ").",
                    "When one is missing, SetAccessedDirty sets them; a retry's pass leaves that to its loop.");
                var terms = new List<string>();
                if (AccessedDirtyConditional)
                {
                    terms.Add("!_accessedDirty");
                }

                terms.Add("((accessed & " + Hex(flags.AccessedMask) + ") != 0" + dirty + ")");
                terms.Add("(!retry && SetAccessedDirty(ref walk, " + _format.Input + ", request))");
                _w.Wrap("return ", terms, " || ", ";");
            }

            private void EmitSetAccessedDirty()
            {
                string input = _format.Input;
                _w.Summary("Sets the accessed flag of every entry the pass read, and the leaf's dirty flag for a write, each with a locked",
                    "compare-exchange of the value read (KVM's update_accessed_dirty_bits). When an entry changed since it was read, the",
                    "walk runs again, the updates already made staying listed: a loop rather than a recursion, so that a guest that keeps",
                    "rewriting an entry cannot exhaust the stack. Out of line: a walk whose entries have their flags never calls it.");
                NoInline(_w);
                _w.Open("private bool SetAccessedDirty(ref " + Mmu + "GuestWalk walk, ulong " + input + ", int request)");
                _w.Open("while (!TrySetAccessedDirty(_memory, ref walk, walk.Level, (request & " + _format.RequestWriteBit + ") != 0))");
                _w.Open("if (WalkOnce(ref walk, " + input + ", request, retry: true))");
                _w.Line("return true;");
                _w.Close();
                _w.Line();
                _w.Open("if (walk.Fault != " + Mmu + "WalkFault.None)");
                _w.Line("return false;");
                _w.Close();
                _w.Close();
                _w.Line();
                _w.Line("return true;");
                _w.Close();
                _w.Line();
            }

            /// <summary>
            /// One compare-exchange per entry read that lacks its flags: the accessed flag in each, the dirty flag in the
            /// leaf for a write; levels below the leaf are skipped. The nested pass first translates each entry through EPT.
            /// </summary>
            private void EmitTrySetAccessedDirty(WalkPass pass)
            {
                AccessedDirtyPlan flags = _plan.AccessedDirty!;
                ulong a = flags.AccessedMask, d = flags.DirtyMask;
                if (pass == WalkPass.Nested)
                {
                    _w.Summary("The guest's accessed and dirty flags in two dimensions: each entry that lacks a flag is first translated through EPT as a",
                        "write of a guest paging structure, then exchanged at its host-physical address. 1: done; 0: an entry changed, walk",
                        "again; -1: EPT exited.");
                    NoInline(_w);
                    _w.OpenWrapped("private int SetAccessedDirtyNested(",
                        new[] { Mmu + "IEptWalker ept", "ref " + Mmu + "NestedWalk nested", "int level", "bool write" }, ", ", ")");
                    _w.Line("ref " + Mmu + "GuestWalk walk = ref nested.Guest;");
                }
                else
                {
                    _w.Summary("One compare-exchange for each entry that lacks its flags; false when an entry changed since the walk read it.");
                    _w.OpenWrapped("private static bool TrySetAccessedDirty(",
                        new[] { Mmu + "GuestMemory memory", "ref " + Mmu + "GuestWalk walk", "int level", "bool write" }, ", ", ")");
                }

                bool leafAbove = false;
                foreach (LevelPlan level in _plan.MemoryLevels)
                {
                    bool mayBeLeaf = level.Page != null;
                    string mask = mayBeLeaf && d != 0
                        ? (level.Level == 1 ? "write ? " + Hex(a | d) + " : " + Hex(a) : "level == " + level.Level + " && write ? " + Hex(a | d) + " : " + Hex(a))
                        : Hex(a);
                    // A level below one that may map a page was read only when the walk went past that one.
                    var tests = new List<string>();
                    if (leafAbove)
                    {
                        tests.Add(level.Level == 1 ? "level == 1" : "level <= " + level.Level);
                    }

                    if (pass == WalkPass.Nested)
                    {
                        tests.Add("(walk.Ptes[" + (level.Level - 1) + "] & (" + mask + ")) != (" + mask + ")");
                        _w.OpenWrapped("if (", tests, " && ", ")");
                        _w.Open("if (!nested.TranslateGuestEntry(ept, " + level.Level + ", walk.PteGpa[" + (level.Level - 1) + "], update: true, out ulong hpa"
                            + level.Level + "))");
                        _w.Line("return -1;");
                        _w.Close();
                        _w.Line();
                        _w.Open("if (!walk.TrySetFlagsAt(_memory, hpa" + level.Level + ", " + level.Level + ", " + mask + ", " + EntryBytes + "))");
                        _w.Line("return 0;");
                        _w.Close();
                        _w.Close();
                    }
                    else
                    {
                        tests.Add("!walk.TrySetFlags(memory, " + level.Level + ", " + mask + ", " + EntryBytes + ")");
                        _w.OpenWrapped("if (", tests, " && ", ")");
                        _w.Line("return false;");
                        _w.Close();
                    }

                    _w.Line();
                    leafAbove |= mayBeLeaf;
                }

                _w.Line(pass == WalkPass.Nested ? "return 1;" : "return true;");
                _w.Close();
                _w.Line();
            }
        }
    }
}
