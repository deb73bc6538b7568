using System.Collections.Generic;
using System.Linq;
using static ShadowMmu.Generators.Code;

namespace ShadowMmu.Generators
{
    public sealed partial class ShadowMmuGenerator
    {
        /// <summary>
        /// The one template: writes a walker type from its <see cref="WalkerPlan"/>, the way KVM's <c>paging_tmpl.h</c> is
        /// compiled once per PTTYPE. It decides nothing: the plan says what each level does and which methods exist, and
        /// the few places where x86 and EPT entries differ are the <see cref="EntryFormat"/>'s hooks. This file writes
        /// the type, its static data, fields and constructor; the walk, the two-dimensional walk and shadow paging have
        /// files of their own.
        /// </summary>
        internal sealed partial class Emitter
        {
            private readonly WalkerPlan _plan;
            private readonly string _namespace;
            private readonly bool _suppressRaceOrders;
            private readonly SourceWriter _w = new SourceWriter();
            private readonly EntryFormat _format;

            public Emitter(WalkerPlan plan, EmitOptions options)
            {
                _plan = plan;
                _namespace = options.Namespace;
                _suppressRaceOrders = !options.CheckRaceOrders;
                _format = EntryFormat.For(plan, _w);
            }

            private int EntryBytes => _plan.EntryBytes;

            private int EntryShift => EntryBytes == 8 ? 3 : 2;

            /// <summary>The entries have accessed and dirty flags only under a condition (EPTP.AD), kept in <c>_accessedDirty</c>.</summary>
            private bool AccessedDirtyConditional => _plan.AccessedDirty?.When != null;

            public string Emit()
            {
                WriteFileStart(_w, _plan.FileName, _namespace);
                EmitTypeHeader();
                _w.Open("public sealed partial class " + _plan.WalkerName + " : " + Mmu + _format.WalkerInterface
                    + (_plan.Shadow != null ? ", " + Mmu + "IShadowFetcher" : ""));
                EmitSpecSource();
                EmitReservedBitsTable();
                _format.EmitStaticTables();
                EmitFields();
                EmitConstructor();
                EmitMembers();
                EmitWalk();
                if (_plan.NestedWalk)
                {
                    EmitNestedWalk();
                }

                if (_plan.Shadow is ShadowPlan shadow)
                {
                    EmitShadow(shadow);
                }

                if (_plan.Sync is SyncPlan sync)
                {
                    EmitSync(sync);
                }

                EmitEntryReads();
                _w.Close();
                _w.Close();
                return _w.ToString();
            }

            private void EmitTypeHeader()
            {
                _w.Summary(_format.Summary);
                _w.Line("/// <remarks>");
                _w.Line("/// <para>The walk, as the spec states it:</para>");
                _w.Line("/// <list type=\"bullet\">");
                foreach (LevelPlan level in _plan.Levels)
                {
                    string what = level.Read == EntryRead.Register ? "a register loaded with CR3" : "entries of " + EntryBytes + " bytes";
                    string maps = level.Page is PagePlan page ? "; maps " + page.SizeName + " pages" + (page.When != null ? " when " + page.When : "") : "";
                    _w.DocumentationLines("<item><description>Level " + level.Level + ", " + level.EntryName + ": index " + _format.Input + "["
                        + level.Index + "], " + what + maps + ".</description></item>");
                }

                _w.Line("/// </list>");
                _w.Line("/// </remarks>");
                _w.Line("[global::System.CodeDom.Compiler.GeneratedCode(\"ShadowMmu.Generators\", \"" + GeneratorVersion + "\")]");
            }

            private void EmitSpecSource()
            {
                _w.Summary("The text of <c>" + _plan.FileName + "</c>, for the reference walker and for people.");
                _w.Line("public const string SpecSource = @\"" + _plan.SourceText.Replace("\"", "\"\"").Replace("\r", "") + "\";");
                _w.Line();
                _w.Summary("The mode's facts.");
                var facts = new List<string>
                {
                    Quote(_plan.Mode), Quote(_plan.Title), Num(_plan.RootLevel), Num(EntryBytes), Num(_plan.Address.Bits), Quote(_plan.FileName), "SpecSource",
                };
                if (_plan.Ept != null)
                {
                    facts.Add(Mmu + "PagingFormat.Ept");
                }

                _w.Wrap("public static readonly " + Mmu + "PagingModeInfo Info = new " + Mmu + "PagingModeInfo(", facts, ", ", ");");
                _w.Line();
            }

