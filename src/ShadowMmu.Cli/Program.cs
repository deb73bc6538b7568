using System;
using System.CommandLine;
using System.CommandLine.Help;
using System.IO;
using System.Text;

namespace ShadowMmu.Cli;

/// <summary>
/// The <c>shadowmmu</c> tool: wires its commands together. Each command lives in its own file and is added here
/// with one line; <see cref="CommandLineHost"/> does parsing, error reporting and exit codes for all of them.
/// </summary>
public static class Program
{
    /// <summary>Process entry: standard streams, output buffered (flushed before exit).</summary>
    public static int Main(string[] args)
    {
        using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16) { AutoFlush = false };
        var context = new CliContext(stdout, Console.Error, Console.In, !Console.IsErrorRedirected, Console.OpenStandardInput);
        int exitCode = CommandLineHost.Run(BuildRoot(context), args, context);
        stdout.Flush();
        return exitCode;
    }

    /// <summary>Runs the tool in-process: what <c>shadowmmu ARGS</c> would print and return.</summary>
    /// <param name="args">The arguments after the program name.</param>
    /// <param name="stdout">Where results go.</param>
    /// <param name="stderr">Where the one-line error goes.</param>
    /// <param name="stdin">What <c>--batch -</c> reads (standard input when null).</param>
    /// <returns>The exit code: 0 ok, 2 bad input, 1 an internal error.</returns>
    /// <param name="errorIsTerminal">True when <paramref name="stderr"/> is a terminal (progress lines go there).</param>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, TextReader? stdin = null, bool errorIsTerminal = false)
    {
        var context = new CliContext(stdout, stderr, stdin ?? Console.In, errorIsTerminal);
        return CommandLineHost.Run(BuildRoot(context), args, context);
    }

    /// <summary>The root command with every subcommand. Add a command here.</summary>
    internal static Command BuildRoot(CliContext context) => new("shadowmmu", Description)
    {
        // A plain command rather than RootCommand, whose name is the executable's file name (ShadowMmu.Cli, testhost).
        new HelpOption(),
        new VersionOption { Action = new VersionAction() },
        SimulateCommand.Create(context),
        TranslateCommand.Create(context),
        MapsCommand.Create(context),
        ReadCommand.Create(context),
        RootsCommand.Create(context),
        ExampleImageCommand.Create(context),
    };

    private const string Description =
        "ShadowMmu: a model of a KVM-style shadow MMU whose x86 and EPT page walks are generated from the Intel SDM's "
        + "paging modes. 'simulate' is the main job: vCPU threads fault through the shadow MMU while guest threads rewrite "
        + "their page tables, and an audit checks every shadow entry (run it with no options for the default workload). "
        + "'translate', 'maps' and 'read' work on a guest's memory image (raw, ELF core, kdump, LiME) as the CPU that ran it "
        + "did: one address, every mapped page, the bytes of a range; 'roots' finds the address spaces in an image whose registers "
        + "are not known; 'example-image' writes a small image to try them on.";
}
