using System.Linq;
using ShadowMmu.Specs;

namespace ShadowMmu.Generators
{
    public sealed partial class ShadowMmuGenerator
    {
        internal sealed partial class Emitter
        {
            /// <summary>
            /// Shadow paging needs the host's 9 index bits a level: 8-byte guests with 9-bit indexes (the register level
            /// aside), or 2-level 4-byte guests with 10-bit indexes, shadowed in quadrants as KVM shadows 32-bit paging.
            /// </summary>
            private bool SupportsShadow =>
                _spec.Accessed != null && _spec.Dirty != null
                && ((EntryBytes == 8 && _spec.Levels.All(l => l.Register ? l.Index.Width <= 2 : l.Index.Width == 9))
                    || (EntryBytes == 4 && _spec.RootLevel == 2 && _spec.LinearBits == 32 && _spec.Levels.All(l => l.Index.Width == 10)));

            /// <summary>Four shadow roots under a 4-entry root, one per GiB of a 32-bit linear space (PAE and 32-bit guests).</summary>
            private bool FourRoots => _spec.LinearBits == 32;

            private int ShadowRootLevel => FourRoots ? 2 : _spec.RootLevel;

            private bool Quadrants => EntryBytes == 4;

            // The few places where the shadow code reads a guest entry's flags, for both formats: x86 entries have a
            // present bit and always-on A/D flags; EPT entries are present when a right is set, can be misconfigured,
            // and have A/D flags only when EPTP enables them (without, every entry counts as accessed and dirty).
            private string PresentTest(string pte) => _spec.IsEpt ? "(" + pte + " & _presentMask) != 0" : "(" + pte + " & " + Hex(1UL << _spec.Present.Bit) + ") != 0";

            private string DirtyTest(string pte) => _spec.IsEpt
                ? "(!_accessedDirty || (" + pte + " & " + Hex(1UL << _spec.Dirty!.Value.Bit) + ") != 0)"
                : "((" + pte + " & " + Hex(1UL << _spec.Dirty!.Value.Bit) + ") != 0)";

            private string NeverAccessedTest(string pte) => _spec.IsEpt
                ? "(_accessedDirty && (" + pte + " & " + Hex(1UL << _spec.Accessed!.Value.Bit) + ") == 0)"
                : "(" + pte + " & " + Hex(1UL << _spec.Accessed!.Value.Bit) + ") == 0";

            // The shadow's rights: the x86 U W X, or EPT's R W X as KVM's ACC (user-execute is not shadowed).
            private string ShadowAccessOf() => _spec.IsEpt ? "(" + EptRightsOf() + ") & 7" : AccessOf();

            private void EmitShadow()
            {
                _w.Line("// ---- Shadow paging: the roots, Fetch and Prefetch (KVM's FNAME(fetch) and FNAME(pte_prefetch)) ----");
                _w.Line();
                _w.Line("/// <inheritdoc/>");
                _w.Line("public int ShadowRootLevel => " + ShadowRootLevel + ";");
                _w.Line();
                _w.Line("/// <inheritdoc/>");
                _w.Line("public ulong GuestDirtyMask => " + (_spec.IsEpt ? "_accessedDirty ? " + Hex(1UL << _spec.Dirty!.Value.Bit) + " : 0" : Hex(1UL << _spec.Dirty!.Value.Bit)) + ";");
                _w.Line();
                EmitRootTables();
                EmitDecodeGpte();
                EmitFetchDispatch();
                EmitFetch();
                EmitGpteChanged();
                EmitPrefetch();
            }

            private void EmitRootTables()
            {
                _w.Line("/// <inheritdoc/>");
                _w.Open("public int GetRootTables(global::System.Span<" + Ns + "RootTable> roots)");
                LevelSpec? register = Registers.FirstOrDefault();
                if (register != null)
                {
                    _w.Line("// One root per " + register.EntryName + " register: the page directory it points to.");
                    _w.Open("for (int i = 0; i < 4; i++)");
                    _w.Line("ulong entry = " + RegistersField(register) + "[i];");
                    _w.Line("roots[i] = new " + Ns + "RootTable((entry & " + Hex(register.Table!.Value.Mask) + ") >> 12, 0, !_registerLoadFaulted && (entry & " + Hex(1UL << _spec.Present.Bit) + ") != 0);");
                    _w.Close();
                    _w.Line();
                    _w.Line("return 4;");
                }
                else if (FourRoots)
                {
                    _w.Line("// The guest page directory is shadowed in four quadrants, one root for each GiB of linear space.");
                    _w.Open("for (int i = 0; i < 4; i++)");
                    _w.Line("roots[i] = new " + Ns + "RootTable(_root >> 12, i, true);");
                    _w.Close();
                    _w.Line();
                    _w.Line("return 4;");
                }
                else
                {
                    _w.Line("roots[0] = new " + Ns + "RootTable(_root >> 12, 0, true);");
                    _w.Line("return 1;");
                }

                _w.Close();
                _w.Line();
            }

