using System.Collections.Generic;
using System.Linq;

namespace ShadowMmu.Generators
{
    public sealed partial class ShadowMmuGenerator
    {
        /// <summary>Writes the table of every generated mode, with the test that selects one from the registers.</summary>
        internal static class RegistryEmitter
        {
            public static string Emit(IReadOnlyList<WalkerPlan> plans, string rootNamespace)
            {
                var w = new SourceWriter();
                Code.WriteFileStart(w, "every *.paging spec", rootNamespace);
                w.Line("/// <summary>Every paging mode generated in this assembly, and the walker the registers select.</summary>");
                w.Line("[global::System.CodeDom.Compiler.GeneratedCode(\"ShadowMmu.Generators\", \"" + GeneratorVersion + "\")]");
                w.Open("internal static class GeneratedPagingModes");
                w.Line("/// <summary>The modes, in spec-file order.</summary>");
                w.Wrap("public static readonly " + Code.Mmu + "PagingModeInfo[] All = { ", plans.Select(s => s.WalkerName + ".Info").ToList(), ", ", " };");
                w.Line();
                w.Summary("A walker for the mode <paramref name=\"name\"/> (its spec's <c>mode</c>), or null if there is none.");
                w.OpenWrapped("public static " + Code.Mmu + "IGuestPageWalker? Create(",
                    new[] { "string name", Code.Mmu + "GuestMemory memory", "in " + Code.Mmu + "CpuState cpu" }, ", ", ")");
                w.Open("switch (name)");
                foreach (WalkerPlan spec in plans)
                {
                    w.Line("case \"" + spec.Mode + "\": return new " + spec.WalkerName + "(memory, cpu);");
                }

                w.Line("default: return null;");
                w.Close();
                w.Close();
                w.Line();
                w.Summary("A walker for the mode <paramref name=\"name\"/> whose root registers (PAE's PDPTEs) hold <paramref name=\"registers\"/>,",
                    "or null if there is no such mode or it has no root registers.");
                w.OpenWrapped("public static " + Code.Mmu + "IGuestPageWalker? Create(",
                    new[] { "string name", Code.Mmu + "GuestMemory memory", "in " + Code.Mmu + "CpuState cpu", "global::System.ReadOnlySpan<ulong> registers" }, ", ", ")");
                w.Open("switch (name)");
                foreach (WalkerPlan spec in plans.Where(s => s.RegisterLevel != null))
                {
                    w.Line("case \"" + spec.Mode + "\": return new " + spec.WalkerName + "(memory, cpu, registers);");
                }

                w.Line("default: return null;");
                w.Close();
                w.Close();
                w.Line();
                w.Summary("The mode whose <c>selected-when</c> conditions all hold for <paramref name=\"cpu\"/>, or null.");
                w.Open("public static " + Code.Mmu + "PagingModeInfo? Select(in " + Code.Mmu + "CpuState cpu)");
                foreach (WalkerPlan spec in plans.Where(s => s.SelectedWhen.Count > 0))
                {
                    w.Line("// " + spec.Mode + ": selected when " + string.Join(" ", spec.SelectedWhen.Select(c => c.ToString())));
                    w.OpenWrapped("if (", spec.SelectedWhen.Select(Code.Test).ToList(), " && ", ")");
                    w.Line("return " + spec.WalkerName + ".Info;");
                    w.Close();
                    w.Line();
                }

                w.Line("return null;");
                w.Close();
                w.Close();
                w.Close();
                return w.ToString();
            }
        }
    }
}
