using System.Collections.Generic;
using System.Linq;
using static ShadowMmu.Generators.Code;

namespace ShadowMmu.Generators
{
    public sealed partial class ShadowMmuGenerator
    {
        internal sealed partial class Emitter
        {
            /// <summary>
            /// KVM's <c>FNAME(sync_spte)</c> and the loop of <c>kvm_sync_page</c> over it, and the old <c>FNAME(invlpg)</c>'s
            /// zap-and-prefetch of one entry: an unsync table of 4 KiB pages re-read from guest memory, each shadow leaf updated
            /// (same frame, new rights), dropped (the guest entry is invalid or names another frame) or, at INVLPG, installed
            /// again from the entry as prefetch would.
            /// </summary>
            private void EmitSync(SyncPlan sync)
            {
                PagePlan page = _plan.Level(1).Page!;
                _w.Comment("---- Unsync page tables: Sync at the guest's TLB flushes (KVM's FNAME(sync_spte), kvm_sync_page, FNAME(invlpg)) ----");
                _w.Line();
                _w.Line("/// <inheritdoc/>");
                _w.Line(RequiresMmuLock);
                _w.Open("public int SyncPage(" + Mmu + "Vm vm, " + Mmu + "ShadowPage sp)");
                _w.Line("int changed = 0;");
                _w.Open("for (int index = 0; index < 512; index++)");
                _w.Comment("Only present entries: one that is not present faults, and the fault reads the guest entry as it is.");
                _w.Open("if (" + Mmu + "Spte.IsPresent(sp[index]) && SyncEntry(vm, sp, index, prefetchAbsent: false))");
                _w.Line("changed++;");
                _w.Close();
                _w.Close();
                _w.Line();
                _w.Line("return changed;");
                _w.Close();
                _w.Line();
                _w.Line("/// <inheritdoc/>");
                _w.Line(RequiresMmuLock);
                _w.Open("public bool SyncSpte(" + Mmu + "Vm vm, " + Mmu + "ShadowPage sp, int index)");
                _w.Line("return SyncEntry(vm, sp, index, prefetchAbsent: true);");
                _w.Close();
                _w.Line();
                _w.Summary("Re-reads the guest entry behind leaf <paramref name=\"index\"/> of unsync page <paramref name=\"sp\"/> and brings",
                    "the leaf in line with it; with <paramref name=\"prefetchAbsent\"/> (INVLPG) an absent or dropped leaf is installed",
                    "from the entry as a prefetch. True when the leaf changed.");
                _w.Line(RequiresMmuLock);
                _w.Open("private bool SyncEntry(" + Mmu + "Vm vm, " + Mmu + "ShadowPage sp, int index, bool prefetchAbsent)");
                string guestIndex = sync.Quadrants ? "(sp.Role.Quadrant * 512) + index" : "index";
                _w.Line("ulong gpa = (sp.Gfn << 12) + (ulong)((" + guestIndex + ") * " + EntryBytes + ");");
                _w.Line("bool present = " + Mmu + "Spte.IsPresent(sp[index]);");
                _w.Comment("KVM's FNAME(prefetch_invalid_gpte): a guest entry that is not present, never accessed, has a reserved bit set",
                    "(or, EPT, is misconfigured) gives no leaf.");
                var invalid = new List<string> { "!TryReadEntry(gpa, out ulong pte)", "!(" + _format.PresentTest("pte") + ")", NeverAccessedTest("pte"),
                    "(pte & " + page.ReservedField + ") != 0" };
                if (_format.MisconfiguredTest("pte") is string misconfigured)
                {
                    invalid.Add(misconfigured);
                }

                _w.OpenWrapped("if (", invalid, " || ", ")");
                _w.Open("if (present)");
                _w.Line("vm.DropLeaf(sp, index);");
                _w.Close();
                _w.Line();
                _w.Line("return present;");
                _w.Close();
                _w.Line();
                _w.Line("ulong gfn = " + FrameNumberOf(page, "pte") + ";");
                _w.Wrap("uint access = ", new[] { "sp.Role.Access" }.Concat(_format.ShadowRightsOf("pte").Terms).ToList(), " & ", ";");
                _w.Open("if (!" + DirtyTest("pte") + ")");
                _w.Line("access &= ~" + Mmu + "AccessRights.Write;");
                _w.Close();
                _w.Line();
                _w.Open("if (present && sp.GfnAt(index) == gfn)");
                _w.Comment("The same frame: its host frame stays (an invalidation would have zapped the leaf); only the rights follow.");
                Statement(_w, "return ", Calling("vm.SyncLeaf", "sp", "index", "access", _format.KeyOf("pte")));
                _w.Close();
                _w.Line();
                _w.Open("if (present)");
                _w.Line("vm.DropLeaf(sp, index);");
                _w.Close();
                _w.Line();
                _w.Open("if (prefetchAbsent && vm.CanPrefetch(1) && vm.TryPrefetchPfn(gfn, out ulong pfn))");
                EmitSetLeaf("index", "gfn", "pfn", "access", _format.KeyOf("pte"), prefetched: true);
                _w.Line("return true;");
                _w.Close();
                _w.Line();
                _w.Line("return present;");
                _w.Close();
                _w.Line();
            }
        }
    }
}