            private void EmitDecodeGpte()
            {
                _w.Line("/// <inheritdoc/>");
                _w.Open("public bool TryDecodeGpte(ulong pte, int level, out " + Ns + "GpteInfo info)");
                _w.Line("info = default;");
                _w.Open("if (!(" + PresentTest("pte") + ")" + (_spec.IsEpt ? " || IsMisconfigured(pte)" : "") + ")");
                _w.Line("return false;");
                _w.Close();
                _w.Line();
                _w.Line("uint access = " + ShadowAccessOf() + ";");
                _w.Line("bool dirty = " + DirtyTest("pte") + ";");
                _w.Open("switch (level)");
                foreach (LevelSpec level in _spec.Levels.Where(l => !l.Register))
                {
                    _w.Line("case " + level.Level + ":");
                    _w.Indent();
                    ReservedSlot? tableSlot = level.Table != null ? _reserved.Slots.First(s => s.Level.Level == level.Level && s.Case == EntryCase.Table) : (ReservedSlot?)null;
                    ReservedSlot? pageSlot = level.Page != null ? _reserved.Slots.First(s => s.Level.Level == level.Level && s.Case == EntryCase.Page) : (ReservedSlot?)null;
                    if (level.Level == 1)
                    {
                        _w.Line("info = new " + Ns + "GpteInfo(true, (" + FrameOf(level.Page!) + ") >> 12, access, dirty);");
                        _w.Line("return (pte & " + pageSlot!.Value.FieldName + ") == 0;");
                        _w.Unindent();
                        continue;
                    }

                    if (level.Page != null)
                    {
                        string test = "(pte & " + Hex(1UL << _spec.PageSize!.Value.Bit) + ") != 0" + (level.Page.When != null && !level.Page.ElseReserved ? " && " + MapsPagesField(level) : "");
                        _w.Open("if (" + test + ")");
                        _w.Line("info = new " + Ns + "GpteInfo(true, (" + FrameOf(level.Page) + ") >> 12, access, dirty);");
                        _w.Line("return (pte & " + pageSlot!.Value.FieldName + ") == 0;");
                        _w.Close();
                        _w.Line();
                    }

                    if (tableSlot != null)
                    {
                        _w.Line("info = new " + Ns + "GpteInfo(false, (pte & " + Hex(level.Table!.Value.Mask) + ") >> 12, access, dirty);");
                        _w.Line("return (pte & " + tableSlot.Value.FieldName + ") == 0;");
                    }
                    else
                    {
                        _w.Line("return false;");
                    }

                    _w.Unindent();
                }

                _w.Line("default:");
                _w.Line("    return false;");
                _w.Close();
                _w.Close();
                _w.Line();
            }

            private static string FrameOf(PageRule page)
            {
                string frame = "pte & " + Hex(page.Frame.Mask);
                return page.High == null
                    ? frame
                    : "(" + frame + ") | ((pte & " + Hex(page.High.Value.Mask) + ") << " + (page.HighAt - page.High.Value.Lo) + ")";
            }

            /// <summary>A re-check order, as the emitter needs it: all three are emitted, each as straight-line code.</summary>
            private readonly struct Order
            {
                public Order(string name, bool checkRoot, bool passPresent, bool checkLeaf, string what)
                {
                    Name = name;
                    CheckRoot = checkRoot;
                    PassPresent = passPresent;
                    CheckLeaf = checkLeaf;
                    What = what;
                }

                public string Name { get; }

                public bool CheckRoot { get; }

                public bool PassPresent { get; }

                public bool CheckLeaf { get; }

                public string What { get; }

                public bool Deliberate => Name != "Fixed";
            }

