using System;

namespace ShadowMmu.Specs
{
    internal sealed partial class SpecParser
    {
        /// <summary>A problem at <paramref name="word"/>; the parse goes on.</summary>
        private void Report(string id, Word word, params string[] args) =>
            _diagnostics.Add(new SpecDiagnostic(id, word.Line, word.Column, word.Column + word.Text.Length,
                word.Offset, word.Text.Length, new ImmutableEquatableArray<string>(args)));

        /// <summary>A problem of a whole line (a statement that is missing, or wrong as a whole): points at the line's words.</summary>
        private void ReportAtLine(string id, int line, params string[] args) => _diagnostics.Add(SpecDiagnostic.AtLine(_text, line, id, args));

        /// <summary>MMUG001 at <paramref name="word"/>, which is not <paramref name="expected"/>: the statement cannot be read, the parse ends.</summary>
        private void FailExpected(Word word, string expected)
        {
            Report(SpecDiagnosticIds.Syntax, word, expected, word.Text.Length == 0 ? "the end of the line" : "'" + word.Text + "'");
            throw new SpecSyntaxException();
        }

        /// <summary>MMUG010: <paramref name="word"/> is no <paramref name="kind"/> the language knows; the parse ends.</summary>
        private void FailUnknown(Word word, string kind, string known)
        {
            Report(SpecDiagnosticIds.UnknownWord, word, kind, word.Text, known);
            throw new SpecSyntaxException();
        }

        /// <summary>MMUG011: <paramref name="what"/> must be <paramref name="allowed"/>, not <paramref name="actual"/>; the parse ends.</summary>
        private void FailOutOfRange(Word word, string what, string allowed, string actual)
        {
            Report(SpecDiagnosticIds.OutOfRange, word, what, allowed, actual);
            throw new SpecSyntaxException();
        }

        /// <summary>MMUG013: the statement <paramref name="statement"/> does not belong <paramref name="where"/>; the parse ends.</summary>
        private void FailMisplaced(Word word, string statement, string where, string why)
        {
            Report(SpecDiagnosticIds.Misplaced, word, statement, where, why);
            throw new SpecSyntaxException();
        }

        /// <summary>Ends the parse of a file after a statement that cannot be read; its diagnostic is already reported.</summary>
        private sealed class SpecSyntaxException : Exception
        {
        }
    }
}
