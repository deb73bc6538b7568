using System.Collections.Generic;
using System.Text;

namespace ShadowMmu.Generators
{
    /// <summary>Writes indented C#: the emitted code is meant to be read, in lines of at most <see cref="Width"/> columns.</summary>
    internal sealed class SourceWriter
    {
        /// <summary>The width <see cref="Wrap"/> keeps lines within.</summary>
        public const int Width = 120;

        private readonly StringBuilder _text = new StringBuilder();
        private int _indent;

        public void Line(string line = "")
        {
            if (line.Length > 0)
            {
                _text.Append(' ', _indent * 4);
            }

            _text.Append(line).Append('\n');
        }

        public void Open(string line)
        {
            Line(line);
            Line("{");
            _indent++;
        }

        public void Close(string suffix = "")
        {
            _indent--;
            Line("}" + suffix);
        }

        /// <summary>Writes a label one level out, as hand-written code places them.</summary>
        public void Label(string name)
        {
            _indent--;
            Line(name + ":");
            _indent++;
        }

        public void Indent() => _indent++;

        public void Unindent() => _indent--;

        /// <summary>
        /// Writes <paramref name="head"/>, the <paramref name="items"/> separated by <paramref name="separator"/>, and
        /// <paramref name="tail"/>: on one line when it fits in <see cref="Width"/>, else as many items a line as fit, each
        /// line after the first indented once more, a separator ending the line it follows (<c>", "</c>, <c>" &amp;&amp; "</c>).
        /// </summary>
        public void Wrap(string head, IReadOnlyList<string> items, string separator, string tail)
        {
            int width = Width - (_indent * 4);
            string joined = head + string.Join(separator, items) + tail;
            if (joined.Length <= width)
            {
                Line(joined);
                return;
            }

            var lines = new List<string>();
            var current = new StringBuilder(head);
            for (int i = 0; i < items.Count; i++)
            {
                string piece = items[i] + (i == items.Count - 1 ? tail : separator.TrimEnd());
                bool lineStart = current.Length == (lines.Count == 0 ? head.Length : 0);
                int limit = lines.Count == 0 ? width : width - 4;
                if (current.Length > 0 && current.Length + (lineStart ? 0 : 1) + piece.Length > limit)
                {
                    lines.Add(current.ToString().TrimEnd());
                    current.Clear();
                    lineStart = true;
                }

                current.Append(lineStart ? "" : " ").Append(piece);
            }

            lines.Add(current.ToString());
            Line(lines[0]);
            _indent++;
            for (int i = 1; i < lines.Count; i++)
            {
                Line(lines[i]);
            }

            _indent--;
        }

        /// <summary>A <c>//</c> comment: the parts joined by spaces and wrapped into lines of at most <see cref="Width"/>.</summary>
        public void Comment(params string[] parts)
        {
            foreach (string line in Reflow(string.Join(" ", parts), Width - (_indent * 4) - 3))
            {
                Line("// " + line);
            }
        }

        /// <summary>A <c>&lt;summary&gt;</c> documentation comment: on one line when it fits, else its text wrapped between the tags.</summary>
        public void Summary(params string[] parts) => Documentation("summary", parts);

        /// <summary>A documentation element <paramref name="tag"/> (summary, remarks) holding the parts, wrapped.</summary>
        public void Documentation(string tag, params string[] parts)
        {
            string text = string.Join(" ", parts);
            string single = "/// <" + tag + ">" + text + "</" + tag + ">";
            if (single.Length <= Width - (_indent * 4))
            {
                Line(single);
                return;
            }

            Line("/// <" + tag + ">");
            foreach (string line in Reflow(text, Width - (_indent * 4) - 4))
            {
                Line("/// " + line);
            }

            Line("/// </" + tag + ">");
        }

        /// <summary>Documentation text (<c>///</c> lines) wrapped into lines of at most <see cref="Width"/>.</summary>
        public void DocumentationLines(string text)
        {
            foreach (string line in Reflow(text, Width - (_indent * 4) - 4))
            {
                Line("/// " + line);
            }
        }

        /// <summary><see cref="Wrap"/> for a declaration or statement that opens a block.</summary>
        public void OpenWrapped(string head, IReadOnlyList<string> items, string separator, string tail)
        {
            Wrap(head, items, separator, tail);
            Line("{");
            _indent++;
        }

        public override string ToString() => _text.ToString();

        /// <summary>True when <paramref name="words"/> opens an XML tag (<c>&lt;paramref name=</c>) that it does not close.</summary>
        private static bool InsideTag(string words)
        {
            for (int i = words.Length - 2; i >= 0; i--)
            {
                if (words[i] == '>')
                {
                    return false;
                }

                if (words[i] == '<' && (char.IsLetter(words[i + 1]) || words[i + 1] == '/'))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Words of <paramref name="text"/> in lines of at most <paramref name="width"/>, an XML tag never split.</summary>
        private static List<string> Reflow(string text, int width)
        {
            var words = new List<string>();
            foreach (string word in text.Split(' '))
            {
                int last = words.Count - 1;
                if (last >= 0 && InsideTag(words[last]))
                {
                    words[last] += " " + word;
                }
                else if (word.Length > 0)
                {
                    words.Add(word);
                }
            }

            var lines = new List<string>();
            var line = new StringBuilder();
            foreach (string word in words)
            {
                if (line.Length > 0 && line.Length + 1 + word.Length > width)
                {
                    lines.Add(line.ToString());
                    line.Clear();
                }

                line.Append(line.Length > 0 ? " " : "").Append(word);
            }

            if (line.Length > 0)
            {
                lines.Add(line.ToString());
            }

            return lines;
        }
    }
}