            private static readonly Order[] Orders =
            {
                new Order("Fixed", checkRoot: true, passPresent: false, checkLeaf: true,
                    "KVM's order since 2010: the root entry first; then at every level, once the child shadow page is obtained (which\n"
                    + "write-protects its guest table), the entry the walk read in that table; the leaf through the one read of its group."),
                new Order("PreFix", checkRoot: false, passPresent: true, checkLeaf: true,
                    "The 2010 code, kept to reproduce its race: a level whose shadow entry is present is passed without a look;\n"
                    + "only where a shadow page is obtained is the entry inside it compared, and the root entry never is."),
                new Order("NoLeaf", checkRoot: true, passPresent: false, checkLeaf: false,
                    "As the fixed order, but the guest leaf entry is never re-checked: kept to show why it must be."),
            };

            private void EmitFetchDispatch()
            {
                _w.Line("/// <inheritdoc/>");
                _w.Line("[global::ShadowMmu.Annotations.RequiresMmuLock]");
                _w.Open("public " + Ns + "FetchOutcome Fetch(" + Ns + "Vcpu vcpu, ref " + Ns + "GuestWalk walk, uint leafAccess, " + Ns + "RecheckOrder order, " + Ns + "IFetchHooks? hooks)");
                _w.Line("// One compiled Fetch per re-check order and hook kind: the default path pays for neither.");
                _w.Open("if (hooks == null)");
                _w.Line("var none = default(" + Ns + "NoFetchHooks);");
                _w.Open("return order switch");
                _w.Line(Ns + "RecheckOrder.PreFix => FetchPreFix(vcpu, ref walk, leafAccess, none),");
                _w.Line(Ns + "RecheckOrder.NoLeaf => FetchNoLeaf(vcpu, ref walk, leafAccess, none),");
                _w.Line("_ => FetchFixed(vcpu, ref walk, leafAccess, none),");
                _w.Close(";");
                _w.Close();
                _w.Line();
                _w.Open("return order switch");
                _w.Line(Ns + "RecheckOrder.PreFix => FetchPreFix(vcpu, ref walk, leafAccess, hooks),");
                _w.Line(Ns + "RecheckOrder.NoLeaf => FetchNoLeaf(vcpu, ref walk, leafAccess, hooks),");
                _w.Line("_ => FetchFixed(vcpu, ref walk, leafAccess, hooks),");
                _w.Close(";");
                _w.Close();
                _w.Line();
            }

            private void EmitFetch()
            {
                foreach (Order order in Orders)
                {
                    EmitFetch(order);
                }
            }

            private void EmitFetch(Order order)
            {
                int top = ShadowRootLevel;
                _w.Line("/// <summary>");
                foreach (string line in order.What.Split('\n'))
                {
                    _w.Line("/// " + line);
                }

                _w.Line("/// </summary>");
                _w.Line("/// <remarks>");
                _w.Line("/// Builds the shadow pages along the walk, top down. The guest entries it uses come from the lock-free walk; each may");
                _w.Line("/// be trusted only once re-read after its table was write-protected, with the mmu_lock held: after that point every");
                _w.Line("/// guest write to the table traps and waits for the lock.");
                _w.Line("/// </remarks>");
                _w.Line("[global::ShadowMmu.Annotations.RequiresMmuLock]");
                if (order.Deliberate && _suppressRaceOrders)
                {
                    _w.Line("[global::System.Diagnostics.CodeAnalysis.SuppressMessage(\"ShadowMmu.Locking\", \"MMU0001\", Justification = \"Deliberately unsafe: reproduces the race it is named after (build with ShadowMmuCheckRaceOrders=true to see it).\")]");
                }

                _w.Line("private " + Ns + "FetchOutcome Fetch" + order.Name + "<THooks>(" + Ns + "Vcpu vcpu, ref " + Ns + "GuestWalk walk, uint leafAccess, THooks hooks)");
                _w.Open("    where THooks : " + Ns + "IFetchHooks");
                _w.Line(Ns + "Vm vm = vcpu.Vm;");
                _w.Line(Ns + "ShadowCpuRole cpuRole = vcpu.CpuRole;");
                _w.Line("ulong va = walk.Va;");
                _w.Line(Ns + "ShadowPage? sp = vcpu.RootFor(va);");
                _w.Line(Ns + "ShadowPage child;");
                _w.Line("bool linked;");
                _w.Line("int index;");
                if (_spec.Levels.Any(l => l.Level > 1 && l.Level <= top && l.Page != null))
                {
                    _w.Line("ulong gfn;");
                }

                _w.Line("var group = default(" + Ns + "GuestEntryGroup);");
                _w.Line("bool groupRead = false;");
                _w.Open("if (sp == null || !sp.Valid)");
                _w.Line("return " + Ns + "FetchOutcome.Retry;");
                _w.Close();
                _w.Line();
                if (order.CheckRoot)
                {
                    LevelSpec topLevel = _spec.GetLevel(top);
                    _w.Line("// The root's guest table has been write-protected since the root was made: the " + topLevel.EntryName + " the walk read there");
                    _w.Line("// must still be there.");
                    EmitRecheck(top, order, leafPossible: topLevel.Page != null);
                }

                for (int level = top; level >= 2; level--)
                {
                    _w.Line();
                    EmitFetchLevel(level, order);
                }

                _w.Line();
                _w.Line("// The leaf: a 4 KiB guest page, mapped with the rights the walk granted (less W for a clean or protected page).");
                _w.Line("index = (int)(va >> 12) & 511;");
                _w.Line("vm.SetLeaf(sp, index, (" + FrameOf(_spec.GetLevel(1).Page!).Replace("pte", "walk.Ptes[0]") + ") >> 12, leafAccess, walk.ProtectionKey, prefetched: false);");
                _w.Line("Prefetch(vm, sp, index, ref walk, ref group, groupRead);");
                _w.Line("return " + Ns + "FetchOutcome.Mapped;");
                for (int level = top; level >= 2; level--)
                {
                    if (_spec.GetLevel(level).Page != null)
                    {
                        _w.Line();
                        EmitLargePage(level, order);
                    }
                }

                _w.Close();
                _w.Line();
            }

