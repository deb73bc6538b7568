using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;

namespace ShadowMmu.Cli;

/// <summary>
/// <c>--version</c>: this tool's version. System.CommandLine's own action prints the entry assembly's, which is not
/// this one when the tool runs in-process (a test host).
/// </summary>
internal sealed class VersionAction : SynchronousCommandLineAction
{
    /// <summary>The informational version of the tool's assembly (<c>0.1.0+commit</c>).</summary>
    public static string Version =>
        typeof(VersionAction).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(VersionAction).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    /// <inheritdoc/>
    public override int Invoke(ParseResult parseResult)
    {
        parseResult.InvocationConfiguration.Output.WriteLine(Version);
        return 0;
    }
}
