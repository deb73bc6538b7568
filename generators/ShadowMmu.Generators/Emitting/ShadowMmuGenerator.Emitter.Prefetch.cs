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
            /// KVM's FNAME(pte_prefetch), on either side. The shared side's maps only neighbours whose entries hold a tombstone of
            /// the same frame (a leaf dropped there by INVLPG: no reverse map changes), each only over the value read, and only in
            /// a table in sync: in an unsync table a neighbour may change without a trap after the group read, and its expected
            /// value would have to be read before it.
            /// </summary>
            private void EmitPrefetch(bool shared)
            {
                PagePlan page = _plan.Level(1).Page!;
                if (shared)
                {
                    _w.Summary("KVM's FNAME(pte_prefetch) on the mmu_lock's shared side: the neighbours of the faulting PTE that INVLPG dropped",
                        "(tombstones of the same frame) are mapped again from the group read, each only over the value read; in a table",
                        "in sync only (an unsync table's neighbours may change without a trap after the group read).");
                    _w.Line(RequiresEitherSide);
                    Inline(_w);
                    _w.OpenWrapped("private void PrefetchShared(", new[]
                    {
                        Mmu + "Vcpu vcpu", Mmu + "ShadowPage sp", "int faultIndex", "ref " + Mmu + "GuestEntryGroup group",
                    }, ", ", ")");
                    _w.Line("int absent = sp.AbsentInGroup(faultIndex) & ~(1 << (faultIndex & 7));");
                    _w.Open("if (absent != 0 && !sp.Unsync)");
                    _w.Line("PrefetchAbsentShared(vcpu, sp, faultIndex, absent, ref group);");
                    _w.Close();
                }
                else
                {
                    _w.Summary("KVM's FNAME(pte_prefetch): maps the neighbours of the faulting PTE in its aligned group of 8 from the group read",
                        "that re-checked the PTE (read after its table was write-protected), so they are as trustworthy as the PTE. Only",
                        "neighbours whose shadow entries are not present are mapped; in a steady state there are none.");
                    _w.Line(RequiresMmuLock);
                    Inline(_w);
                    _w.OpenWrapped("private void Prefetch(", new[]
                    {
                        Mmu + "Vm vm", Mmu + "ShadowPage sp", "int faultIndex", "ref " + Mmu + "GuestWalk walk", "ref " + Mmu + "GuestEntryGroup group", "bool groupRead",
                    }, ", ", ")");
                    _w.Line("int absent = sp.AbsentInGroup(faultIndex) & ~(1 << (faultIndex & 7));");
                    _w.Open("if (absent != 0)");
                    _w.Line("PrefetchAbsent(vm, sp, faultIndex, absent, ref walk, ref group, groupRead);");
                    _w.Close();
                }

                _w.Close();
                _w.Line();
                _w.Summary("Prefetch of the <paramref name=\"absent\"/> neighbours (bit i: entry i of the group), in order.");
                _w.Line(shared ? RequiresEitherSide : RequiresMmuLock);
                if (shared)
                {
                    _w.OpenWrapped("private void PrefetchAbsentShared(", new[]
                    {
                        Mmu + "Vcpu vcpu", Mmu + "ShadowPage sp", "int faultIndex", "int absent", "ref " + Mmu + "GuestEntryGroup group",
                    }, ", ", ")");
                    _w.Line(Mmu + "Vm vm = vcpu.Vm;");
                    _w.Open("if (!vm.CanPrefetchShared())");
                }
                else
                {
                    _w.OpenWrapped("private void PrefetchAbsent(", new[]
                    {
                        Mmu + "Vm vm", Mmu + "ShadowPage sp", "int faultIndex", "int absent", "ref " + Mmu + "GuestWalk walk", "ref " + Mmu + "GuestEntryGroup group",
                        "bool groupRead",
                    }, ", ", ")");
                    _w.Open("if ((!groupRead && !ReadGroup(walk.PteGpa[0], ref group)) || !vm.CanPrefetch(8))");
                }

                _w.Line("return;");
                _w.Close();
                _w.Line();
                _w.Line("int first = faultIndex & ~7;");
                _w.Open("for (; absent != 0; absent &= absent - 1)");
                _w.Line("int i = global::System.Numerics.BitOperations.TrailingZeroCount(absent);");
                _w.Line("int index = first + i;");
                _w.Line();
                _w.Comment("A neighbour that is not present, never accessed, or has a reserved bit set ends the prefetch.");
                _w.Line("ulong pte = group[i];");
                var stops = new List<string> { "!(" + _format.PresentTest("pte") + ")", NeverAccessedTest("pte"), "(pte & " + page.ReservedField + ") != 0" };
                if (_format.MisconfiguredTest("pte") is string misconfigured)
                {
                    stops.Add(misconfigured);
                }

                _w.OpenWrapped("if (", stops, " || ", ")");
                _w.Line("break;");
                _w.Close();
                _w.Line();
                _w.Wrap("uint access = ", new[] { "sp.Role.Access" }.Concat(_format.ShadowRightsOf("pte").Terms).ToList(), " & ", ";");
                _w.Open("if (!" + DirtyTest("pte") + ")");
                _w.Line("access &= ~" + Mmu + "AccessRights.Write;");
                _w.Close();
                _w.Line();
                _w.Line("ulong gfn = " + FrameNumberOf(page, "pte") + ";");
                _w.Comment("A neighbour whose frame the host took away ends it too: prefetch cannot fault a frame in.");
                _w.Open("if (!vm.TryPrefetchPfn(gfn, out ulong pfn))");
                _w.Line("break;");
                _w.Close();
                _w.Line();
                if (shared)
                {
                    Statement(_w, "", Calling("vm.PrefetchLeafShared", "vcpu", "sp", "index", "gfn", "pfn", "access", _format.KeyOf("pte"), "sp[index]"));
                }
                else
                {
                    EmitSetLeaf("index", "gfn", "pfn", "access", _format.KeyOf("pte"), prefetched: true);
                }

                _w.Close();
                _w.Close();
                _w.Line();
            }
        }
    }
}
