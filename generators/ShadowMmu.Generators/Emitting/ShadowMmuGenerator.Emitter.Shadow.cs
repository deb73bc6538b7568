using System.Collections.Generic;
using System.Linq;
using static ShadowMmu.Generators.Code;

namespace ShadowMmu.Generators
{
    public sealed partial class ShadowMmuGenerator
    {
        internal sealed partial class Emitter
        {
            // The shadow code reads a guest entry's accessed and dirty flags in a few places: with EPT they count only when
            // EPTP enables them (without, every entry counts as accessed and dirty).
            private string DirtyTest(string entry) => AccessedDirtyConditional
                ? "(!_accessedDirty || (" + entry + " & " + Hex(_plan.AccessedDirty!.DirtyMask) + ") != 0)"
                : "((" + entry + " & " + Hex(_plan.AccessedDirty!.DirtyMask) + ") != 0)";

            private string NeverAccessedTest(string entry) => AccessedDirtyConditional
                ? "(_accessedDirty && (" + entry + " & " + Hex(_plan.AccessedDirty!.AccessedMask) + ") == 0)"
                : "(" + entry + " & " + Hex(_plan.AccessedDirty!.AccessedMask) + ") == 0";

            private void EmitShadow(ShadowPlan shadow)
            {
                ulong dirty = _plan.AccessedDirty!.DirtyMask;
                _w.Comment("---- Shadow paging: the roots, Fetch and Prefetch (KVM's FNAME(fetch) and FNAME(pte_prefetch)) ----");
                _w.Line();
                _w.Line("/// <inheritdoc/>");
                _w.Line("public int ShadowRootLevel => " + shadow.RootLevel + ";");
                _w.Line();
                _w.Line("/// <inheritdoc/>");
                _w.Line("public ulong GuestDirtyMask => " + (AccessedDirtyConditional ? "_accessedDirty ? " + Hex(dirty) + " : 0" : Hex(dirty)) + ";");
                _w.Line();
                EmitRootTables(shadow);
                EmitDecodeGpte();
                EmitFetchDispatch();
                foreach (FetchOrder order in FetchOrders)
                {
                    EmitFetch(shadow, order);
                }

                EmitSharedFetchDispatch();
                EmitFetch(shadow, SharedOrder);
                EmitGpteChanged(shadow);
                EmitPrefetch(shared: false);
                EmitPrefetch(shared: true);
            }

            private void EmitRootTables(ShadowPlan shadow)
            {
                _w.Line("/// <inheritdoc/>");
                _w.Open("public int GetRootTables(global::System.Span<" + Mmu + "RootTable> roots)");
                switch (shadow.Roots)
                {
                    case ShadowRoots.Registers:
                        LevelPlan register = _plan.RegisterLevel!;
                        _w.Comment("One root per " + register.EntryName + " register: the page directory it points to.");
                        _w.Open("for (int i = 0; i < 4; i++)");
                        _w.Line("ulong entry = " + register.RegistersField + "[i];");
                        Statement(_w, "roots[i] = new ", Calling(Mmu + "RootTable", "(entry & " + Hex(register.TableMask) + ") >> 12", "0",
                            "!_registerLoadFaulted && " + _format.PresentTest("entry")));
                        _w.Close();
                        _w.Line();
                        _w.Line("return 4;");
                        break;
                    case ShadowRoots.Quadrants:
                        _w.Comment("The guest page directory is shadowed in four quadrants, one root for each GiB of linear space.");
                        _w.Open("for (int i = 0; i < 4; i++)");
                        _w.Line("roots[i] = new " + Mmu + "RootTable(_root >> 12, i, true);");
                        _w.Close();
                        _w.Line();
                        _w.Line("return 4;");
                        break;
                    default:
                        _w.Line("roots[0] = new " + Mmu + "RootTable(_root >> 12, 0, true);");
                        _w.Line("return 1;");
                        break;
                }

                _w.Close();
                _w.Line();
            }

            /// <summary>True when the guest entry <paramref name="entry"/> may be shadowed: present, and (EPT) not misconfigured.</summary>
            private string UsableTest(string entry) =>
                _format.MisconfiguredTest(entry) is string misconfigured
                    ? "!(" + _format.PresentTest(entry) + ") || " + misconfigured
                    : "!(" + _format.PresentTest(entry) + ")";

