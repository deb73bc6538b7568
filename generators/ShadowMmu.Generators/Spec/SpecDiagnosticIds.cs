namespace ShadowMmu.Specs
{
    /// <summary>Ids of the problems a spec file can have; the generator turns each into a compiler error.</summary>
    internal static class SpecDiagnosticIds
    {
        public const string Syntax = "MMUG001";
        public const string MissingKey = "MMUG002";
        public const string OverlappingBits = "MMUG003";
        public const string LeafSizeMismatch = "MMUG004";
        public const string MissingLevel = "MMUG005";
        public const string UnknownCondition = "MMUG006";
        public const string BitOutOfRange = "MMUG007";
        public const string Duplicate = "MMUG008";
        public const string DuplicateMode = "MMUG009";
        public const string MethodsNotGenerated = "MMUG014";

        /// <summary>Message formats, shared with the reference walker's error text.</summary>
        public static string MessageFormat(string id)
        {
            switch (id)
            {
                case Syntax: return "{0}";
                case MissingKey: return "The spec has no '{0}' line";
                case OverlappingBits: return "{0}";
                case LeafSizeMismatch: return "{0}";
                case MissingLevel: return "{0}";
                case UnknownCondition: return "Unknown condition '{0}'; known: {1}";
                case BitOutOfRange: return "Bit {0} is outside a {1}-byte entry (bits 0 to {2})";
                case Duplicate: return "'{0}' is given twice";
                case DuplicateMode: return "Mode '{0}' is also defined by {1}";
                case MethodsNotGenerated: return "{0} gets no {1}: {2}";
                default: return "{0}";
            }
        }
    }
}