            /// <summary>The re-check of the entry the walk read at <paramref name="level"/>: a retry when it changed.</summary>
            private void EmitRecheck(int level, Order order, bool leafPossible)
            {
                string condition = "!GpteUnchanged(walk.PteGpa[" + (level - 1) + "], walk.Ptes[" + (level - 1) + "])";
                if (!order.CheckLeaf && leafPossible)
                {
                    condition = "walk.Level != " + level + " && " + condition;
                }

                _w.Open("if (" + condition + ")");
                _w.Line("return " + Ns + "FetchOutcome.Retry;");
                _w.Close();
            }

            private void EmitFetchLevel(int level, Order order)
            {
                LevelSpec parent = _spec.GetLevel(level);
                LevelSpec child = _spec.GetLevel(level - 1);
                bool childIsLeafTable = level - 1 == 1;
                if (parent.Page != null)
                {
                    _w.Open("if (walk.Level == " + level + ")");
                    _w.Line("goto LargePage" + level + ";");
                    _w.Close();
                    _w.Line();
                }

                string quadrant = Quadrants && childIsLeafTable ? "(int)(va >> 21) & 1" : "0";
                _w.Line("// Shadow level " + level + ": the entry for va[" + (12 + (9 * level) - 1) + ":" + (12 + (9 * (level - 1))) + "] links the shadow page of the table the "
                    + parent.EntryName + " references" + (Quadrants && childIsLeafTable ? " (the half that va[21] selects)" : "") + ".");
                _w.Line("index = (int)(va >> " + (12 + (9 * (level - 1))) + ") & 511;");
                if (order.PassPresent)
                {
                    _w.Line("// The 2010 code passes a present shadow entry without looking at the guest entries at all.");
                    _w.Open("if (" + Ns + "Spte.IsPresent(sp[index]))");
                    _w.Line("sp = vm.Page(" + Ns + "Spte.ChildId(sp[index]));");
                    _w.Close();
                    _w.Open("else");
                }

                _w.Line("child = vm.GetChildPage(vcpu, sp, index, (walk.Ptes[" + (level - 1) + "] & " + Hex(parent.Table!.Value.Mask) + ") >> 12, "
                    + Ns + "ShadowRole.Create(" + (level - 1) + ", " + quadrant + ", false, walk.PtAccess[" + (level - 2) + "], cpuRole), out linked);");
                _w.Line("hooks.AfterChildPage(" + (level - 1) + ", child);");
                if (childIsLeafTable)
                {
                    if (order.CheckLeaf)
                    {
                        _w.Line("// The table of 4 KiB pages is write-protected now: one read of the 8-entry group around the PTE re-checks it and");
                        _w.Line("// feeds the prefetch.");
                        _w.Line("groupRead = ReadGroup(walk.PteGpa[0], ref group);");
                        _w.Open("if (!groupRead || !LeafUnchanged(group, walk.PteGpa[0], walk.Ptes[0]))");
                        _w.Line("return " + Ns + "FetchOutcome.Retry;");
                        _w.Close();
                    }
                }
                else
                {
                    _w.Line("// The table that holds the " + child.EntryName + " is write-protected now: the " + child.EntryName + " can be re-checked.");
                    EmitRecheck(level - 1, order, leafPossible: child.Page != null);
                }

                _w.Line();
                _w.Open("if (!linked)");
                _w.Line("vm.Link(sp, index, child);");
                _w.Close();
                _w.Line();
                _w.Line("sp = child;");
                if (order.PassPresent)
                {
                    _w.Close();
                }
            }

