using System.Text;

namespace ShadowMmu.Generators
{
    /// <summary>Writes indented C#: the emitted code is meant to be read.</summary>
    internal sealed class SourceWriter
    {
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

        public override string ToString() => _text.ToString();
    }
}