            private void EmitDecodeGpte()
            {
                _w.Line("/// <inheritdoc/>");
                _w.Open("public bool TryDecodeGpte(ulong pte, int level, out " + Mmu + "GpteInfo info)");
                _w.Line("info = default;");
                _w.Open("if (" + UsableTest("pte") + ")");
                _w.Line("return false;");
                _w.Close();
                _w.Line();
                Expression rights = _format.ShadowRightsOf("pte");
                _w.Wrap("uint access = ", rights.Terms, rights.Separator, ";");
                _w.Line("bool dirty = " + DirtyTest("pte") + ";");
                _w.Open("switch (level)");
                foreach (LevelPlan level in _plan.MemoryLevels)
                {
                    _w.Line("case " + level.Level + ":");
                    _w.Indent();
                    if (level.Level == 1)
                    {
                        Statement(_w, "info = new ", Calling(Mmu + "GpteInfo", "true", FrameNumberOf(level.Page!, "pte"), "access", "dirty"));
                        _w.Line("return (pte & " + level.Page!.ReservedField + ") == 0;");
                        _w.Unindent();
                        continue;
                    }

                    if (level.Page is PagePlan page)
                    {
                        _w.Open("if ((pte & " + Hex(_plan.PageSizeMask) + ") != 0" + (page.Gate != null ? " && " + page.Gate : "") + ")");
                        Statement(_w, "info = new ", Calling(Mmu + "GpteInfo", "true", FrameNumberOf(page, "pte"), "access", "dirty"));
                        _w.Line("return (pte & " + page.ReservedField + ") == 0;");
                        _w.Close();
                        _w.Line();
                    }

                    _w.Line("info = new " + Mmu + "GpteInfo(false, (pte & " + Hex(level.TableMask) + ") >> 12, access, dirty);");
                    _w.Line("return (pte & " + level.TableReservedField + ") == 0;");
                    _w.Unindent();
                }

                _w.Line("default:");
                _w.Line("    return false;");
                _w.Close();
                _w.Close();
                _w.Line();
            }

            /// <summary>
            /// A re-check order, as the template needs it: all three are emitted, each as straight-line code (so that the
            /// lint can check each), the same for every spec.
            /// </summary>
            /// <param name="CheckRoot">The root's guest entry is re-checked first.</param>
            /// <param name="PassPresent">A level whose shadow entry is present is passed without a look (the 2010 code).</param>
            /// <param name="CheckLeaf">The leaf's guest entry is re-checked through the group read.</param>
            /// <param name="What">The method's summary.</param>
            /// <param name="Shared">The fixed order on the mmu_lock's shared side: it follows only pages that exist and are linked, and
            /// installs only over the value it read before the re-check (<c>Vm.InstallLeafShared</c>).</param>
            private sealed record FetchOrder(string Name, bool CheckRoot, bool PassPresent, bool CheckLeaf, string What, bool Shared = false)
            {
                /// <summary>Deliberately unsafe: kept to reproduce a race.</summary>
                public bool Deliberate => Name != "Fixed" && !Shared;

                /// <summary>The generic method's name.</summary>
                public string MethodName => Shared ? "FetchOnSharedSide" : "Fetch" + Name;
            }

            private static readonly FetchOrder SharedOrder = new FetchOrder("Shared", CheckRoot: true, PassPresent: false, CheckLeaf: true,
                "KVM's fixed order on the mmu_lock's shared side (as its TDP MMU faults under read_lock): the same re-checks, each after "
                + "the shadow page of its table is found; a page that is missing or not linked yet ends it with NeedsExclusive, changing "
                + "nothing; the leaf is installed only over the value read before its re-check (a compare-exchange, or a plain store "
                + "in a page only this vCPU reaches).",
                Shared: true);

            private static readonly FetchOrder[] FetchOrders =
            {
                new FetchOrder("Fixed", CheckRoot: true, PassPresent: false, CheckLeaf: true,
                    "KVM's order since 2010: the root entry first; then at every level, once the child shadow page is obtained (which "
                    + "write-protects its guest table), the entry the walk read in that table; the leaf through the one read of its group."),
                new FetchOrder("PreFix", CheckRoot: false, PassPresent: true, CheckLeaf: true,
                    "The 2010 code, kept to reproduce its race: a level whose shadow entry is present is passed without a look; "
                    + "only where a shadow page is obtained is the entry inside it compared, and the root entry never is."),
                new FetchOrder("NoLeaf", CheckRoot: true, PassPresent: false, CheckLeaf: false,
                    "As the fixed order, but the guest leaf entry is never re-checked: kept to show why it must be."),
            };

