using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using ShadowMmu.Analyzers;
using Xunit;

namespace ShadowMmu.Tests.Generator;

/// <summary>
/// The runtime's annotations of the host-invalidation protocol (Vm.SnapshotMmuInvalidateSeq, HostFrames.Resolve,
/// Vm.MmuInvalidateRetryGfn, the Vm.SequenceCheck switch) under the mmu_lock lint, as a consumer sees them: the fault
/// path's shape (Vcpu.HandleFault) is clean; without the re-check, or with the snapshot taken after the resolution,
/// the frame's install is MMU0007. (The runtime itself builds with MMU0007 an error: ShadowMmu.globalconfig.)
/// </summary>
public class HostFrameLintTests
{
    private static readonly string FaultPath = @"
using ShadowMmu;

namespace Consumer
{
    internal static class Fault
    {
        public static bool Run(Vm vm, ulong gfn)
        {
            long mmuSeq = vm.SnapshotMmuInvalidateSeq();
            ulong pfn = vm.Host.Resolve(gfn);
            using (vm.MmuLock.Enter())
            {
                bool checkSequence = vm.SequenceCheck;
                bool stale = checkSequence && vm.MmuInvalidateRetryGfn(mmuSeq, gfn);
                if (stale)
                {
                    return false;
                }

                return Install(pfn);
            }
        }

        private static bool Install(ulong pfn) => pfn != 0;
    }
}".Replace("\r\n", "\n", System.StringComparison.Ordinal);

    [Fact]
    public async Task The_fault_paths_shape_is_clean()
    {
        Assert.Empty(await Lint(FaultPath));
    }

    [Fact]
    public async Task Without_the_sequence_re_check_the_install_is_reported()
    {
        string code = FaultPath.Replace("checkSequence && vm.MmuInvalidateRetryGfn(mmuSeq, gfn)", "checkSequence && mmuSeq < 0", System.StringComparison.Ordinal);
        Diagnostic finding = Assert.Single(await Lint(code));
        Assert.Equal(DiagnosticIds.UncheckedHostFrame, finding.Id);
        Assert.Contains("'pfn' (= 'vm.Host.Resolve(gfn)')", finding.GetMessage());
    }

    [Fact]
    public async Task A_snapshot_taken_after_the_resolution_is_reported()
    {
        string code = FaultPath.Replace(
            "long mmuSeq = vm.SnapshotMmuInvalidateSeq();\n            ulong pfn = vm.Host.Resolve(gfn);",
            "ulong pfn = vm.Host.Resolve(gfn);\n            long mmuSeq = vm.SnapshotMmuInvalidateSeq();",
            System.StringComparison.Ordinal);
        Assert.NotEqual(FaultPath, code);
        Diagnostic finding = Assert.Single(await Lint(code));
        Assert.Equal(DiagnosticIds.UncheckedHostFrame, finding.Id);
        Assert.Contains("snapshotted after the frame was resolved", finding.GetMessage());
    }

    private static async Task<List<Diagnostic>> Lint(string code)
    {
        Compilation compilation = GeneratorHarness.NewCompilation(code);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        var options = new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty, new GeneratorHarness.GlobalOptionsProvider(new Dictionary<string, string>()));
        ImmutableArray<Diagnostic> diagnostics = await compilation
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new MmuLockAnalyzer()), options)
            .GetAnalyzerDiagnosticsAsync();
        Assert.DoesNotContain(diagnostics, d => d.Id == "AD0001");
        return diagnostics.Where(d => d.Id.StartsWith("MMU", System.StringComparison.Ordinal)).ToList();
    }
}
