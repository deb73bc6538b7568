using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using ShadowMmu.Specs;

namespace ShadowMmu.Generators
{
    /// <summary>
    /// Every diagnostic the generator reports, at the spec file's own line and column: errors for a spec that cannot
    /// become a walker, and one Info for a walker that lacks methods. Each id has a page in docs/generator (the help
    /// link); the message formats are shared with the reference walker (<see cref="SpecDiagnosticIds.MessageFormat"/>).
    /// </summary>
    internal static class DiagnosticDescriptors
    {
        private const string Category = "ShadowMmu.Spec";
        private const string HelpLinkBase = "https://github.com/shadowmmu/shadowmmu/blob/main/docs/generator/";

        public static readonly DiagnosticDescriptor Syntax = Error(SpecDiagnosticIds.Syntax,
            "Paging spec statement cannot be read");

        public static readonly DiagnosticDescriptor MissingStatement = Error(SpecDiagnosticIds.MissingStatement,
            "Paging spec lacks a required statement");

        public static readonly DiagnosticDescriptor IndexBits = Error(SpecDiagnosticIds.IndexBits,
            "Index bits overlap, leave a gap or miss the address width");

        public static readonly DiagnosticDescriptor PageDoesNotFit = Error(SpecDiagnosticIds.PageDoesNotFit,
            "Page size does not fit its level");

        public static readonly DiagnosticDescriptor MissingLevel = Error(SpecDiagnosticIds.MissingLevel,
            "Level missing");

        public static readonly DiagnosticDescriptor UnknownCondition = Error(SpecDiagnosticIds.UnknownCondition,
            "Unknown condition");

        public static readonly DiagnosticDescriptor BitOutsideEntry = Error(SpecDiagnosticIds.BitOutsideEntry,
            "Bit outside the entry");

        public static readonly DiagnosticDescriptor Duplicate = Error(SpecDiagnosticIds.Duplicate,
            "Statement given twice");

        public static readonly DiagnosticDescriptor DuplicateMode = Error(SpecDiagnosticIds.DuplicateMode,
            "Two specs define the same mode");

        public static readonly DiagnosticDescriptor UnknownWord = Error(SpecDiagnosticIds.UnknownWord,
            "Unknown statement, flag, format or root register");

        public static readonly DiagnosticDescriptor OutOfRange = Error(SpecDiagnosticIds.OutOfRange,
            "Value out of range");

        public static readonly DiagnosticDescriptor WrongFormat = Error(SpecDiagnosticIds.WrongFormat,
            "Statement of the other entry format");

        public static readonly DiagnosticDescriptor Misplaced = Error(SpecDiagnosticIds.Misplaced,
            "Statement where it does not belong");

        public static readonly DiagnosticDescriptor MethodsNotGenerated = new DiagnosticDescriptor(SpecDiagnosticIds.MethodsNotGenerated,
            "Walker method not generated", SpecDiagnosticIds.MessageFormat(SpecDiagnosticIds.MethodsNotGenerated), Category,
            DiagnosticSeverity.Info, isEnabledByDefault: true, helpLinkUri: HelpLink(SpecDiagnosticIds.MethodsNotGenerated));

        private static readonly Dictionary<string, DiagnosticDescriptor> ById = Index(
            Syntax, MissingStatement, IndexBits, PageDoesNotFit, MissingLevel, UnknownCondition, BitOutsideEntry, Duplicate, DuplicateMode,
            UnknownWord, OutOfRange, WrongFormat, Misplaced, MethodsNotGenerated);

        /// <summary>The page that explains <paramref name="id"/>.</summary>
        public static string HelpLink(string id) => HelpLinkBase + id + ".md";

        /// <summary>The descriptor of a <see cref="SpecDiagnostic"/>'s id.</summary>
        /// <exception cref="ArgumentException">No descriptor has the id: a diagnostic was added without its descriptor.</exception>
        public static DiagnosticDescriptor ForId(string id) =>
            ById.TryGetValue(id, out DiagnosticDescriptor? descriptor)
                ? descriptor
                : throw new ArgumentException("No diagnostic descriptor has the id '" + id + "'.", nameof(id));

        private static DiagnosticDescriptor Error(string id, string title) =>
            new DiagnosticDescriptor(id, title, SpecDiagnosticIds.MessageFormat(id), Category, DiagnosticSeverity.Error,
                isEnabledByDefault: true, helpLinkUri: HelpLink(id), customTags: WellKnownDiagnosticTags.NotConfigurable);

        private static Dictionary<string, DiagnosticDescriptor> Index(params DiagnosticDescriptor[] descriptors)
        {
            var byId = new Dictionary<string, DiagnosticDescriptor>();
            foreach (DiagnosticDescriptor descriptor in descriptors)
            {
                byId.Add(descriptor.Id, descriptor);
            }

            return byId;
        }
    }
}