            private void EmitLargePage(int level, Order order)
            {
                PageRule page = _spec.GetLevel(level).Page!;
                _w.Label("LargePage" + level);
                _w.Line("// A " + page.SizeName + " guest page: the shadow maps it with 4 KiB entries in direct shadow pages, one per level below,");
                _w.Line("// whose rights are the leaf's (a clean page's mappings stay read-only until a write sets D).");
                _w.Line("gfn = ((" + FrameOf(page).Replace("pte", "walk.Ptes[" + (level - 1) + "]") + ") >> 12) + ((va >> 12) & " + Hex((page.Size >> 12) - 1) + ");");
                for (int l = level; l >= 2; l--)
                {
                    int shift = 12 + (9 * (l - 1));
                    ulong frames = 1UL << (9 * (l - 1));
                    _w.Line("index = (int)(va >> " + shift + ") & 511;");
                    if (order.PassPresent)
                    {
                        _w.Open("if (" + Ns + "Spte.IsPresent(sp[index]))");
                        _w.Line("sp = vm.Page(" + Ns + "Spte.ChildId(sp[index]));");
                        _w.Close();
                        _w.Open("else");
                    }

                    _w.Line("child = vm.GetChildPage(vcpu, sp, index, gfn & ~(ulong)" + Hex(frames - 1) + ", " + Ns + "ShadowRole.Create(" + (l - 1) + ", 0, true, leafAccess, cpuRole), out linked);");
                    _w.Open("if (!linked)");
                    _w.Line("vm.Link(sp, index, child);");
                    _w.Close();
                    _w.Line();
                    _w.Line("sp = child;");
                    if (order.PassPresent)
                    {
                        _w.Close();
                    }

                    _w.Line();
                }

                _w.Line("vm.SetLeaf(sp, (int)(va >> 12) & 511, gfn, leafAccess, walk.ProtectionKey, prefetched: false);");
                _w.Line("return " + Ns + "FetchOutcome.Mapped;");
            }

            private void EmitGpteChanged()
            {
                _w.Line("/// <summary>KVM's FNAME(gpte_changed), inverted: re-reads the entry at <paramref name=\"gpa\"/>; true when it still holds <paramref name=\"expected\"/>.</summary>");
                _w.Line("[global::ShadowMmu.Annotations.RequiresMmuLock]");
                _w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]");
                _w.Open("private bool GpteUnchanged(ulong gpa, [global::ShadowMmu.Annotations.RevalidatesGuestPte] ulong expected)");
                _w.Line("return TryReadEntry(gpa, out ulong now) && now == expected;");
                _w.Close();
                _w.Line();
                _w.Line("/// <summary>The leaf's re-check from the group read: true when the PTE at <paramref name=\"pteGpa\"/> still holds <paramref name=\"expected\"/>.</summary>");
                _w.Line("[global::ShadowMmu.Annotations.RequiresMmuLock]");
                _w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]");
                _w.Open("private static bool LeafUnchanged(in " + Ns + "GuestEntryGroup group, ulong pteGpa, [global::ShadowMmu.Annotations.RevalidatesGuestPte] ulong expected)");
                _w.Line("return group[(int)(pteGpa / " + EntryBytes + ") & 7] == expected;");
                _w.Close();
                _w.Line();
                _w.Line("/// <summary>The aligned group of 8 entries around the PTE at <paramref name=\"pteGpa\"/>, in one read.</summary>");
                _w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]");
                _w.Open("private bool ReadGroup(ulong pteGpa, ref " + Ns + "GuestEntryGroup group)");
                _w.Line("ulong first = pteGpa & ~(ulong)" + Hex((ulong)(8 * EntryBytes) - 1) + ";");
                if (ReadsGroupsDirectly)
                {
                    _w.Line("// Eight aligned atomic reads (the group is aligned to its size, so each entry is naturally aligned).");
                    _w.Open("if (first >= _groupLimit)");
                    _w.Line("return false;");
                    _w.Close();
                    _w.Line();
                    _w.Line("ref byte memoryBase = ref _memory.DangerousGetBaseReference();");
                    for (int i = 0; i < 8; i++)
                    {
                        _w.Line("group[" + i + "] = ReadEntry(ref memoryBase, first" + (i == 0 ? "" : " + " + (i * EntryBytes)) + ");");
                    }

                    _w.Line("return true;");
                }
                else
                {
                    _w.Line("return _memory.TryReadEntries(first, group, " + EntryBytes + ");");
                }

