using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ShadowMmu.Specs
{
    /// <summary>
    /// Reads a paging-mode spec: one statement a line, <c>#</c> starts a comment, statements after a
    /// <c>level</c> line belong to that level. The parser never throws on bad input: every problem becomes a
    /// <see cref="SpecDiagnostic"/> at the line and columns of the offending word. See docs/spec-language.md.
    /// </summary>
    internal sealed class SpecParser
    {
        private readonly string _path;
        private readonly string _text;
        private readonly List<SpecDiagnostic> _diagnostics = new List<SpecDiagnostic>();

        private string? _mode;
        private string? _title;
        private List<SpecCondition>? _selectedWhen;
        private int? _entryBytes;
        private int? _linearBits;
        private bool _canonical;
        private BitRange? _root;
        private Word? _rootRegister;
        private SpecFormat? _format;
        private BitRange? _memoryType;
        private List<int>? _reservedMemoryTypes;
        private SpecCondition? _executeOnlyWhen;
        private bool _executeOnly;
        private readonly Dictionary<string, FlagBit> _flags = new Dictionary<string, FlagBit>();
        private BitRange? _protectionKey;
        private SpecCondition? _protectionKeyWhen;
        private readonly List<LevelBuilder> _levels = new List<LevelBuilder>();
        private int _lastLine;
        private int _modeLine;

        private SpecParser(string path, string text)
        {
            _path = path;
            _text = text;
        }

        public static SpecParseResult Parse(string path, string text)
        {
            var parser = new SpecParser(path, text);
            PagingSpec? spec = null;
            try
            {
                spec = parser.ParseAll();
            }
            catch (SpecSyntaxException)
            {
                // Already reported: a statement that cannot be read ends the parse of this file.
            }

            var diagnostics = new ImmutableEquatableArray<SpecDiagnostic>(parser._diagnostics);
            return new SpecParseResult(path, diagnostics.Count == 0 ? spec : null, diagnostics);
        }

        private PagingSpec? ParseAll()
        {
            int lineStart = 0;
            int lineNumber = 0;
            while (lineStart <= _text.Length)
            {
                int lineEnd = _text.IndexOf('\n', lineStart);
                if (lineEnd < 0)
                {
                    lineEnd = _text.Length;
                }

                ParseLine(new Line(this, lineNumber, lineStart, _text.Substring(lineStart, lineEnd - lineStart)));
                _lastLine = lineNumber;
                lineStart = lineEnd + 1;
                lineNumber++;
            }

            return Validate();
        }

        private void ParseLine(Line line)
        {
            if (line.Words.Count == 0)
            {
                return;
            }

            Word key = line.Words[0];
            LevelBuilder? level = _levels.Count > 0 ? _levels[_levels.Count - 1] : null;
            switch (key.Text)
            {
                case "mode":
                    Word modeWord = line.Single(1);
                    if (!IsIdentifier(modeWord.Text))
                    {
                        Fail(modeWord, "a mode name is a letter followed by letters, digits or '-', not '" + modeWord.Text + "'");
                    }

                    _modeLine = line.Number;
                    SetOnce(ref _mode, modeWord.Text, key);
                    break;
                case "title":
                    SetOnce(ref _title, line.Rest(1), key);
                    break;
                case "selected-when":
                    if (_selectedWhen != null)
                    {
                        Report(SpecDiagnosticIds.Duplicate, key, key.Text);
                    }

                    _selectedWhen = new List<SpecCondition>();
                    for (int i = 1; i < line.Words.Count; i++)
                    {
                        _selectedWhen.Add(ParseCondition(line.Words[i]));
                    }

                    break;
                case "entry-bytes":
                    Word size = line.Single(1);
                    int bytes = ParseInt(size);
                    if (bytes != 4 && bytes != 8)
                    {
                        Fail(size, "entry-bytes must be 4 or 8, not " + size.Text);
                    }

                    SetOnce(ref _entryBytes, bytes, key);
                    break;
                case "linear-bits":
                    Word width = line.Word(1);
                    int bits = ParseInt(width);
                    if (bits < 13 || bits > 64)
                    {
                        Fail(width, "linear-bits must be between 13 and 64");
                    }

                    SetOnce(ref _linearBits, bits, key);
                    if (line.Words.Count > 2)
                    {
                        line.Expect(2, "canonical");
                        line.End(3);
                        _canonical = true;
                    }

                    break;
                case "format":
                    Word formatWord = line.Single(1);
                    if (formatWord.Text != "x86" && formatWord.Text != "ept")
                    {
                        Fail(formatWord, "the format is 'x86' (the processor's page tables) or 'ept' (extended page tables), not '" + formatWord.Text + "'");
                    }

                    SetOnce(ref _format, formatWord.Text == "ept" ? SpecFormat.Ept : SpecFormat.X86, key);
                    break;
                case "root":
                    Word register = line.Word(1);
                    if (register.Text != "CR3" && register.Text != "EPTP")
                    {
                        Fail(register, "the root table is named by CR3 or, for EPT, by EPTP, not '" + register.Text + "'");
                    }

                    _rootRegister = register;
                    SetOnce(ref _root, ParseRange(line.Word(2)), key);
                    line.End(3);
                    break;
                case "memory-type":
                    ParseMemoryType(line);
                    break;
                case "execute-only":
                    if (_executeOnly)
                    {
                        Report(SpecDiagnosticIds.Duplicate, key, key.Text);
                    }

                    _executeOnly = true;
                    _executeOnlyWhen = ParseWhen(line, 1, allowUnless: false);
                    break;
                case "bit":
                    ParseFlag(line);
                    break;
                case "protection-key":
                    BitRange keyBits = ParseRange(line.Word(1));
                    if (_protectionKey != null)
                    {
                        Report(SpecDiagnosticIds.Duplicate, key, key.Text);
                    }

                    if (keyBits.Width > 4)
                    {
                        // PKRU holds an AD and a WD bit for each of 16 keys.
                        Report(SpecDiagnosticIds.Syntax, line.Word(1), "A protection key is at most 4 bits wide: PKRU has 16 keys");
                    }

                    _protectionKey = keyBits;
                    _protectionKeyWhen = ParseWhen(line, 2, allowUnless: false);
                    break;
                case "level":
                    Word number = line.Word(1);
                    int levelNumber = ParseInt(number);
                    if (levelNumber < 1 || levelNumber > 5)
                    {
                        Fail(number, "levels are numbered 1 (the table that maps 4 KiB pages) to 5");
                    }

                    if (_levels.Any(l => l.Level == levelNumber))
                    {
                        Report(SpecDiagnosticIds.Duplicate, number, "level " + levelNumber);
                    }

                    Word entryName = line.Single(2);
                    if (!IsIdentifier(entryName.Text))
                    {
                        Fail(entryName, "an entry name is a letter followed by letters or digits, not '" + entryName.Text + "'");
                    }

                    _levels.Add(new LevelBuilder(levelNumber, entryName.Text, line.Number));
                    break;
                case "index":
                case "table":
                case "page":
                case "reserved":
                case "register":
                    if (level == null)
                    {
                        Fail(key, "'" + key.Text + "' belongs to a level: put it after a 'level N NAME' line");
                    }

                    ParseLevelStatement(level!, line);
                    break;
                default:
                    Fail(key, "Unknown statement '" + key.Text + "'; expected one of: mode, title, format, selected-when, "
                        + "entry-bytes, linear-bits, root, bit, protection-key, memory-type, execute-only, level, index, table, page, reserved, register");
                    break;
            }
        }

        private void ParseFlag(Line line)
        {
            Word name = line.Word(1);
            string[] known = { "present", "writable", "user", "accessed", "dirty", "page-size", "execute-disable", "read", "execute", "user-execute", "ignore-pat" };
            if (Array.IndexOf(known, name.Text) < 0)
            {
                Fail(name, "Unknown flag '" + name.Text + "'; expected one of: " + string.Join(", ", known));
            }

            Word bitWord = line.Word(2);
            int bit = ParseInt(bitWord);
            CheckBit(bitWord, bit);
            if (_flags.ContainsKey(name.Text))
            {
                Report(SpecDiagnosticIds.Duplicate, name, "bit " + name.Text);
            }

            _flags[name.Text] = new FlagBit(bit, ParseWhen(line, 3, allowUnless: false));
        }

        private void ParseLevelStatement(LevelBuilder level, Line line)
        {
            Word key = line.Words[0];
            switch (key.Text)
            {
                case "index":
                    level.IndexLine = line.Number;
                    SetOnce(ref level.Index, ParseRange(line.Word(1)), key);
                    line.End(2);
                    break;
                case "table":
                    BitRange table = ParseRange(line.Word(1));
                    CheckRange(line.Word(1), table);
                    SetOnce(ref level.Table, table, key);
                    line.End(2);
                    break;
                case "register":
                    level.Register = true;
                    line.End(1);
                    break;
                case "page":
                    if (level.Page != null)
                    {
                        Report(SpecDiagnosticIds.Duplicate, key, "page");
                    }

                    level.Page = ParsePage(line);
                    break;
                case "reserved":
                    Word bitsWord = line.Word(1);
                    BitRange bits = ParseRange(bitsWord);
                    CheckRange(bitsWord, bits);
                    int next = 2;
                    EntryCase entryCase = EntryCase.Any;
                    if (line.Words.Count > next && line.Words[next].Text == "in")
                    {
                        Word which = line.Word(next + 1);
                        if (which.Text == "table")
                        {
                            entryCase = EntryCase.Table;
                        }
                        else if (which.Text == "page")
                        {
                            entryCase = EntryCase.Page;
                        }
                        else
                        {
                            Fail(which, "expected 'in table' or 'in page'");
                        }

                        next += 2;
                    }

                    level.Reserved.Add(new ReservedRule(bits, entryCase, ParseWhen(line, next, allowUnless: true), line.Number));
                    break;
            }
        }

        // memory-type HI:LO [reserved N...]: the leaf's memory-type field and the type values that are reserved.
        private void ParseMemoryType(Line line)
        {
            Word fieldWord = line.Word(1);
            BitRange field = ParseRange(fieldWord);
            CheckRange(fieldWord, field);
            if (field.Width != 3)
            {
                Fail(fieldWord, "an EPT memory-type field is 3 bits wide, not " + field.Width);
            }

            SetOnce(ref _memoryType, field, line.Words[0]);
            _reservedMemoryTypes = new List<int>();
            if (line.Words.Count > 2)
            {
                line.Expect(2, "reserved");
                for (int i = 3; i < line.Words.Count; i++)
                {
                    Word typeWord = line.Words[i];
                    int type = ParseInt(typeWord);
                    if (type >= 1 << field.Width)
                    {
                        Fail(typeWord, "memory type " + type + " does not fit the " + field.Width + "-bit field " + field);
                    }

                    _reservedMemoryTypes.Add(type);
                }
            }
        }

        // page SIZE frame HI:LO [high HI:LO at BIT] [when COND else reserved|ignored]
        private PageRule ParsePage(Line line)
        {
            Word sizeWord = line.Word(1);
            if (!SpecVocabulary.TryParseSize(sizeWord.Text, out ulong size))
            {
                Fail(sizeWord, "'" + sizeWord.Text + "' is not a page size such as 4K, 2M or 1G");
            }

            line.Expect(2, "frame");
            Word frameWord = line.Word(3);
            BitRange frame = ParseRange(frameWord);
            CheckRange(frameWord, frame);
            int next = 4;
            BitRange? high = null;
            int highAt = 0;
            if (line.Words.Count > next && line.Words[next].Text == "high")
            {
                Word highWord = line.Word(next + 1);
                high = ParseRange(highWord);
                CheckRange(highWord, high.Value);
                line.Expect(next + 2, "at");
                Word atWord = line.Word(next + 3);
                highAt = ParseInt(atWord);
                if (highAt < 32 || highAt + high.Value.Width > 52)
                {
                    Fail(atWord, "the high frame bits must land between physical-address bits 32 and 51");
                }

                next += 4;
            }

            SpecCondition? when = null;
            bool elseReserved = false;
            if (line.Words.Count > next)
            {
                line.Expect(next, "when");
                when = ParseCondition(line.Word(next + 1));
                line.Expect(next + 2, "else");
                Word otherwise = line.Word(next + 3);
                if (otherwise.Text == "reserved")
                {
                    elseReserved = true;
                }
                else if (otherwise.Text != "ignored")
                {
                    Fail(otherwise, "expected 'else reserved' (PS = 1 is a reserved-bit fault) or 'else ignored' (PS is ignored)");
                }

                line.End(next + 4);
            }

            return new PageRule(sizeWord.Text, size, frame, high, highAt, when, elseReserved, line.Number);
        }

        private SpecCondition? ParseWhen(Line line, int index, bool allowUnless)
        {
            if (line.Words.Count <= index)
            {
                return null;
            }

            Word keyword = line.Words[index];
            bool negate;
            if (keyword.Text == "when")
            {
                negate = false;
            }
            else if (keyword.Text == "unless" && allowUnless)
            {
                negate = true;
            }
            else
            {
                Fail(keyword, "expected " + (allowUnless ? "'when' or 'unless'" : "'when'") + ", found '" + keyword.Text + "'");
                return null;
            }

            SpecCondition condition = ParseCondition(line.Word(index + 1));
            line.End(index + 2);
            return negate ? new SpecCondition(condition.Name, !condition.Negated) : condition;
        }

        private SpecCondition ParseCondition(Word word)
        {
            bool negated = word.Text.StartsWith("!", StringComparison.Ordinal);
            string name = negated ? word.Text.Substring(1) : word.Text;
            if (!SpecVocabulary.Conditions.ContainsKey(name))
            {
                Report(SpecDiagnosticIds.UnknownCondition, word, name, string.Join(", ", SpecVocabulary.Conditions.Keys));
            }

            return new SpecCondition(name, negated);
        }

        private BitRange ParseRange(Word word)
        {
            int colon = word.Text.IndexOf(':');
            if (colon < 0)
            {
                int bit = ParseInt(word);
                return new BitRange(bit, bit);
            }

            bool hiOk = int.TryParse(word.Text.Substring(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out int hi);
            bool loOk = int.TryParse(word.Text.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int lo);
            if (!hiOk || !loOk)
            {
                Fail(word, "'" + word.Text + "' is not a bit range such as 51:12");
            }

            if (hi < lo)
            {
                Fail(word, "bit range " + word.Text + " must be written high:low");
            }

            return new BitRange(hi, lo);
        }

        private int ParseInt(Word word)
        {
            if (!int.TryParse(word.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            {
                Fail(word, "'" + word.Text + "' is not a number");
            }

            return value;
        }

        private void CheckBit(Word word, int bit)
        {
            int limit = (_entryBytes ?? 8) * 8;
            if (bit >= limit)
            {
                Report(SpecDiagnosticIds.BitOutOfRange, word, bit.ToString(CultureInfo.InvariantCulture),
                    (limit / 8).ToString(CultureInfo.InvariantCulture), (limit - 1).ToString(CultureInfo.InvariantCulture));
            }
        }

        private void CheckRange(Word word, BitRange range) => CheckBit(word, range.Hi);

        private void SetOnce<T>(ref T? slot, T value, Word key)
            where T : class
        {
            if (slot != null)
            {
                Report(SpecDiagnosticIds.Duplicate, key, key.Text);
            }

            slot = value;
        }

        private void SetOnce<T>(ref T? slot, T value, Word key)
            where T : struct
        {
            if (slot != null)
            {
                Report(SpecDiagnosticIds.Duplicate, key, key.Text);
            }

            slot = value;
        }

        private PagingSpec? Validate()
        {
            int errorsBefore = _diagnostics.Count;
            RequireKey(_mode, "mode");
            RequireKey(_entryBytes, "entry-bytes");
            RequireKey(_linearBits, "linear-bits");
            RequireKey(_root, "root");
            bool ept = _format == SpecFormat.Ept;
            foreach (string flag in ept ? new[] { "read", "writable", "execute" } : new[] { "present", "writable", "user" })
            {
                if (!_flags.ContainsKey(flag))
                {
                    ReportAtLine(SpecDiagnosticIds.MissingKey, _lastLine, "bit " + flag);
                }
            }

            ValidateFormat(ept);

            if (_levels.Count == 0)
            {
                ReportAtLine(SpecDiagnosticIds.MissingKey, _lastLine, "level");
            }

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
                    "Level " + expected + " is missing: levels must run from " + root + " down to 1");
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
                _canonical,
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
                ept ? new EptSpec(_flags["execute"], Flag("user-execute"), _executeOnly, _executeOnlyWhen,
                    _memoryType!.Value, new ImmutableEquatableArray<int>(_reservedMemoryTypes!), Flag("ignore-pat")) : null);
        }

        // Each format has its own flags and statements; the other format's are mistakes, not extras to ignore.
        private void ValidateFormat(bool ept)
        {
            string[] foreign = ept ? new[] { "present", "user", "execute-disable" } : new[] { "read", "execute", "user-execute", "ignore-pat" };
            foreach (string flag in foreign)
            {
                if (_flags.ContainsKey(flag))
                {
                    ReportAtLine(SpecDiagnosticIds.Syntax, _lastLine, "'bit " + flag + "' belongs to " + (ept ? "x86" : "ept") + " specs; this spec's format is " + (ept ? "ept" : "x86"));
                }
            }

            if (_rootRegister is Word register && (register.Text == "EPTP") != ept)
            {
                Report(SpecDiagnosticIds.Syntax, register, ept ? "an EPT spec's root is named by EPTP" : "the root of an x86 spec is named by CR3 (or say 'format ept')");
            }

            if (ept)
            {
                RequireKey(_memoryType, "memory-type");
                if (_protectionKey != null)
                {
                    ReportAtLine(SpecDiagnosticIds.Syntax, _lastLine, "EPT entries have no protection key");
                }
            }
            else if (_memoryType != null || _executeOnly)
            {
                ReportAtLine(SpecDiagnosticIds.Syntax, _lastLine, "'memory-type' and 'execute-only' belong to EPT specs: add 'format ept'");
            }
        }

        private static bool IsIdentifier(string text)
        {
            if (text.Length == 0 || !char.IsLetter(text[0]))
            {
                return false;
            }

            foreach (char c in text)
            {
                if (!(c < 128 && (char.IsLetterOrDigit(c) || c == '-' || c == '_')))
                {
                    return false;
                }
            }

            return true;
        }

        private FlagBit? Flag(string name) => _flags.TryGetValue(name, out FlagBit flag) ? flag : (FlagBit?)null;

        private void ValidateLevel(LevelBuilder level)
        {
            if (level.Index == null)
            {
                ReportAtLine(SpecDiagnosticIds.MissingKey, level.Line, "index (in level " + level.Level + ")");
                return;
            }

            if (level.Level == 1)
            {
                if (level.Page == null)
                {
                    ReportAtLine(SpecDiagnosticIds.MissingKey, level.Line, "page (level 1 maps pages)");
                }
                else if (level.Page.When != null)
                {
                    ReportAtLine(SpecDiagnosticIds.Syntax, level.Page.Line, "Level 1 always maps a page: its 'page' takes no condition");
                }

                if (level.Table != null)
                {
                    ReportAtLine(SpecDiagnosticIds.Syntax, level.Line, "Level 1 entries map pages: a 'table' line does not belong there");
                }
            }
            else if (level.Table == null)
            {
                ReportAtLine(SpecDiagnosticIds.MissingKey, level.Line, "table (in level " + level.Level + ")");
            }

            if (level.Page != null && level.Level > 1 && !_flags.ContainsKey("page-size"))
            {
                ReportAtLine(SpecDiagnosticIds.MissingKey, level.Page.Line, "bit page-size (level " + level.Level + " may map a page)");
            }

            if (level.Register && level.Page != null)
            {
                ReportAtLine(SpecDiagnosticIds.Syntax, level.Line, "A register level references a table; it cannot map a page");
            }

            // A page at this level covers every linear-address bit below this level's index: its size must be
            // 2^(index low bit), and the frame must start at that bit.
            PageRule? page = level.Page;
            if (page != null)
            {
                int offsetBits = level.Index.Value.Lo;
                if (page.Size != 1UL << offsetBits)
                {
                    ReportAtLine(SpecDiagnosticIds.LeafSizeMismatch, page.Line,
                        "A " + page.SizeName + " page does not fit level " + level.Level + ": the linear-address bits below its index ("
                        + (offsetBits - 1) + ":0) make a page of " + FormatSize(1UL << offsetBits));
                }
                else if (page.Frame.Lo != offsetBits)
                {
                    ReportAtLine(SpecDiagnosticIds.LeafSizeMismatch, page.Line,
                        "The frame of a " + page.SizeName + " page starts at bit " + offsetBits + ", not " + page.Frame.Lo);
                }
            }
        }

        private void ValidateIndexBits(List<LevelBuilder> ordered)
        {
            // Index fields must tile the linear address from bit 12 up to linear-bits - 1 without overlap or gap.
            int expectedLo = 12;
            for (int i = ordered.Count - 1; i >= 0; i--)
            {
                LevelBuilder level = ordered[i];
                if (level.Index == null)
                {
                    continue;
                }

                BitRange index = level.Index.Value;
                if (index.Lo < expectedLo)
                {
                    ReportAtLine(SpecDiagnosticIds.OverlappingBits, level.IndexLine,
                        "Index bits " + index + " of level " + level.Level + " overlap the bits below them (up to bit " + (expectedLo - 1) + ")");
                }
                else if (index.Lo > expectedLo)
                {
                    ReportAtLine(SpecDiagnosticIds.OverlappingBits, level.IndexLine,
                        "Index bits " + index + " of level " + level.Level + " leave bits " + new BitRange(index.Lo - 1, expectedLo) + " unused");
                }

                expectedLo = index.Hi + 1;
            }

            if (_linearBits != null && expectedLo != _linearBits.Value)
            {
                ReportAtLine(SpecDiagnosticIds.OverlappingBits, ordered[0].Line,
                    "The index bits end at bit " + (expectedLo - 1) + " but linear-bits is " + _linearBits.Value);
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

        private void RequireKey<T>(T? value, string key)
            where T : struct
        {
            if (value == null)
            {
                ReportAtLine(SpecDiagnosticIds.MissingKey, _lastLine, key);
            }
        }

        private void RequireKey(string? value, string key)
        {
            if (value == null)
            {
                ReportAtLine(SpecDiagnosticIds.MissingKey, _lastLine, key);
            }
        }

        private void Report(string id, Word word, params string[] args) =>
            _diagnostics.Add(new SpecDiagnostic(id, word.Line, word.Column, word.Column + word.Text.Length,
                word.Offset, word.Text.Length, new ImmutableEquatableArray<string>(args)));

        private void ReportAtLine(string id, int line, params string[] args)
        {
            // Point at the line's first word (or its start when empty).
            Line whole = LineAt(line);
            Word? first = whole.Words.Count > 0 ? whole.Words[0] : (Word?)null;
            int column = first?.Column ?? 0;
            int length = whole.Content.TrimEnd().Length - column;
            _diagnostics.Add(new SpecDiagnostic(id, line, column, column + Math.Max(length, 0), whole.Offset + column,
                Math.Max(length, 0), new ImmutableEquatableArray<string>(args)));
        }

        private Line LineAt(int number)
        {
            int start = 0;
            for (int i = 0; i < number; i++)
            {
                int next = _text.IndexOf('\n', start);
                if (next < 0)
                {
                    break;
                }

                start = next + 1;
            }

            int end = _text.IndexOf('\n', start);
            return new Line(this, number, start, _text.Substring(start, (end < 0 ? _text.Length : end) - start));
        }

        private void Fail(Word word, string message)
        {
            Report(SpecDiagnosticIds.Syntax, word, message);
            throw new SpecSyntaxException();
        }

        private sealed class SpecSyntaxException : Exception
        {
        }

        private sealed class LevelBuilder
        {
            public LevelBuilder(int level, string name, int line)
            {
                Level = level;
                Name = name;
                Line = line;
            }

            public int Level { get; }

            public string Name { get; }

            public int Line { get; }

            public BitRange? Index;
            public int IndexLine;
            public BitRange? Table;
            public PageRule? Page;
            public bool Register;
            public readonly List<ReservedRule> Reserved = new List<ReservedRule>();
        }

        private readonly struct Word
        {
            public Word(string text, int line, int column, int offset)
            {
                Text = text;
                Line = line;
                Column = column;
                Offset = offset;
            }

            public string Text { get; }

            public int Line { get; }

            public int Column { get; }

            public int Offset { get; }
        }

        /// <summary>One line split into words, each with its column, comments removed.</summary>
        private sealed class Line
        {
            private readonly SpecParser _parser;

            public Line(SpecParser parser, int number, int offset, string content)
            {
                _parser = parser;
                Number = number;
                Offset = offset;
                int comment = content.IndexOf('#');
                Content = (comment >= 0 ? content.Substring(0, comment) : content).TrimEnd('\r');
                int i = 0;
                while (i < Content.Length)
                {
                    while (i < Content.Length && char.IsWhiteSpace(Content[i]))
                    {
                        i++;
                    }

                    int start = i;
                    while (i < Content.Length && !char.IsWhiteSpace(Content[i]))
                    {
                        i++;
                    }

                    if (i > start)
                    {
                        Words.Add(new Word(Content.Substring(start, i - start), number, start, offset + start));
                    }
                }
            }

            public int Number { get; }

            public int Offset { get; }

            public string Content { get; }

            public List<Word> Words { get; } = new List<Word>();

            public Word Word(int index)
            {
                if (index >= Words.Count)
                {
                    Word last = Words[Words.Count - 1];
                    _parser.Fail(new Word("", Number, last.Column + last.Text.Length, last.Offset + last.Text.Length),
                        "'" + Words[0].Text + "' needs more words here");
                }

                return Words[index];
            }

            public Word Single(int index)
            {
                Word word = Word(index);
                End(index + 1);
                return word;
            }

            public string Rest(int index)
            {
                Word first = Word(index);
                return Content.Substring(first.Column).Trim();
            }

            public void Expect(int index, string text)
            {
                Word word = Word(index);
                if (word.Text != text)
                {
                    _parser.Fail(word, "expected '" + text + "', found '" + word.Text + "'");
                }
            }

            public void End(int index)
            {
                if (Words.Count > index)
                {
                    _parser.Fail(Words[index], "unexpected '" + Words[index].Text + "' at the end of '" + Words[0].Text + "'");
                }
            }
        }
    }
}