            private void EmitFetchDispatch()
            {
                _w.Line("/// <inheritdoc/>");
                _w.Line(RequiresMmuLock);
                _w.OpenWrapped("public " + Mmu + "FetchOutcome Fetch(", new[]
                {
                    Mmu + "Vcpu vcpu", "ref " + Mmu + "GuestWalk walk", "uint leafAccess", "ulong pfn", Mmu + "RecheckOrder order",
                    Mmu + "IFetchHooks? hooks",
                }, ", ", ")");
                _w.Comment("One compiled Fetch per re-check order and hook kind: the default path pays for neither.");
                _w.Open("if (hooks == null)");
                _w.Line("var none = default(" + Mmu + "NoFetchHooks);");
                _w.Open("return order switch");
                _w.Line(Mmu + "RecheckOrder.PreFix => FetchPreFix(vcpu, ref walk, leafAccess, pfn, none),");
                _w.Line(Mmu + "RecheckOrder.NoLeaf => FetchNoLeaf(vcpu, ref walk, leafAccess, pfn, none),");
                _w.Line("_ => FetchFixed(vcpu, ref walk, leafAccess, pfn, none),");
                _w.Close(";");
                _w.Close();
                _w.Line();
                _w.Open("return order switch");
                _w.Line(Mmu + "RecheckOrder.PreFix => FetchPreFix(vcpu, ref walk, leafAccess, pfn, hooks),");
                _w.Line(Mmu + "RecheckOrder.NoLeaf => FetchNoLeaf(vcpu, ref walk, leafAccess, pfn, hooks),");
                _w.Line("_ => FetchFixed(vcpu, ref walk, leafAccess, pfn, hooks),");
                _w.Close(";");
                _w.Close();
                _w.Line();
            }

            private void EmitSharedFetchDispatch()
            {
                _w.Line("/// <inheritdoc/>");
                _w.Line(RequiresEitherSide);
                _w.OpenWrapped("public " + Mmu + "FetchOutcome FetchShared(", new[]
                {
                    Mmu + "Vcpu vcpu", "ref " + Mmu + "GuestWalk walk", "uint leafAccess", "ulong pfn", Mmu + "IFetchHooks? hooks",
                }, ", ", ")");
                _w.Line("return hooks == null");
                _w.Line("    ? FetchOnSharedSide(vcpu, ref walk, leafAccess, pfn, default(" + Mmu + "NoFetchHooks))");
                _w.Line("    : FetchOnSharedSide(vcpu, ref walk, leafAccess, pfn, hooks);");
                _w.Close();
                _w.Line();
            }

