using System;
using System.Collections.Generic;

namespace ShadowMmu.Specs
{
    /// <summary>
    /// Reads a paging-mode spec: one statement a line, <c>#</c> starts a comment, statements after a <c>level</c> line
    /// belong to that level. The parser never throws on bad input: every problem becomes a <see cref="SpecDiagnostic"/>
    /// at the line and columns of the offending word. See docs/spec-language.md.
    /// </summary>
    /// <remarks>
    /// One class in rooms: this file reads the mode's statements, <c>SpecParser.Levels.cs</c> a level's,
    /// <c>SpecParser.Words.cs</c> the words inside them (numbers, bit ranges, conditions), <c>SpecParser.Validation.cs</c>
    /// checks the whole once read, and <c>SpecParser.Problems.cs</c> reports what is wrong.
    /// </remarks>
    internal sealed partial class SpecParser
    {
        private static readonly string[] Statements =
        {
            "mode", "title", "format", "selected-when", "entry-bytes", "linear-bits", "root", "bit", "protection-key", "memory-type",
            "execute-only", "level", "index", "table", "page", "reserved", "register",
        };

        private static readonly string[] Flags =
        {
            "present", "writable", "user", "accessed", "dirty", "page-size", "execute-disable", "read", "execute", "user-execute", "ignore-pat",
        };

        private readonly string _path;
        private readonly string _text;
        private readonly List<SpecDiagnostic> _diagnostics = new List<SpecDiagnostic>();

        private string? _mode;
        private string? _title;
        private List<SpecCondition>? _selectedWhen;
        private int? _entryBytes;
        private int? _linearBits;
        private Word? _canonical;
        private BitRange? _root;
        private Word? _rootRegister;
        private SpecFormat? _format;
        private BitRange? _memoryType;
        private Word? _memoryTypeKey;
        private List<int>? _reservedMemoryTypes;
        private SpecCondition? _executeOnlyWhen;
        private Word? _executeOnlyKey;
        private readonly Dictionary<string, FlagBit> _flags = new Dictionary<string, FlagBit>();
        private readonly Dictionary<string, Word> _flagNames = new Dictionary<string, Word>();
        private BitRange? _protectionKey;
        private Word? _protectionKeyKey;
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
            switch (key.Text)
            {
                case "mode":
                    Word modeWord = line.Single(1);
                    if (!IsIdentifier(modeWord.Text))
                    {
                        FailExpected(modeWord, "a mode name (a letter, then letters, digits, '-' or '_')");
                    }

                    _modeLine = line.Number;
                    SetOnce(ref _mode, modeWord.Text, key);
                    break;
                case "title":
                    SetOnce(ref _title, line.Rest(1), key);
                    break;
                case "selected-when":
                    ParseSelectedWhen(line);
                    break;
                case "entry-bytes":
                    Word size = line.Single(1);
                    int bytes = ParseInt(size);
                    if (bytes != 4 && bytes != 8)
                    {
                        FailOutOfRange(size, "entry-bytes", "4 or 8", size.Text);
                    }

                    SetOnce(ref _entryBytes, bytes, key);
                    break;
                case "linear-bits":
                    ParseLinearBits(line);
                    break;
                case "format":
                    Word formatWord = line.Single(1);
                    if (formatWord.Text != "x86" && formatWord.Text != "ept")
                    {
                        FailUnknown(formatWord, "format", "x86 (the processor's page tables), ept (extended page tables)");
                    }

                    SetOnce(ref _format, formatWord.Text == "ept" ? SpecFormat.Ept : SpecFormat.X86, key);
                    break;
                case "root":
                    Word register = line.Word(1);
                    if (register.Text != "CR3" && register.Text != "EPTP")
                    {
                        FailUnknown(register, "root register", "CR3, EPTP");
                    }

                    _rootRegister = register;
                    SetOnce(ref _root, ParseRange(line.Word(2)), key);
                    line.End(3);
                    break;
                case "memory-type":
                    ParseMemoryType(line);
                    break;
                case "execute-only":
                    if (_executeOnlyKey != null)
                    {
                        Report(SpecDiagnosticIds.Duplicate, key, key.Text);
                    }

                    _executeOnlyKey = key;
                    _executeOnlyWhen = ParseWhen(line, 1, allowUnless: false);
                    break;
                case "bit":
                    ParseFlag(line);
                    break;
                case "protection-key":
                    ParseProtectionKey(line);
                    break;
                case "level":
                    ParseLevel(line);
                    break;
                case "index":
                case "table":
                case "page":
                case "reserved":
                case "register":
                    if (_levels.Count == 0)
                    {
                        FailMisplaced(key, key.Text, "outside a level", "put it after a 'level N NAME' line");
                    }

                    ParseLevelStatement(_levels[_levels.Count - 1], line);
                    break;
                default:
                    FailUnknown(key, "statement", string.Join(", ", Statements));
                    break;
            }
        }

