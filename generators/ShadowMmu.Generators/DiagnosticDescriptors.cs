using Microsoft.CodeAnalysis;
using ShadowMmu.Specs;

namespace ShadowMmu.Generators
{
    /// <summary>Every diagnostic the generator reports: all errors in a spec file, at the spec's own line.</summary>
    internal static class DiagnosticDescriptors
    {
        private const string Category = "ShadowMmu.Spec";
        private const string HelpRoot = "https://github.com/shadowmmu/shadowmmu/blob/main/docs/spec-language.md#";

        public static readonly DiagnosticDescriptor Syntax = Create(SpecDiagnosticIds.Syntax, "Paging spec statement cannot be read");
        public static readonly DiagnosticDescriptor MissingKey = Create(SpecDiagnosticIds.MissingKey, "Paging spec lacks a required statement");
        public static readonly DiagnosticDescriptor OverlappingBits = Create(SpecDiagnosticIds.OverlappingBits, "Index bits overlap or leave a gap");
        public static readonly DiagnosticDescriptor LeafSizeMismatch = Create(SpecDiagnosticIds.LeafSizeMismatch, "Page size does not fit its level");
        public static readonly DiagnosticDescriptor MissingLevel = Create(SpecDiagnosticIds.MissingLevel, "Level missing");
        public static readonly DiagnosticDescriptor UnknownCondition = Create(SpecDiagnosticIds.UnknownCondition, "Unknown condition");
        public static readonly DiagnosticDescriptor BitOutOfRange = Create(SpecDiagnosticIds.BitOutOfRange, "Bit outside the entry");
        public static readonly DiagnosticDescriptor Duplicate = Create(SpecDiagnosticIds.Duplicate, "Statement given twice");
        public static readonly DiagnosticDescriptor DuplicateMode = Create(SpecDiagnosticIds.DuplicateMode, "Two specs define the same mode");

        /// <summary>Not an error: the spec is valid, but its walker lacks methods that need what the spec does not have.</summary>
        public static readonly DiagnosticDescriptor MethodsNotGenerated = new DiagnosticDescriptor(SpecDiagnosticIds.MethodsNotGenerated,
            "A walker method is not generated", SpecDiagnosticIds.MessageFormat(SpecDiagnosticIds.MethodsNotGenerated), Category,
            DiagnosticSeverity.Info, isEnabledByDefault: true, helpLinkUri: HelpRoot + "mmug014");

        public static DiagnosticDescriptor ForId(string id)
        {
            switch (id)
            {
                case SpecDiagnosticIds.MissingKey: return MissingKey;
                case SpecDiagnosticIds.OverlappingBits: return OverlappingBits;
                case SpecDiagnosticIds.LeafSizeMismatch: return LeafSizeMismatch;
                case SpecDiagnosticIds.MissingLevel: return MissingLevel;
                case SpecDiagnosticIds.UnknownCondition: return UnknownCondition;
                case SpecDiagnosticIds.BitOutOfRange: return BitOutOfRange;
                case SpecDiagnosticIds.Duplicate: return Duplicate;
                case SpecDiagnosticIds.DuplicateMode: return DuplicateMode;
                case SpecDiagnosticIds.MethodsNotGenerated: return MethodsNotGenerated;
                default: return Syntax;
            }
        }

        private static DiagnosticDescriptor Create(string id, string title) =>
            new DiagnosticDescriptor(id, title, SpecDiagnosticIds.MessageFormat(id), Category, DiagnosticSeverity.Error,
                isEnabledByDefault: true, helpLinkUri: HelpRoot + id.ToLowerInvariant(),
                customTags: WellKnownDiagnosticTags.NotConfigurable);
    }
}