            private void EmitReservedBitsTable()
            {
                ReservedBitsPlan reserved = _plan.Reserved;
                int columns = reserved.Columns.Count;
                _w.Comment("Reserved bits that do not depend on MAXPHYADDR (" + _format.ReservedBitsName + ", one row per combination of "
                    + (reserved.Conditions.Count == 0 ? "nothing: there is one row" : string.Join(", ", reserved.Conditions)) + ").");
                _w.Comment("Columns: " + string.Join(", ", reserved.Columns.Select(c => c.Description)) + ".");
                _w.Open("private static global::System.ReadOnlySpan<ulong> ReservedBits => new ulong[]");
                int rows = 1 << reserved.Conditions.Count;
                for (int row = 0; row < rows; row++)
                {
                    var cells = new List<string>();
                    for (int c = 0; c < columns; c++)
                    {
                        cells.Add(Hex(reserved.Masks[(row * columns) + c]));
                    }

                    string comment = reserved.Conditions.Count == 0 ? "" : " // " + string.Join(", ",
                        reserved.Conditions.Select((name, i) => ((row >> i) & 1) != 0 ? name : "!" + name));
                    _w.Wrap("", cells, ", ", "," + comment);
                }

                _w.Close(";");
                _w.Line();
            }

            private void EmitFields()
            {
                _w.Line("private readonly " + Mmu + "GuestMemory _memory;");
                _w.Line("private readonly ulong _entryLimit;");
                if (_plan.Shadow is { ReadsGroupsDirectly: true })
                {
                    _w.Line("private readonly ulong _groupLimit;");
                }

                _w.Line("private readonly ulong _root;");
                foreach (ReservedColumn column in _plan.Reserved.Columns)
                {
                    _w.Line("private readonly ulong " + column.Field + ";");
                }

                foreach (PagePlan page in GatedPages)
                {
                    _w.Line("private readonly bool " + page.Gate + ";");
                }

                _format.EmitFields();
                if (_plan.RegisterLevel is LevelPlan register)
                {
                    _w.Line("private readonly ulong[] " + register.RegistersField + " = new ulong[" + (1 << register.Index.Width) + "];");
                    _w.Line("private readonly bool _registerLoadFaulted;");
                }

                if (AccessedDirtyConditional)
                {
                    _w.Line("private readonly bool _accessedDirty;");
                }

                _w.Line();
            }

            /// <summary>The pages a level maps only under a condition, its page-size bit ignored otherwise.</summary>
            private IEnumerable<PagePlan> GatedPages => _plan.Levels.Select(l => l.Page).OfType<PagePlan>().Where(p => p.Gate != null);

            private void EmitConstructor()
            {
                foreach (string line in _format.ConstructorDocumentation)
                {
                    _w.DocumentationLines(line);
                }

                _w.Open("public " + _plan.WalkerName + "(" + Mmu + "GuestMemory memory, in " + Mmu + "CpuState cpu)");
                _w.Line("_memory = memory;");
                _w.Comment("An entry at address a lies wholly inside memory when a < _entryLimit (the size never changes).");
                _w.Line("_entryLimit = memory.Size >= " + EntryBytes + " ? memory.Size - " + (EntryBytes - 1) + " : 0;");
                if (_plan.Shadow is { ReadsGroupsDirectly: true })
                {
                    int group = 8 * EntryBytes;
                    _w.Line("_groupLimit = memory.Size >= " + group + " ? memory.Size - " + (group - 1) + " : 0;");
                }

                _w.Line("_root = cpu." + _format.RootRegisterField + " & " + Hex(_plan.RootMask) + ";");
                _w.Line("int maxPhysAddr = cpu.MaxPhysAddr;");
                _w.Line();
                EmitReservedFieldsInit();
                foreach (LevelPlan level in _plan.Levels.Where(l => l.Page?.Gate != null))
                {
                    _w.Line();
                    _w.Comment("Without " + level.Page!.When + " the page-size bit of a " + level.EntryName + " is ignored: the entry references a table.");
                    _w.Line(level.Page.Gate + " = " + Test(level.Page.When!.Value) + ";");
                }

                _format.EmitConstructorState();
                if (AccessedDirtyConditional)
                {
                    _w.Line("_accessedDirty = " + Test(_plan.AccessedDirty!.When!.Value) + ";");
                }

                if (_plan.RegisterLevel is LevelPlan register)
                {
                    EmitRegisterLoad(register);
                }

                _w.Close();
                _w.Line();
                if (_plan.RegisterLevel is LevelPlan given)
                {
                    EmitGivenRegistersConstructor(given);
                }
            }

            // Where the registers come from somewhere other than the table at CR3 (a VM entry loads PAE's PDPTEs from the
            // VMCS; a dump's reader knows what the registers held when the table has changed since), with the same check.
            private void EmitGivenRegistersConstructor(LevelPlan register)
            {
                int count = 1 << register.Index.Width;
                string name = register.EntryName;
                _w.Summary("Builds the walker for <paramref name=\"cpu\"/> with the " + count + " " + name + " registers holding <paramref name=\"registers\"/>",
                    "instead of what memory holds at CR3 (as a VM entry loads them from the VMCS), checked as a MOV to CR3 checks them.");
                _w.Line("/// <exception cref=\"global::System.ArgumentException\">Not " + count + " registers.</exception>");
                _w.Wrap("public " + _plan.WalkerName + "(", new[] { Mmu + "GuestMemory memory", "in " + Mmu + "CpuState cpu", "global::System.ReadOnlySpan<ulong> registers" }, ", ", ")");
                _w.Open("    : this(memory, cpu)");
                _w.Open("if (registers.Length != " + count + ")");
                _w.Wrap("throw new global::System.ArgumentException(", new[] { "\"" + count + " " + name + " registers are needed, not \" + registers.Length + \".\"", "nameof(registers)" }, ", ", ");");
                _w.Close();
                _w.Line();
                _w.Line("_registerLoadFaulted = false;");
                _w.Open("for (int i = 0; i < " + count + "; i++)");
                _w.Line(register.RegistersField + "[i] = registers[i];");
                _w.Line("_registerLoadFaulted |= " + _format.PresentTest("registers[i]") + " && (registers[i] & " + register.TableReservedField + ") != 0;");
                _w.Close();
                _w.Close();
                _w.Line();
            }

