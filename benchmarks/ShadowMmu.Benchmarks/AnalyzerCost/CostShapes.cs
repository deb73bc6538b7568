using System;
using System.Globalization;
using System.Text;

namespace ShadowMmu.Benchmarks.AnalyzerCost;

/// <summary>The shapes of method whose analysis cost the analyzer benchmark and the analyzer's work-count test measure.</summary>
public enum CostShape
{
    /// <summary>KVM's FNAME(fetch): lock regions with the root re-checked, a loop over the levels, a leaf read before the lock.</summary>
    KvmLoop,

    /// <summary>Retry loops made of labels and backward gotos, with a jump back to the start of the method: one big loop.</summary>
    GotoLoop,

    /// <summary>An async method: awaits, lambdas (some taking the lock themselves) and lock regions between them.</summary>
    AsyncLambdas,

    /// <summary>If/else chains and switches with lock regions, no loop: the shape that was already linear.</summary>
    Branches,

    /// <summary>A project: classes each with one method of <see cref="CostShapes.ProjectMethodLines"/> lines, of the shapes above in turn.</summary>
    Project,
}

/// <summary>
/// Generates one C# file holding the ShadowMmu annotations (a source copy: the analyzer matches them by name), a small
/// shadow-MMU model and one class whose single method is about the requested number of lines of <see cref="CostShape"/>.
/// Every hundredth unit uses a guest entry it never re-validates: the method has findings, as real code under review has.
/// </summary>
public static class CostShapes
{
    /// <summary>Units between two planted mistakes.</summary>
    public const int PlantEvery = 100;

    /// <summary>Lines of each method of a <see cref="CostShape.Project"/>.</summary>
    public const int ProjectMethodLines = 2_500;

    /// <summary>The source of a method of about <paramref name="lines"/> lines of <paramref name="shape"/> (of that many lines of methods, for a project).</summary>
    /// <param name="shape">The method's shape.</param>
    /// <param name="lines">About how many lines the method has.</param>
    /// <param name="withAttributes">Whether to declare the annotations in the source (false when the compilation references them).</param>
    public static string Generate(CostShape shape, int lines, bool withAttributes = true)
    {
        var classes = new StringBuilder();
        foreach ((string name, CostShape methodShape, int methodLines) in Methods(shape, lines))
        {
            classes.Append(Class(name, methodShape, methodLines));
        }

        return (withAttributes ? Attributes : string.Empty) + Model + @"
namespace Cost
{
    using System;
    using System.Threading.Tasks;
    using ShadowMmu.Annotations;
" + classes + @"}
";
    }

    /// <summary>How many units of the method <see cref="Generate"/> makes carry a planted mistake (one finding each).</summary>
    public static int Planted(CostShape shape, int lines)
    {
        int planted = 0;
        foreach ((_, CostShape methodShape, int methodLines) in Methods(shape, lines))
        {
            Body(methodShape, methodLines, out int inMethod);
            planted += inMethod;
        }

        return planted;
    }

    /// <summary>The generated classes: one, <c>Generated</c>, for a shape; one per method of a project.</summary>
    private static System.Collections.Generic.IEnumerable<(string Name, CostShape Shape, int Lines)> Methods(CostShape shape, int lines)
    {
        if (shape != CostShape.Project)
        {
            yield return ("Generated", shape, lines);
            yield break;
        }

        for (int i = 0; i * ProjectMethodLines < lines; i++)
        {
            yield return ("Generated" + i.ToString(CultureInfo.InvariantCulture), (CostShape)(i % (int)CostShape.Project), ProjectMethodLines);
        }
    }

    private static string Class(string name, CostShape shape, int lines)
    {
        string body = Body(shape, lines, out _);
        string signature = shape switch
        {
            CostShape.AsyncLambdas => "public async Task<int> Run(Vm vm, Walker walker)",
            _ => "public bool Fetch(Vm vm, ref Walk walk)",
        };
        string start = shape == CostShape.GotoLoop ? "        Start:\n            attempts++;\n            if (attempts > 3) return false;\n" : string.Empty;
        string end = shape == CostShape.AsyncLambdas ? "            return total;\n" : "            return true;\n";
        return @"
    public sealed class " + name + @"
    {
        " + signature + @"
        {
            int attempts = 0;
            int total = 0;
" + start + body + end + @"        }
    }
";
    }

    private static string Body(CostShape shape, int lines, out int planted)
    {
        var body = new StringBuilder();
        int count = 0;
        planted = 0;
        for (int unit = 0; count < lines; unit++)
        {
            bool plant = unit % PlantEvery == PlantEvery - 1;
            planted += plant ? 1 : 0;
            string text = Unit(shape, unit, plant);
            body.Append(text);
            count += text.Split('\n').Length - 1;
        }

        return body.ToString();
    }

