using System.Collections.Generic;
using System.Linq;

namespace ShadowMmu.Specs
{
    internal sealed partial class SpecParser
    {
        // level N NAME: starts a level; the statements after it belong to it.
        private void ParseLevel(Line line)
        {
            Word number = line.Word(1);
            int levelNumber = ParseInt(number);
            if (levelNumber < 1 || levelNumber > 5)
            {
                FailOutOfRange(number, "A level number", "between 1 (the table that maps 4 KiB pages) and 5", number.Text);
            }

            if (_levels.Any(l => l.Level == levelNumber))
            {
                Report(SpecDiagnosticIds.Duplicate, number, "level " + levelNumber);
            }

            Word entryName = line.Single(2);
            if (!IsIdentifier(entryName.Text))
            {
                FailExpected(entryName, "an entry name (a letter, then letters, digits, '-' or '_')");
            }

            _levels.Add(new LevelBuilder(levelNumber, entryName.Text, line.Number));
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
                    level.TableKey = key;
                    line.End(2);
                    break;
                case "register":
                    level.RegisterKey = key;
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
                    level.Reserved.Add(ParseReserved(line));
                    break;
            }
        }

        // reserved HI:LO [in table|in page] [when|unless COND]
        private ReservedRule ParseReserved(Line line)
        {
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
                    FailExpected(which, "'table' or 'page' after 'in'");
                }

                next += 2;
            }

            return new ReservedRule(bits, entryCase, ParseWhen(line, next, allowUnless: true), line.Number);
        }

        // page SIZE frame HI:LO [high HI:LO at BIT] [when COND else reserved|ignored]
        private PageRule ParsePage(Line line)
        {
            Word sizeWord = line.Word(1);
            if (!SpecVocabulary.TryParseSize(sizeWord.Text, out ulong size))
            {
                FailExpected(sizeWord, "a page size such as 4K, 2M or 1G");
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
                    FailOutOfRange(atWord, "The high frame bits", "physical-address bits between 32 and 51",
                        "bits " + new BitRange(highAt + high.Value.Width - 1, highAt));
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
                    FailExpected(otherwise, "'reserved' (PS = 1 is a reserved-bit fault) or 'ignored' (PS is ignored) after 'else'");
                }

                line.End(next + 4);
            }

            return new PageRule(sizeWord.Text, size, frame, high, highAt, when, elseReserved, line.Number);
        }

        /// <summary>A level's statements as they are read, checked once the whole spec is.</summary>
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
            public Word? TableKey;
            public PageRule? Page;
            public Word? RegisterKey;
            public readonly List<ReservedRule> Reserved = new List<ReservedRule>();

            public bool Register => RegisterKey != null;
        }
    }
}