            private void EmitFetch(ShadowPlan shadow, FetchOrder order)
            {
                int top = shadow.RootLevel;
                _w.Summary(order.What);
                _w.Documentation("remarks",
                    (order.Shared ? "Follows" : "Builds") + " the shadow pages along the walk, top down. The guest entries it uses come from the lock-free walk; each may",
                    "be trusted only once re-read after its table was write-protected, with the mmu_lock held: after that point every",
                    "guest write to the table traps and waits for the lock" + (order.Shared ? "'s exclusive side, which waits for this hold to end." : "."));
                _w.Line(order.Shared ? RequiresEitherSide : RequiresMmuLock);
                if (order.Deliberate && _suppressRaceOrders)
                {
                    _w.Wrap("[global::System.Diagnostics.CodeAnalysis.SuppressMessage(", new[]
                    {
                        "\"ShadowMmu.Locking\"", "\"MMU0001\"",
                        "Justification = \"Deliberately unsafe: reproduces its race (ShadowMmuCheckRaceOrders=true shows it).\"",
                    }, ", ", ")]");
                }

                _w.Wrap("private " + Mmu + "FetchOutcome " + order.MethodName + "<THooks>(",
                    new[] { Mmu + "Vcpu vcpu", "ref " + Mmu + "GuestWalk walk", "uint leafAccess", "ulong pfn", "THooks hooks" }, ", ", ")");
                _w.Open("    where THooks : " + Mmu + "IFetchHooks");
                _w.Line(Mmu + "Vm vm = vcpu.Vm;");
                _w.Line(Mmu + "ShadowCpuRole cpuRole = vcpu.CpuRole;");
                _w.Line("ulong va = walk.Va;");
                _w.Line(Mmu + "ShadowPage? sp = vcpu.RootFor(va);");
                if (order.Shared)
                {
                    _w.Line(Mmu + "ShadowPage? child;");
                    _w.Line("ulong expectedLeaf = 0;");
                    _w.Line(Mmu + "FetchOutcome installed;");
                }
                else
                {
                    _w.Line(Mmu + "ShadowPage child;");
                    _w.Line("bool linked;");
                }

                _w.Line("int index;");
                if (_plan.Levels.Any(l => l.Level > 1 && l.Level <= top && l.Page != null))
                {
                    _w.Line("ulong gfn;");
                }

                _w.Line("var group = default(" + Mmu + "GuestEntryGroup);");
                _w.Line("bool groupRead = false;");
                _w.Open("if (sp == null || !sp.Valid)");
                _w.Line("return " + Mmu + "FetchOutcome.Retry;");
                _w.Close();
                _w.Line();
                if (order.CheckRoot)
                {
                    LevelPlan topLevel = _plan.Level(top);
                    _w.Comment("The root's guest table has been write-protected since the root was made: the " + topLevel.EntryName + " the walk read there",
                        "must still be there.");
                    EmitRecheck(top, order, leafPossible: topLevel.Page != null);
                }

                for (int level = top; level >= 2; level--)
                {
                    _w.Line();
                    EmitFetchLevel(shadow, level, order);
                }

                _w.Line();
                _w.Comment("The leaf: a 4 KiB guest page, mapped with the rights the walk granted (less W for a clean or protected page).");
                _w.Line("index = (int)(va >> 12) & 511;");
                if (order.Shared)
                {
                    EmitInstallLeafShared("index", FrameNumberOf(_plan.Level(1).Page!, "walk.Ptes[0]"), "expectedLeaf");
                    _w.Open("if (installed != " + Mmu + "FetchOutcome.Mapped)");
                    _w.Line("return installed;");
                    _w.Close();
                    _w.Line();
                    _w.Line("PrefetchShared(vcpu, sp, index, ref group);");
                }
                else
                {
                    EmitSetLeaf("index", FrameNumberOf(_plan.Level(1).Page!, "walk.Ptes[0]"), "pfn", "leafAccess", "walk.ProtectionKey", prefetched: false);
                    _w.Line("Prefetch(vm, sp, index, ref walk, ref group, groupRead);");
                }

                _w.Line("return " + Mmu + "FetchOutcome.Mapped;");
                for (int level = top; level >= 2; level--)
                {
                    if (_plan.Level(level).Page != null)
                    {
                        _w.Line();
                        EmitLargePage(level, order);
                    }
                }

                _w.Close();
                _w.Line();
            }

            /// <summary>The re-check of the entry the walk read at <paramref name="level"/>: a retry when it changed.</summary>
            private void EmitRecheck(int level, FetchOrder order, bool leafPossible)
            {
                string condition = "!GpteUnchanged(walk.PteGpa[" + (level - 1) + "], walk.Ptes[" + (level - 1) + "])";
                if (!order.CheckLeaf && leafPossible)
                {
                    condition = "walk.Level != " + level + " && " + condition;
                }

                _w.Open("if (" + condition + ")");
                _w.Line("return " + Mmu + "FetchOutcome.Retry;");
                _w.Close();
            }

