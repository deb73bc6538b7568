using System;
using System.Collections.Generic;
using System.Globalization;

namespace ShadowMmu.Specs
{
    internal sealed partial class SpecParser
    {
        // [when COND] or, where allowed, [unless COND] at word index, ending the line.
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
                FailExpected(keyword, allowUnless ? "'when' or 'unless'" : "'when'");
                return null;
            }

            SpecCondition condition = ParseCondition(line.Word(index + 1));
            line.End(index + 2);
            return negate ? new SpecCondition(condition.Name, !condition.Negated) : condition;
        }

        // CR4.PSE, !EFER.LME, ...: reported (not fatal) when unknown, so that the rest of the spec is still checked.
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

        // HI:LO, or one bit.
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
                FailExpected(word, "a bit range such as 51:12");
            }

            if (hi < lo)
            {
                FailExpected(word, "a bit range written high:low");
            }

            return new BitRange(hi, lo);
        }

        private int ParseInt(Word word)
        {
            if (!int.TryParse(word.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            {
                FailExpected(word, "a number");
            }

            return value;
        }

        private void CheckBit(Word word, int bit)
        {
            int limit = (_entryBytes ?? 8) * 8;
            if (bit >= limit)
            {
                Report(SpecDiagnosticIds.BitOutsideEntry, word, bit.ToString(CultureInfo.InvariantCulture),
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

        // A mode or entry name: a letter, then ASCII letters, digits, '-' or '_'.
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

        /// <summary>A word of a line, with the place it was read from.</summary>
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

            /// <summary>Word <paramref name="index"/>, or a syntax error at the end of a line that is too short.</summary>
            public Word Word(int index)
            {
                if (index >= Words.Count)
                {
                    Word last = Words[Words.Count - 1];
                    var end = new Word("", Number, last.Column + last.Text.Length, last.Offset + last.Text.Length);
                    _parser.FailExpected(end, "more words in '" + Content.Trim() + "'");
                }

                return Words[index];
            }

            /// <summary>The last word of the statement: word <paramref name="index"/>, and nothing after it.</summary>
            public Word Single(int index)
            {
                Word word = Word(index);
                End(index + 1);
                return word;
            }

            /// <summary>The text from word <paramref name="index"/> to the end of the line.</summary>
            public string Rest(int index)
            {
                Word first = Word(index);
                return Content.Substring(first.Column).Trim();
            }

            /// <summary>A syntax error unless word <paramref name="index"/> is the keyword <paramref name="text"/>.</summary>
            public void Expect(int index, string text)
            {
                Word word = Word(index);
                if (word.Text != text)
                {
                    _parser.FailExpected(word, "'" + text + "'");
                }
            }

            /// <summary>A syntax error if the line has a word at <paramref name="index"/>.</summary>
            public void End(int index)
            {
                if (Words.Count > index)
                {
                    _parser.FailExpected(Words[index], "the end of the '" + Words[0].Text + "' statement");
                }
            }
        }
    }
}