    private static string Unit(CostShape shape, int k, bool plant)
    {
        string n = k.ToString(CultureInfo.InvariantCulture);
        int level = k % 4;
        string l = level.ToString(CultureInfo.InvariantCulture);
        switch (shape)
        {
            case CostShape.KvmLoop:
                return @"            {
                int top" + n + @" = walk.MaxLevel;
                ulong leaf" + n + @" = walk.Ptes[0];
                lock (vm.MmuLock)
                {
" + (plant ? string.Empty : "                    if (!Guest.Unchanged(walk.PteGpa[top" + n + " - 1], walk.Ptes[top" + n + " - 1])) return false;\n") + @"                    for (int level = top" + n + @"; level > walk.Level; level--)
                    {
                        vm.Link(walk.Ptes[level - 1]);
                        if (!Guest.Unchanged(walk.PteGpa[level - 2], walk.Ptes[level - 2])) return false;
                    }

                    if (!Guest.Unchanged(walk.PteGpa[0], leaf" + n + @")) return false;
                    vm.SetLeaf(leaf" + n + @", " + l + @");
                }
            }

";

            case CostShape.GotoLoop:
                return @"        Retry" + n + @":
            ulong pte" + n + @" = walk.Ptes[" + l + @"];
            lock (vm.MmuLock)
            {
" + (plant ? string.Empty : "                if (!Guest.Unchanged(walk.PteGpa[" + l + "], pte" + n + ")) goto Retry" + n + ";\n") + @"                vm.Link(pte" + n + @");
            }

            if (walk.Level == " + l + @" && attempts < 2) goto Start;
            if (Guest.Unchanged(walk.PteGpa[" + l + @"], 0)) goto Retry" + n + @";

";

            case CostShape.AsyncLambdas:
                return @"            {
                int n" + n + @" = await Task.FromResult(" + n + @");
                Func<ulong, ulong> frame" + n + @" = pte => (pte & 0xF_FFFF_FFFF_F000UL) + (ulong)n" + n + @";
                ulong pte" + n + @" = walker.Ptes[" + l + @"];
                lock (vm.MmuLock)
                {
" + (plant ? string.Empty : "                    if (!Guest.Unchanged(walker.Gpas[" + l + "], pte" + n + ")) return total;\n") + @"                    vm.Link(frame" + n + @"(pte" + n + @"));
                }

                Action link" + n + @" = () => { lock (vm.MmuLock) { vm.Link((ulong)n" + n + @"); } };
                link" + n + @"();
                total += n" + n + @";
            }

";

            default:
                return @"            if (walk.Level == " + l + @")
            {
                lock (vm.MmuLock)
                {
" + (plant ? string.Empty : "                    if (!Guest.Unchanged(walk.PteGpa[" + l + "], walk.Ptes[" + l + "])) return false;\n") + @"                    vm.Link(walk.Ptes[" + l + @"]);
                }
            }
            else
            {
                switch (walk.MaxLevel)
                {
                    case 4: total += " + n + @"; break;
                    case 5: total -= " + n + @"; break;
                    default: attempts++; break;
                }
            }

";
        }
    }

    private const string Attributes = @"
namespace ShadowMmu.Annotations
{
    using System;

    [AttributeUsage(AttributeTargets.Method)] public sealed class GuestPteReadAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Parameter)] public sealed class UnlockedGuestPteAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Field | AttributeTargets.Property | AttributeTargets.Class | AttributeTargets.Struct)] public sealed class MmuLockAttribute : Attribute { }
    [AttributeUsage(AttributeTargets.Parameter)] public sealed class RevalidatesGuestPteAttribute : Attribute { public bool UnchangedWhen { get; set; } = true; }
    [AttributeUsage(AttributeTargets.Method)] public sealed class RequiresMmuLockAttribute : Attribute { }
}
";

    private const string Model = @"
namespace Cost
{
    using System.Runtime.CompilerServices;
    using ShadowMmu.Annotations;

    [InlineArray(5)]
    public struct LevelValues
    {
        private ulong _level1;
    }

    public struct Walk
    {
        [UnlockedGuestPte] public LevelValues Ptes;
        public LevelValues PteGpa;
        public int Level;
        public int MaxLevel;
    }

    public sealed class Walker
    {
        [UnlockedGuestPte] public ulong[] Ptes = new ulong[5];
        public ulong[] Gpas = new ulong[5];
    }

    public sealed class Vm
    {
        [MmuLock] public object MmuLock { get; } = new object();
        [RequiresMmuLock] public void Link(ulong pte) { }
        [RequiresMmuLock] public void SetLeaf(ulong pte, uint access) { }
    }

    public static class Guest
    {
        public static bool Unchanged(ulong gpa, [RevalidatesGuestPte] ulong pte) => true;
    }
}
";
}