            private void EmitFetchLevel(ShadowPlan shadow, int level, FetchOrder order)
            {
                LevelPlan parent = _plan.Level(level);
                LevelPlan child = _plan.Level(level - 1);
                bool childIsLeafTable = level - 1 == 1;
                if (parent.Page != null)
                {
                    _w.Open("if (walk.Level == " + level + ")");
                    _w.Line("goto LargePage" + level + ";");
                    _w.Close();
                    _w.Line();
                }

                string quadrant = shadow.Quadrants && childIsLeafTable ? "(int)(va >> 21) & 1" : "0";
                _w.Comment("Shadow level " + level + ": the entry for va[" + (12 + (9 * level) - 1) + ":" + (12 + (9 * (level - 1))) + "] links the shadow page",
                    "of the table the " + parent.EntryName + " references" + (shadow.Quadrants && childIsLeafTable ? " (the half that va[21] selects)" : "") + ".");
                _w.Line("index = (int)(va >> " + (12 + (9 * (level - 1))) + ") & 511;");
                if (order.PassPresent)
                {
                    _w.Comment("The 2010 code passes a present shadow entry without looking at the guest entries at all.");
                    _w.Open("if (" + Mmu + "Spte.IsPresent(sp[index]))");
                    _w.Line("sp = vm.Page(" + Mmu + "Spte.ChildId(sp[index]));");
                    _w.Close();
                    _w.Open("else");
                }

                EmitGetChildPage("(walk.Ptes[" + (level - 1) + "] & " + Hex(parent.TableMask) + ") >> 12",
                    Mmu + "ShadowRole.Create(" + (level - 1) + ", " + quadrant + ", false, walk.PtAccess[" + (level - 2) + "], cpuRole)", order);
                _w.Line("hooks.AfterChildPage(" + (level - 1) + ", child);");
                if (childIsLeafTable)
                {
                    if (order.Shared)
                    {
                        _w.Comment("The leaf's value before its re-check: the install replaces only it, so that a leaf another vCPU installed or",
                            "dropped (INVLPG) after this read makes it fail.");
                        _w.Line("expectedLeaf = child[(int)(va >> 12) & 511];");
                    }

                    if (order.CheckLeaf)
                    {
                        _w.Comment("The table of 4 KiB pages is write-protected now: one read of the 8-entry group around the PTE re-checks it and",
                            "feeds the prefetch.");
                        _w.Line("groupRead = ReadGroup(walk.PteGpa[0], ref group);");
                        _w.Open("if (!groupRead || !LeafUnchanged(group, walk.PteGpa[0], walk.Ptes[0]))");
                        _w.Line("return " + Mmu + "FetchOutcome.Retry;");
                        _w.Close();
                    }
                }
                else
                {
                    _w.Comment("The table that holds the " + child.EntryName + " is write-protected now: the " + child.EntryName + " can be re-checked.");
                    EmitRecheck(level - 1, order, leafPossible: child.Page != null);
                }

                _w.Line();
                EmitLink(order);
                _w.Line("sp = child;");
                if (order.PassPresent)
                {
                    _w.Close();
                }
            }

            /// <summary>Links the child the walk found unless linked already; the shared side found it linked.</summary>
            private void EmitLink(FetchOrder order)
            {
                if (order.Shared)
                {
                    return;
                }

                _w.Open("if (!linked)");
                _w.Line("vm.Link(sp, index, child);");
                _w.Close();
                _w.Line();
            }

            private void EmitLargePage(int level, FetchOrder order)
            {
                PagePlan page = _plan.Level(level).Page!;
                _w.Label("LargePage" + level);
                _w.Comment("A " + page.SizeName + " guest page: the shadow maps it with 4 KiB entries in direct shadow pages, one per level below,",
                    "whose rights are the leaf's (a clean page's mappings stay read-only until a write sets D).");
                _w.Line("gfn = (" + FrameNumberOf(page, "walk.Ptes[" + (level - 1) + "]") + ") + ((va >> 12) & " + Hex((page.Size >> 12) - 1) + ");");
                for (int l = level; l >= 2; l--)
                {
                    int shift = 12 + (9 * (l - 1));
                    ulong frames = 1UL << (9 * (l - 1));
                    _w.Line("index = (int)(va >> " + shift + ") & 511;");
                    if (order.PassPresent)
                    {
                        _w.Open("if (" + Mmu + "Spte.IsPresent(sp[index]))");
                        _w.Line("sp = vm.Page(" + Mmu + "Spte.ChildId(sp[index]));");
                        _w.Close();
                        _w.Open("else");
                    }

                    EmitGetChildPage("gfn & ~(ulong)" + Hex(frames - 1), Mmu + "ShadowRole.Create(" + (l - 1) + ", 0, true, leafAccess, cpuRole)", order);
                    EmitLink(order);
                    _w.Line("sp = child;");
                    if (order.PassPresent)
                    {
                        _w.Close();
                    }

                    _w.Line();
                }

                if (order.Shared)
                {
                    _w.Line("index = (int)(va >> 12) & 511;");
                    _w.Comment("The guest entry that maps the page sits in an upper-level table, which is never unsync: any change to it traps",
                        "and waits for this hold to end, so the leaf's value read now is as good as one read before the re-check.");
                    EmitInstallLeafShared("index", "gfn", "sp[index]");
                    _w.Line("return installed;");
                    return;
                }

                EmitSetLeaf("(int)(va >> 12) & 511", "gfn", "pfn", "leafAccess", "walk.ProtectionKey", prefetched: false);
                _w.Line("return " + Mmu + "FetchOutcome.Mapped;");
            }

