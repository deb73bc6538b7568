using System.Threading.Tasks;
using Microsoft.CodeAnalysis.Testing;

namespace ShadowMmu.Analyzers.Tests.Shapes
{
    /// <summary>The shape tests' checks: clean code, or one MMU0001 / MMU0005 at location 0.</summary>
    internal static class ShapeVerify
    {
        public const string Lock = "'Vm.MmuLock'";

        public static Task Clean(string code) => Verify.Analyzer(Prelude.Wrap(code));

        public static Task Unchecked(string code, string value, string detail = "") =>
            Verify.Analyzer(Prelude.Wrap(code), UncheckedAt(0, value, detail));

        public static DiagnosticResult UncheckedAt(int location, string value, string detail = "") =>
            Verify.Diagnostic(DiagnosticIds.UncheckedGuestPte).WithLocation(location).WithArguments(value, Lock, detail);

        public static Task NotFollowed(string code, string value, string reason) =>
            Verify.Analyzer(Prelude.Wrap(code), NotFollowedAt(0, value, reason));

        public static DiagnosticResult NotFollowedAt(int location, string value, string reason) =>
            Verify.Diagnostic(DiagnosticIds.ValueNotFollowed).WithLocation(location).WithArguments(value, reason);

        /// <summary>"; the re-validation on this path checks 'x', a different entry".</summary>
        public static string ChecksOther(string other) => "; the re-validation on this path checks '" + other + "', a different entry";
    }
}
