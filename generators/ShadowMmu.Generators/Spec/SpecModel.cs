using System;

namespace ShadowMmu.Specs
{
    /// <summary>A contiguous run of bits, <c>Hi:Lo</c> inclusive, as the SDM writes them.</summary>
    internal readonly record struct BitRange(int Hi, int Lo)
    {
        public int Width => Hi - Lo + 1;

        public ulong Mask => Width >= 64 ? ulong.MaxValue : ((1UL << Width) - 1) << Lo;

        public override string ToString() => Hi == Lo ? Hi.ToString() : Hi + ":" + Lo;
    }

    /// <summary>A control-register or CPUID bit, possibly negated (<c>!CR4.PAE</c>).</summary>
    internal readonly record struct SpecCondition(string Name, bool Negated)
    {
        public override string ToString() => (Negated ? "!" : "") + Name;
    }

    /// <summary>Which entries of a level a reserved-bit rule is about.</summary>
    internal enum EntryCase
    {
        /// <summary>Both entries that reference a table and entries that map a page.</summary>
        Any,

        /// <summary>Entries that reference the next table (PS = 0).</summary>
        Table,

        /// <summary>Entries that map a page (the only kind at level 1; PS = 1 above).</summary>
        Page,
    }

    /// <summary><c>reserved HI:LO [in table|in page] [when|unless COND]</c>.</summary>
    internal sealed record ReservedRule(BitRange Bits, EntryCase Case, SpecCondition? When, int Line);

    /// <summary>
    /// <c>page SIZE frame HI:LO [high HI:LO at BIT] [when COND else reserved|ignored]</c>: the entry maps a page of
    /// <see cref="Size"/> bytes whose frame sits in <see cref="Frame"/>; above level 1 only entries with PS = 1 do.
    /// </summary>
    internal sealed record PageRule(string SizeName, ulong Size, BitRange Frame, BitRange? High, int HighAt,
        SpecCondition? When, bool ElseReserved, int Line);

    /// <summary>One level of the walk, named after the entry it reads (PML4E, PDE, ...).</summary>
    internal sealed record LevelSpec(
        int Level,
        string EntryName,
        BitRange Index,
        bool Register,
        BitRange? Table,
        PageRule? Page,
        ImmutableEquatableArray<ReservedRule> Reserved,
        int Line);

    /// <summary>A flag bit of every entry, optionally only meaningful under a condition.</summary>
    internal readonly record struct FlagBit(int Bit, SpecCondition? When);

    /// <summary>The entry format a spec describes: the processor's own page tables, or VMX's extended page tables.</summary>
    internal enum SpecFormat
    {
        /// <summary>x86 paging: a present bit, R/W, U/S and execute-disable; faults are #PF.</summary>
        X86,

        /// <summary>
        /// EPT: read, write and execute bits (an entry is present when any is set), memory types at leaves; faults
        /// are EPT violations or EPT misconfigurations.
        /// </summary>
        Ept,
    }

    /// <summary>
    /// What only an EPT spec states: the execute bits, whether (and when) execute-only entries are allowed, and the
    /// leaf's memory-type field with the types that are reserved.
    /// </summary>
    internal sealed record EptSpec(
        FlagBit Execute,
        FlagBit? UserExecute,
        bool ExecuteOnly,
        SpecCondition? ExecuteOnlyWhen,
        BitRange MemoryType,
        ImmutableEquatableArray<int> ReservedMemoryTypes,
        FlagBit? IgnorePat);

    /// <summary>A paging mode exactly as its spec file states it. Levels are ordered from the root down.</summary>
    internal sealed record PagingSpec(
        string FilePath,
        string Mode,
        string Title,
        ImmutableEquatableArray<SpecCondition> SelectedWhen,
        int EntryBytes,
        int LinearBits,
        bool Canonical,
        BitRange Root,
        FlagBit Present,
        FlagBit Writable,
        FlagBit User,
        FlagBit? Accessed,
        FlagBit? Dirty,
        FlagBit? PageSize,
        FlagBit? ExecuteDisable,
        BitRange? ProtectionKey,
        SpecCondition? ProtectionKeyWhen,
        ImmutableEquatableArray<LevelSpec> Levels,
        string SourceText,
        int ModeLine,
        SpecFormat Format = SpecFormat.X86,
        EptSpec? Ept = null)
    {
        public int RootLevel => Levels[0].Level;

        public LevelSpec GetLevel(int level) => Levels[Levels.Count - level];

        public bool IsEpt => Format == SpecFormat.Ept;

        /// <summary>The walker type's name: <c>long4</c> gives <c>Long4Walker</c>.</summary>
        public string WalkerName => SpecNames.ToPascal(Mode) + "Walker";

        /// <summary>The spec's file name without its folder.</summary>
        public string FileName
        {
            get
            {
                int slash = Math.Max(FilePath.LastIndexOf('/'), FilePath.LastIndexOf('\\'));
                return FilePath.Substring(slash + 1);
            }
        }
    }

    /// <summary>A problem in a spec file, with the place it points at (0-based line, columns).</summary>
    internal sealed record SpecDiagnostic(string Id, int Line, int StartColumn, int EndColumn, int Start, int Length,
        ImmutableEquatableArray<string> Arguments)
    {
        /// <summary>A diagnostic that points at line <paramref name="line"/> of <paramref name="text"/>, from its first word to its end.</summary>
        public static SpecDiagnostic AtLine(string text, int line, string id, params string[] arguments)
        {
            int start = 0;
            for (int i = 0; i < line; i++)
            {
                int next = text.IndexOf('\n', start);
                if (next < 0)
                {
                    break;
                }

                start = next + 1;
            }

            int end = text.IndexOf('\n', start);
            string content = text.Substring(start, (end < 0 ? text.Length : end) - start);
            int comment = content.IndexOf('#');
            content = (comment >= 0 ? content.Substring(0, comment) : content).TrimEnd();
            int column = content.Length - content.TrimStart().Length;
            int length = content.Length - column;
            return new SpecDiagnostic(id, line, column, column + length, start + column, length, new ImmutableEquatableArray<string>(arguments));
        }

        public string Format(string messageFormat) => string.Format(messageFormat, ToObjects());

        private object[] ToObjects()
        {
            var args = new object[Arguments.Count];
            for (int i = 0; i < args.Length; i++)
            {
                args[i] = Arguments[i];
            }

            return args;
        }
    }

    /// <summary>The parser's answer: a spec, or the reasons there is none.</summary>
    internal sealed record SpecParseResult(string Path, PagingSpec? Spec, ImmutableEquatableArray<SpecDiagnostic> Diagnostics);

    internal static class SpecNames
    {
        public static string ToPascal(string name)
        {
            var chars = new System.Text.StringBuilder();
            bool upper = true;
            foreach (char c in name)
            {
                if (!char.IsLetterOrDigit(c))
                {
                    upper = true;
                    continue;
                }

                chars.Append(upper ? char.ToUpperInvariant(c) : c);
                upper = false;
            }

            return chars.ToString();
        }
    }
}