            private void EmitGpteChanged(ShadowPlan shadow)
            {
                _w.Summary("KVM's FNAME(gpte_changed), inverted: re-reads the entry at <paramref name=\"gpa\"/>; true when it still holds",
                    "<paramref name=\"expected\"/>.");
                _w.Line(RequiresEitherSide);
                Inline(_w);
                _w.Open("private bool GpteUnchanged(ulong gpa, [" + Mmu + "Annotations.RevalidatesGuestPte] ulong expected)");
                _w.Line("return TryReadEntry(gpa, out ulong now) && now == expected;");
                _w.Close();
                _w.Line();
                _w.Summary("The leaf's re-check from the group read: true when the PTE at <paramref name=\"pteGpa\"/> still holds",
                    "<paramref name=\"expected\"/>.");
                _w.Line(RequiresEitherSide);
                Inline(_w);
                _w.OpenWrapped("private static bool LeafUnchanged(",
                    new[] { "in " + Mmu + "GuestEntryGroup group", "ulong pteGpa", "[" + Mmu + "Annotations.RevalidatesGuestPte] ulong expected" }, ", ", ")");
                _w.Line("return group[(int)(pteGpa / " + EntryBytes + ") & 7] == expected;");
                _w.Close();
                _w.Line();
                _w.Summary("The aligned group of 8 entries around the PTE at <paramref name=\"pteGpa\"/>, in one read.");
                Inline(_w);
                _w.Open("private bool ReadGroup(ulong pteGpa, ref " + Mmu + "GuestEntryGroup group)");
                _w.Line("ulong first = pteGpa & ~(ulong)" + Hex((ulong)(8 * EntryBytes) - 1) + ";");
                if (shadow.ReadsGroupsDirectly)
                {
                    _w.Comment("Eight aligned atomic reads (the group is aligned to its size, so each entry is naturally aligned).");
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

            /// <summary>
            /// Installs a shadow leaf in <c>sp</c> (KVM's <c>mmu_set_spte</c>): the one place Fetch and Prefetch write a leaf,
            /// so that another way of installing one is a change here.
            /// </summary>
            private void EmitSetLeaf(string index, string frameNumber, string hostFrame, string access, string key, bool prefetched) =>
                Statement(_w, "", Calling("vm.SetLeaf", "sp", index, frameNumber, hostFrame, access, key, "prefetched: " + (prefetched ? "true" : "false")));

            /// <summary>
            /// The leaf on the shared side, installed only over <paramref name="expected"/> (<c>Vm.InstallLeafShared</c>), its
            /// outcome in <c>installed</c>.
            /// </summary>
            private void EmitInstallLeafShared(string index, string frameNumber, string expected) =>
                Statement(_w, "installed = ", Calling("vm.InstallLeafShared", "vcpu", "sp", index, frameNumber, "pfn", "leafAccess", "walk.ProtectionKey", expected));

            /// <summary>
            /// Gets or creates the shadow page of <paramref name="frameNumber"/> under <c>sp[index]</c> (KVM's
            /// <c>kvm_mmu_get_child_sp</c>); on the shared side finds it linked there, or ends the fault with NeedsExclusive.
            /// </summary>
            private void EmitGetChildPage(string frameNumber, string role, FetchOrder order)
            {
                if (!order.Shared)
                {
                    Statement(_w, "child = ", Calling("vm.GetChildPage", "vcpu", "sp", "index", frameNumber, role, "out linked"));
                    return;
                }

                Statement(_w, "child = ", Calling("vm.FindLinkedChild", "sp", "index", frameNumber, role));
                _w.Open("if (child == null)");
                _w.Line("return " + Mmu + "FetchOutcome.NeedsExclusive;");
                _w.Close();
                _w.Line();
            }
        }
    }
}