                _w.Close();
                _w.Line();
            }

            private void EmitPrefetch()
            {
                PageRule page = _spec.GetLevel(1).Page!;
                _w.Line("/// <summary>");
                _w.Line("/// KVM's FNAME(pte_prefetch): maps the neighbours of the faulting PTE in its aligned group of 8 from the group read");
                _w.Line("/// that re-checked the PTE (read after its table was write-protected), so they are as trustworthy as the PTE. Only");
                _w.Line("/// neighbours whose shadow entries are not present are mapped; in a steady state there are none.");
                _w.Line("/// </summary>");
                _w.Line("[global::ShadowMmu.Annotations.RequiresMmuLock]");
                _w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]");
                _w.Open("private void Prefetch(" + Ns + "Vm vm, " + Ns + "ShadowPage sp, int faultIndex, ref " + Ns + "GuestWalk walk, ref " + Ns + "GuestEntryGroup group, bool groupRead)");
                _w.Line("int absent = sp.AbsentInGroup(faultIndex) & ~(1 << (faultIndex & 7));");
                _w.Open("if (absent != 0)");
                _w.Line("PrefetchAbsent(vm, sp, faultIndex, absent, ref walk, ref group, groupRead);");
                _w.Close();
                _w.Close();
                _w.Line();
                _w.Line("/// <summary>Prefetch of the <paramref name=\"absent\"/> neighbours (bit i: entry i of the group), in order.</summary>");
                _w.Line("[global::ShadowMmu.Annotations.RequiresMmuLock]");
                _w.Open("private void PrefetchAbsent(" + Ns + "Vm vm, " + Ns + "ShadowPage sp, int faultIndex, int absent, ref " + Ns + "GuestWalk walk, ref " + Ns + "GuestEntryGroup group, bool groupRead)");
                _w.Open("if ((!groupRead && !ReadGroup(walk.PteGpa[0], ref group)) || !vm.CanAddLeaves(8))");
                _w.Line("return;");
                _w.Close();
                _w.Line();
                _w.Line("int first = faultIndex & ~7;");
                _w.Open("for (; absent != 0; absent &= absent - 1)");
                _w.Line("int i = global::System.Numerics.BitOperations.TrailingZeroCount(absent);");
                _w.Line("int index = first + i;");
                _w.Line();
                _w.Line("// A neighbour that is not present, never accessed, or has a reserved bit set ends the prefetch.");
                _w.Line("ulong pte = group[i];");
                _w.Open("if (!(" + PresentTest("pte") + ") || " + NeverAccessedTest("pte") + " || (pte & " + _reserved.Slots.First(s => s.Level.Level == 1).FieldName + ") != 0"
                    + (_spec.IsEpt ? " || IsMisconfigured(pte)" : "") + ")");
                _w.Line("break;");
                _w.Close();
                _w.Line();
                _w.Line("uint access = sp.Role.Access & " + ShadowAccessOf() + ";");
                _w.Open("if (!" + DirtyTest("pte") + ")");
                _w.Line("access &= ~" + Ns + "AccessRights.Write;");
                _w.Close();
                _w.Line();
                string key = _spec.ProtectionKey is BitRange k ? "_pkruMask != 0 ? (int)((pte >> " + k.Lo + ") & " + Hex((1UL << k.Width) - 1) + ") : 0" : "0";
                _w.Line("vm.SetLeaf(sp, index, (pte & " + Hex(page.Frame.Mask) + ") >> 12, access, " + key + ", prefetched: true);");
                _w.Close();
                _w.Close();
                _w.Line();
            }
        }
    }
}
