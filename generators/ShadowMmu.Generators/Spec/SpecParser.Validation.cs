using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ShadowMmu.Specs
{
    internal sealed partial class SpecParser
    {
        /// <summary>Checks the spec as a whole once every line is read, and builds it when nothing is wrong.</summary>
        private PagingSpec? Validate()
        {
            int errorsBefore = _diagnostics.Count;
            RequireStatement(_mode != null, "mode");
            RequireStatement(_entryBytes != null, "entry-bytes");
            RequireStatement(_linearBits != null, "linear-bits");
            RequireStatement(_root != null, "root");
            bool ept = _format == SpecFormat.Ept;
            foreach (string flag in ept ? new[] { "read", "writable", "execute" } : new[] { "present", "writable", "user" })
            {
                RequireStatement(_flags.ContainsKey(flag), "bit " + flag);
            }

            ValidateFormat(ept);
            RequireStatement(_levels.Count > 0, "level");
            if (_diagnostics.Count > errorsBefore)
            {
                return null;
            }

            // Levels: from the root down to 1, each once, none missing.
            var ordered = _levels.OrderByDescending(l => l.Level).ToList();
            int root = ordered[0].Level;
            for (int expected = root, i = 0; expected >= 1; expected--)
            {
                if (i < ordered.Count && ordered[i].Level == expected)
                {
                    i++;
                    continue;
                }

                ReportAtLine(SpecDiagnosticIds.MissingLevel, i < ordered.Count ? ordered[i].Line : _lastLine,
                    expected.ToString(CultureInfo.InvariantCulture), root.ToString(CultureInfo.InvariantCulture));
            }

            foreach (LevelBuilder level in ordered)
            {
                ValidateLevel(level);
            }

            ValidateIndexBits(ordered);
            if (_diagnostics.Count > errorsBefore)
            {
                return null;
            }

            var levels = ordered.Select(l => new LevelSpec(l.Level, l.Name, l.Index!.Value, l.Register, l.Table, l.Page,
                new ImmutableEquatableArray<ReservedRule>(l.Reserved), l.Line));
            return new PagingSpec(
                _path,
                _mode!,
                _title ?? _mode!,
                new ImmutableEquatableArray<SpecCondition>(_selectedWhen ?? new List<SpecCondition>()),
                _entryBytes!.Value,
                _linearBits!.Value,
                _canonical != null,
                _root!.Value,
                ept ? _flags["read"] : _flags["present"],
                _flags["writable"],
                ept ? _flags["read"] : _flags["user"],
                Flag("accessed"),
                Flag("dirty"),
                Flag("page-size"),
                Flag("execute-disable"),
                _protectionKey,
                _protectionKeyWhen,
                new ImmutableEquatableArray<LevelSpec>(levels),
                _text,
                _modeLine,
                ept ? SpecFormat.Ept : SpecFormat.X86,
                ept ? new EptSpec(_flags["execute"], Flag("user-execute"), _executeOnlyKey != null, _executeOnlyWhen,
                    _memoryType!.Value, new ImmutableEquatableArray<int>(_reservedMemoryTypes!), Flag("ignore-pat")) : null);
        }

        // Each format has its own flags and statements; the other format's are mistakes, not extras to ignore.
        private void ValidateFormat(bool ept)
        {
            string format = ept ? "ept" : "x86";
            string[] foreign = ept ? new[] { "present", "user", "execute-disable" } : new[] { "read", "execute", "user-execute", "ignore-pat" };
            foreach (string flag in foreign)
            {
                if (_flagNames.TryGetValue(flag, out Word name))
                {
                    Report(SpecDiagnosticIds.WrongFormat, name, "bit " + flag, ept ? "x86" : "ept", format);
                }
            }

            if (_rootRegister is Word register && (register.Text == "EPTP") != ept)
            {
                Report(SpecDiagnosticIds.WrongFormat, register, "root " + register.Text, ept ? "x86" : "ept", format);
            }

            if (ept)
            {
                RequireStatement(_memoryType != null, "memory-type");
                ReportForeign(_protectionKeyKey, "protection-key", "x86");
                ReportForeign(_canonical, "linear-bits ... canonical", "x86");
                foreach (LevelBuilder level in _levels)
                {
                    ReportForeign(level.RegisterKey, "register", "x86");
                }
            }
            else
            {
                ReportForeign(_memoryTypeKey, "memory-type", "ept");
                ReportForeign(_executeOnlyKey, "execute-only", "ept");
            }

            void ReportForeign(Word? statement, string name, string belongsTo)
            {
                if (statement is Word word)
                {
                    Report(SpecDiagnosticIds.WrongFormat, word, name, belongsTo, format);
                }
            }
        }

        private void ValidateLevel(LevelBuilder level)
        {
            string inLevel = " in level " + level.Level;
            if (level.Index == null)
            {
                ReportAtLine(SpecDiagnosticIds.MissingStatement, level.Line, "index", inLevel);
                return;
            }

            if (level.Level == 1)
            {
                if (level.Page == null)
                {
                    ReportAtLine(SpecDiagnosticIds.MissingStatement, level.Line, "page", " in level 1, whose entries map pages");
                }
                else if (level.Page.When != null)
                {
                    ReportAtLine(SpecDiagnosticIds.Misplaced, level.Page.Line, "page ... when", "in level 1", "level 1 always maps a page");
                }

                if (level.TableKey is Word table)
                {
                    Report(SpecDiagnosticIds.Misplaced, table, "table", "in level 1", "level 1 entries map pages");
                }
            }
            else if (level.Table == null)
            {
                ReportAtLine(SpecDiagnosticIds.MissingStatement, level.Line, "table", inLevel);
            }

            if (level.Page != null && level.Level > 1 && !_flags.ContainsKey("page-size"))
            {
                ReportAtLine(SpecDiagnosticIds.MissingStatement, level.Page.Line, "bit page-size", ": level " + level.Level + " may map a page");
            }

            if (level.Register && level.Page != null)
            {
                ReportAtLine(SpecDiagnosticIds.Misplaced, level.Page.Line, "page", "in a register level", "a register references a table");
            }

            // A page at this level covers every linear-address bit below this level's index: its size must be
            // 2^(index low bit), and the frame must start at that bit.
            PageRule? page = level.Page;
            if (page != null)
            {
                int offsetBits = level.Index.Value.Lo;
                string levelNumber = level.Level.ToString(CultureInfo.InvariantCulture);
                if (page.Size != 1UL << offsetBits)
                {
                    ReportAtLine(SpecDiagnosticIds.PageDoesNotFit, page.Line, page.SizeName, levelNumber,
                        "the address bits below its index (" + (offsetBits - 1) + ":0) make a page of " + FormatSize(1UL << offsetBits));
                }
                else if (page.Frame.Lo != offsetBits)
                {
                    ReportAtLine(SpecDiagnosticIds.PageDoesNotFit, page.Line, page.SizeName, levelNumber,
                        "its frame starts at bit " + offsetBits + ", not " + page.Frame.Lo);
                }
            }
        }

        // Index fields must tile the address from bit 12 up to linear-bits - 1 without overlap or gap.
        private void ValidateIndexBits(List<LevelBuilder> ordered)
        {
            int expectedLo = 12;
            LevelBuilder? top = null;
            for (int i = ordered.Count - 1; i >= 0; i--)
            {
                LevelBuilder level = ordered[i];
                if (level.Index == null)
                {
                    continue;
                }

                BitRange index = level.Index.Value;
                string number = level.Level.ToString(CultureInfo.InvariantCulture);
                if (index.Lo < expectedLo)
                {
                    ReportAtLine(SpecDiagnosticIds.IndexBits, level.IndexLine, index.ToString(), number,
                        "overlap the bits below them (up to bit " + (expectedLo - 1) + ")");
                }
                else if (index.Lo > expectedLo)
                {
                    ReportAtLine(SpecDiagnosticIds.IndexBits, level.IndexLine, index.ToString(), number,
                        "leave bits " + new BitRange(index.Lo - 1, expectedLo) + " unused");
                }

                expectedLo = index.Hi + 1;
                top = level;
            }

            if (top != null && _linearBits != null && expectedLo != _linearBits.Value)
            {
                ReportAtLine(SpecDiagnosticIds.IndexBits, top.IndexLine, top.Index!.Value.ToString(), top.Level.ToString(CultureInfo.InvariantCulture),
                    "end at bit " + (expectedLo - 1) + ", but linear-bits is " + _linearBits.Value);
            }
        }

        private static string FormatSize(ulong size)
        {
            string[] units = { "", "K", "M", "G", "T" };
            int unit = 0;
            while (size >= 1024 && size % 1024 == 0 && unit < units.Length - 1)
            {
                size /= 1024;
                unit++;
            }

            return size.ToString(CultureInfo.InvariantCulture) + units[unit];
        }

        /// <summary>MMUG002 at the spec's last line unless the statement <paramref name="statement"/> was given.</summary>
        private void RequireStatement(bool given, string statement)
        {
            if (!given)
            {
                ReportAtLine(SpecDiagnosticIds.MissingStatement, _lastLine, statement, "");
            }
        }
    }
}