            private void EmitReservedFieldsInit()
            {
                ReservedBitsPlan reserved = _plan.Reserved;
                _w.Comment("Reserved bits: the fixed part for this CPU's conditions, and the address bits at or above MAXPHYADDR.");
                var row = reserved.Conditions.Count == 0
                    ? new List<string> { "0" }
                    : reserved.Conditions.Select((name, i) => "(" + Test(name) + " ? " + (1 << i) + " : 0)").ToList();
                int columns = reserved.Columns.Count;
                _w.Wrap("global::System.ReadOnlySpan<ulong> reserved = ReservedBits.Slice((", row, " | ", ") * " + columns + ", " + columns + ");");
                for (int i = 0; i < columns; i++)
                {
                    ReservedColumn column = reserved.Columns[i];
                    var parts = new List<string> { "reserved[" + i + "]", AboveMaxPhysAddr(column.AddressMask, 0) };
                    if (column.HighMask != 0)
                    {
                        parts.Add(AboveMaxPhysAddr(column.HighMask, column.HighShift));
                    }

                    _w.Wrap(column.Field + " = ", parts, " | ", ";");
                }
            }

            private static string AboveMaxPhysAddr(ulong mask, int shift) =>
                Mmu + "PhysicalAddressBits.AtOrAbove(maxPhysAddr, " + Hex(mask) + ", " + shift + ")";

            private void EmitRegisterLoad(LevelPlan register)
            {
                int count = 1 << register.Index.Width;
                _w.Line();
                _w.Comment("The " + count + " " + register.EntryName + "s are loaded now, as a MOV to CR3 loads them. One that is present with a reserved",
                    "bit set makes that load fail with #GP(0); every walk then reports the #GP. An entry outside memory loads as 0.");
                _w.Open("for (int i = 0; i < " + count + "; i++)");
                _w.Line("TryReadEntry(_root + (ulong)(i * " + EntryBytes + "), out ulong entry);");
                _w.Line(register.RegistersField + "[i] = entry;");
                _w.Line("_registerLoadFaulted |= " + _format.PresentTest("entry") + " && (entry & " + register.TableReservedField + ") != 0;");
                _w.Close();
            }

            private void EmitMembers()
            {
                _w.Line("/// <inheritdoc/>");
                _w.Line("public " + Mmu + "PagingModeInfo Mode => Info;");
                _w.Line();
                _w.Line("/// <inheritdoc/>");
                _w.Line("public " + Mmu + "GuestMemory Memory => _memory;");
                _w.Line();
                if (_plan.RegisterLevel is LevelPlan register)
                {
                    _w.Summary("True when loading the " + register.EntryName + " registers raised #GP(0).");
                    _w.Line("public bool RegisterLoadFaulted => _registerLoadFaulted;");
                    _w.Line();
                    _w.Summary("The " + register.EntryName + " registers as loaded.");
                    _w.Line("public global::System.ReadOnlySpan<ulong> " + Specs.SpecNames.ToPascal(register.EntryName.ToLowerInvariant()) + "Registers => "
                        + register.RegistersField + ";");
                    _w.Line();
                }
            }

            /// <summary>The two ways an entry is read: one aligned atomic load, and the checked read.</summary>
            private void EmitEntryReads()
            {
                if (_plan.ReadsAlignedEntries)
                {
                    string type = EntryBytes == 8 ? "ulong" : "uint";
                    _w.Summary("Atomically reads the naturally aligned entry at <paramref name=\"gpa\"/>, which the caller found inside memory.");
                    Inline(_w);
                    _w.Open("private static ulong ReadEntry(ref byte memoryBase, ulong gpa)");
                    _w.Line("return global::System.Threading.Volatile.Read(");
                    _w.Line("    ref " + Unsafe + ".As<byte, " + type + ">(");
                    _w.Line("        ref " + Unsafe + ".AddByteOffset(ref memoryBase, (nuint)gpa)));");
                    _w.Close();
                    _w.Line();
                }

                Inline(_w);
                _w.Open("private bool TryReadEntry(ulong gpa, out ulong entry)");
                if (EntryBytes == 8)
                {
                    _w.Line("return _memory.TryReadUInt64(gpa, out entry);");
                }
                else
                {
                    _w.Line("bool inMemory = _memory.TryReadUInt32(gpa, out uint narrow);");
                    _w.Line("entry = narrow;");
                    _w.Line("return inMemory;");
                }

                _w.Close();
            }
        }
    }
}
