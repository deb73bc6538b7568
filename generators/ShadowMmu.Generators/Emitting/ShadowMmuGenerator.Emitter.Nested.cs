using static ShadowMmu.Generators.Code;

namespace ShadowMmu.Generators
{
    public sealed partial class ShadowMmuGenerator
    {
        /// <summary>
        /// The two-dimensional walk (SDM "EPT Translation Mechanism" with guest paging): the same pass over the same levels
        /// as the walk, each guest table entry's guest-physical address translated through EPT before it is read, each
        /// accessed or dirty flag an EPT write, and the final address translated for the access itself.
        /// </summary>
        internal sealed partial class Emitter
        {
            private void EmitNestedWalk()
            {
                EmitWalkNested();
                EmitWalkOnce(WalkPass.Nested);
                if (HasAccessedDirty)
                {
                    EmitTrySetAccessedDirty(WalkPass.Nested);
                }
            }

            private void EmitWalkNested()
            {
                _w.Line("/// <inheritdoc/>");
                _w.OpenWrapped("public bool WalkNested(", new[]
                {
                    "ref " + Mmu + "NestedWalk nested", "ulong va", Mmu + "AccessKind kind", "int cpl", "bool ac", Mmu + "IEptWalker ept",
                }, ", ", ")");
                _w.Comment("The guest's own faults end the walk unless EPT exits first or everything translates.");
                _w.Line("nested.Begin();");
                _w.Line("nested.Fault = " + Mmu + "NestedFault.Guest;");
                _w.Line("ref " + Mmu + "GuestWalk walk = ref nested.Guest;");
                _w.Line();
                EmitWalkPrologue();
                _w.Line();
                _w.Line("int request = " + _format.RequestCall + ";");
                _w.Open("while (!WalkNestedOnce(ref nested, va, request, ept))");
                if (HasAccessedDirty)
                {
                    _w.Comment("A fault of either dimension ends the walk; a pass that translated but found accessed or dirty flags missing",
                        "returns false with neither. Each flag is a write of a guest paging structure through EPT, which may exit; an",
                        "entry that changed since it was read makes the walk run again.");
                    _w.Open("if (walk.Fault != " + Mmu + "WalkFault.None || nested.Fault == " + Mmu + "NestedFault.Ept)");
                    _w.Line("return false;");
                    _w.Close();
                    _w.Line();
                    _w.Line("int set = SetAccessedDirtyNested(ept, ref nested, walk.Level, (request & " + _format.RequestWriteBit + ") != 0);");
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
                _w.Comment("The final guest-physical address through EPT, for the access itself.");
                _w.Line("return nested.TranslateFinal(ept, kind);");
                _w.Close();
                _w.Line();
            }

            /// <summary>The nested pass's first step at a level: the entry's guest-physical address through EPT, into <c>hpa</c>.</summary>
            private void EmitTranslateGuestEntry(LevelPlan level)
            {
                _w.Line();
                _w.Comment("Through EPT first: a read of a guest paging structure (a write, with EPT A/D flags on). When EPT exits, the",
                    "guest walk ends at this level, unread, with no fault of its own.");
                _w.Open("if (!nested.TranslateGuestEntry(ept, " + level.Level + ", " + _format.EntryAddress + ", update: false, out hpa))");
                _w.Line("walk.MaxLevel = " + _plan.FirstMemoryLevel + ";");
                _w.Line("walk.PtAccess = " + PtAccess + ";");
                _w.Line("return false;");
                _w.Close();
                _w.Line();
            }
        }
    }
}