        // selected-when COND...: the register bits that select this mode, all of which must hold.
        private void ParseSelectedWhen(Line line)
        {
            if (_selectedWhen != null)
            {
                Report(SpecDiagnosticIds.Duplicate, line.Words[0], line.Words[0].Text);
            }

            _selectedWhen = new List<SpecCondition>();
            for (int i = 1; i < line.Words.Count; i++)
            {
                _selectedWhen.Add(ParseCondition(line.Words[i]));
            }
        }

        // linear-bits N [canonical]
        private void ParseLinearBits(Line line)
        {
            Word width = line.Word(1);
            int bits = ParseInt(width);
            if (bits < 13 || bits > 64)
            {
                FailOutOfRange(width, "linear-bits", "between 13 and 64", width.Text);
            }

            SetOnce(ref _linearBits, bits, line.Words[0]);
            if (line.Words.Count > 2)
            {
                line.Expect(2, "canonical");
                line.End(3);
                _canonical = line.Words[2];
            }
        }

        // bit FLAG N [when COND]
        private void ParseFlag(Line line)
        {
            Word name = line.Word(1);
            if (Array.IndexOf(Flags, name.Text) < 0)
            {
                FailUnknown(name, "flag", string.Join(", ", Flags));
            }

            Word bitWord = line.Word(2);
            int bit = ParseInt(bitWord);
            CheckBit(bitWord, bit);
            if (_flags.ContainsKey(name.Text))
            {
                Report(SpecDiagnosticIds.Duplicate, name, "bit " + name.Text);
            }

            _flags[name.Text] = new FlagBit(bit, ParseWhen(line, 3, allowUnless: false));
            _flagNames[name.Text] = name;
        }

        // protection-key HI:LO [when COND]
        private void ParseProtectionKey(Line line)
        {
            Word key = line.Words[0];
            BitRange keyBits = ParseRange(line.Word(1));
            if (_protectionKeyKey != null)
            {
                Report(SpecDiagnosticIds.Duplicate, key, key.Text);
            }

            if (keyBits.Width > 4)
            {
                // PKRU holds an AD and a WD bit for each of 16 keys.
                Report(SpecDiagnosticIds.OutOfRange, line.Word(1), "A protection key", "at most 4 bits wide (PKRU has 16 keys)",
                    keyBits.Width + " bits wide");
            }

            _protectionKey = keyBits;
            _protectionKeyKey = key;
            _protectionKeyWhen = ParseWhen(line, 2, allowUnless: false);
        }

        // memory-type HI:LO [reserved N...]: the leaf's memory-type field and the type values that are reserved.
        private void ParseMemoryType(Line line)
        {
            Word fieldWord = line.Word(1);
            BitRange field = ParseRange(fieldWord);
            CheckRange(fieldWord, field);
            if (field.Width != 3)
            {
                FailOutOfRange(fieldWord, "An EPT memory-type field", "3 bits wide", field.Width + " bits wide");
            }

            SetOnce(ref _memoryType, field, line.Words[0]);
            _memoryTypeKey = line.Words[0];
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
                        FailOutOfRange(typeWord, "A memory type", "below " + (1 << field.Width) + " to fit the field " + field, typeWord.Text);
                    }

                    _reservedMemoryTypes.Add(type);
                }
            }
        }

        private FlagBit? Flag(string name) => _flags.TryGetValue(name, out FlagBit flag) ? flag : (FlagBit?)null;
    }
}
