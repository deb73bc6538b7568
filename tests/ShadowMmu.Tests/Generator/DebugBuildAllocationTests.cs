using System;
using System.Linq;
using System.Reflection;
using Microsoft.CodeAnalysis;
using ShadowMmu.Tests.Paging;
using Xunit;

namespace ShadowMmu.Tests.Generator;

/// <summary>
/// A consumer's Debug build runs the generated walkers without JIT optimizations, where static data that the optimizer
/// folds away (a <c>ReadOnlySpan&lt;ushort&gt;</c> over constants goes through <c>RuntimeHelpers.CreateSpan</c> and a field
/// handle) allocates on every use. The walk must allocate nothing there too.
/// </summary>
public class DebugBuildAllocationTests
{
    /// <summary>Every mode the library ships a spec for.</summary>
    public static TheoryData<string> BuiltInModes => new(PagingModes.All.Select(m => m.Name));

    [Theory]
    [MemberData(nameof(BuiltInModes))]
    public void Walks_generated_into_a_debug_build_allocate_nothing(string modeName)
    {
        var (result, output, _) = GeneratorHarness.Run(("/specs/" + modeName + ".paging", GeneratorHarness.BuiltInSpec(modeName)));
        Assert.DoesNotContain(result.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
        Compilation debug = output.WithOptions(output.Options.WithOptimizationLevel(OptimizationLevel.Debug));
        Assembly assembly = GeneratorHarness.Load(debug);
        Assert.True(assembly.GetCustomAttribute<System.Diagnostics.DebuggableAttribute>()?.IsJITOptimizerDisabled, "the JIT runs this assembly unoptimized");
        Type walkerType = assembly.GetTypes().Single(t => t.Name.EndsWith("Walker", StringComparison.Ordinal) && typeof(IGuestPageWalker).IsAssignableFrom(t));

        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == modeName);
        using GuestMemory memory = GuestMemory.Allocate(0x80_0000);
        var builder = new PageTableBuilder(memory, mode, 0x1000, 0x20_0000);
        builder.Map(0x40_0000, 0x30_0000, 0x1000, 0x7 | 0x60);
        var walker = (IGuestPageWalker)Activator.CreateInstance(walkerType, memory, WalkAllocationTests.StateFor(modeName, builder.Root))!;

        var walk = default(GuestWalk);
        Assert.True(walker.WalkAddr(ref walk, 0x40_0123, AccessKind.Read, 3, false), walk.ToString());
        Assert.Equal(0x30_0123UL, walk.PhysicalAddress);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            walker.WalkAddr(ref walk, 0x40_0123, AccessKind.Read, 3, false);
            walker.WalkAddr(ref walk, 0x40_0123, AccessKind.Write, 0, false);
            walker.WalkAddr(ref walk, 0x40_0123, AccessKind.Fetch, 3, false);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
