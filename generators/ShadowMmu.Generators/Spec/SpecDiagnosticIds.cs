using System;

namespace ShadowMmu.Specs
{
    /// <summary>
    /// Ids of the problems a spec file can have, and their message formats; the generator turns each into a compiler
    /// diagnostic (docs/generator/MMUGnnn.md), the reference walker into a line of its error text.
    /// </summary>
    internal static class SpecDiagnosticIds
    {
        /// <summary>A statement cannot be read: a word missing, extra or not the one its place needs, a malformed number or range.</summary>
        public const string Syntax = "MMUG001";

        /// <summary>A required statement is missing.</summary>
        public const string MissingStatement = "MMUG002";

        /// <summary>Index bits overlap, leave a gap, or do not end at linear-bits.</summary>
        public const string IndexBits = "MMUG003";

        /// <summary>A page size does not fit its level, or its frame starts elsewhere.</summary>
        public const string PageDoesNotFit = "MMUG004";

        /// <summary>A level between the root and level 1 is missing.</summary>
        public const string MissingLevel = "MMUG005";

        /// <summary>A condition the language does not know.</summary>
        public const string UnknownCondition = "MMUG006";

        /// <summary>A bit outside the entry.</summary>
        public const string BitOutsideEntry = "MMUG007";

        /// <summary>A statement given twice.</summary>
        public const string Duplicate = "MMUG008";

        /// <summary>Two spec files define the same mode.</summary>
        public const string DuplicateMode = "MMUG009";

        /// <summary>A statement, flag, format or root register the language does not know.</summary>
        public const string UnknownWord = "MMUG010";

        /// <summary>A number outside the range its statement allows.</summary>
        public const string OutOfRange = "MMUG011";

        /// <summary>A statement of the other entry format (x86 or EPT).</summary>
        public const string WrongFormat = "MMUG012";

        /// <summary>A statement where it does not belong: outside a level, or in a level that cannot have it.</summary>
        public const string Misplaced = "MMUG013";

        /// <summary>Not an error: the walker lacks methods that need what the spec does not have.</summary>
        public const string MethodsNotGenerated = "MMUG014";

        /// <summary>Every id, in order.</summary>
        public static readonly string[] All =
        {
            Syntax, MissingStatement, IndexBits, PageDoesNotFit, MissingLevel, UnknownCondition, BitOutsideEntry, Duplicate, DuplicateMode,
            UnknownWord, OutOfRange, WrongFormat, Misplaced, MethodsNotGenerated,
        };

        /// <summary>The message format of <paramref name="id"/>, shared with the reference walker's error text.</summary>
        /// <exception cref="ArgumentException"><paramref name="id"/> is not one of <see cref="All"/>.</exception>
        public static string MessageFormat(string id)
        {
            switch (id)
            {
                case Syntax: return "Expected {0}, found {1}";
                case MissingStatement: return "The spec has no '{0}' statement{1}";
                case IndexBits: return "Index bits {0} of level {1} {2}";
                case PageDoesNotFit: return "A {0} page does not fit level {1}: {2}";
                case MissingLevel: return "Level {0} is missing: levels must run from {1} down to 1";
                case UnknownCondition: return "Unknown condition '{0}'; known: {1}";
                case BitOutsideEntry: return "Bit {0} is outside an entry of {1} bytes (bits 0 to {2})";
                case Duplicate: return "'{0}' is given twice";
                case DuplicateMode: return "Mode '{0}' is also defined by {1}";
                case UnknownWord: return "Unknown {0} '{1}'; known: {2}";
                case OutOfRange: return "{0} must be {1}, not {2}";
                case WrongFormat: return "'{0}' belongs to {1} specs; this spec's format is {2}";
                case Misplaced: return "'{0}' does not belong {1}: {2}";
                case MethodsNotGenerated: return "{0} gets no {1}: {2}";
                default: throw new ArgumentException("No spec diagnostic has the id '" + id + "'.", nameof(id));
            }
        }
    }
}
