using System;
using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.IO;
using System.Text;

namespace ShadowMmu.Cli;

/// <summary>
/// Parses and invokes a command tree with this tool's error conventions: a parse error or bad input is one line on
/// stderr and exit code 2 (System.CommandLine's default for parse errors is 1, and it prints help as well); an
/// unexpected failure is one line and exit code 1; never a stack trace.
/// </summary>
internal static class CommandLineHost
{
    /// <summary>Exit code for bad options or bad input.</summary>
    public const int UsageExitCode = 2;

    /// <summary>Exit code for a failure that is not the user's (a bug).</summary>
    public const int InternalErrorExitCode = 1;

    public static int Run(Command root, string[] args, CliContext context)
    {
        try
        {
            ParseResult parsed = root.Parse(args);
            if (parsed.Action is ParseErrorAction)
            {
                string command = CommandPath(parsed.CommandResult);
                string message = FirstError(parsed);
                WriteError(context, $"{message} (see '{command} --help')");
                return UsageExitCode;
            }

            var invocation = new InvocationConfiguration
            {
                Output = context.Out,
                Error = context.Error,
                EnableDefaultExceptionHandler = false,
            };
            return parsed.Invoke(invocation);
        }
        catch (CliUsageException e)
        {
            WriteError(context, e.Message);
            return UsageExitCode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteError(context, e.Message);
            return UsageExitCode;
        }
        catch (Exception e)
        {
            WriteError(context, $"internal error: {e.GetType().Name}: {e.Message}");
            return InternalErrorExitCode;
        }
        finally
        {
            context.Out.Flush();
        }
    }

    /// <summary>Writes <paramref name="message"/> to stderr as one line prefixed with the tool's name.</summary>
    public static void WriteError(CliContext context, string message)
    {
        context.Error.WriteLine("shadowmmu: error: " + OneLine(message));
        context.Error.Flush();
    }

    /// <summary>Line breaks, tabs and runs of spaces in <paramref name="message"/> folded into single spaces.</summary>
    public static string OneLine(string message)
    {
        var line = new StringBuilder(message.Length);
        foreach (char c in message)
        {
            bool space = char.IsWhiteSpace(c);
            if (!space)
            {
                line.Append(c);
            }
            else if (line.Length > 0 && line[^1] != ' ')
            {
                line.Append(' ');
            }
        }

        return line.ToString().TrimEnd();
    }

    /// <summary>
    /// The error to show: a word the parser did not recognize, then a bad value, then the first error (the command's
    /// own checks, such as "--image is required", would otherwise come first and hide a misspelt option).
    /// </summary>
    private static string FirstError(ParseResult parsed)
    {
        // An option nobody knows first, wherever it landed: an argument that took it says so in its own error.
        foreach (ParseError error in parsed.Errors)
        {
            if (error.Message.StartsWith("Unrecognized option", StringComparison.Ordinal))
            {
                return error.Message;
            }
        }

        if (parsed.UnmatchedTokens.Count > 0)
        {
            string token = parsed.UnmatchedTokens[0];
            foreach (string unmatched in parsed.UnmatchedTokens)
            {
                if (unmatched.StartsWith('-'))
                {
                    token = unmatched;
                    break;
                }
            }

            foreach (ParseError error in parsed.Errors)
            {
                if (error.Message.Contains($"'{token}'", StringComparison.Ordinal))
                {
                    return error.Message;
                }
            }

            return $"Unrecognized command or argument '{token}'.";
        }

        // Errors about a token (a bad value) before the checks of a whole command (what is missing).
        foreach (ParseError error in parsed.Errors)
        {
            if (error.SymbolResult is not null and not CommandResult)
            {
                return error.Message;
            }
        }

        return parsed.Errors.Count > 0 ? parsed.Errors[0].Message : "invalid command line";
    }

    private static string CommandPath(CommandResult result)
    {
        string path = result.Command.Name;
        for (SymbolResult? parent = result.Parent; parent is CommandResult command; parent = command.Parent)
        {
            path = command.Command.Name + " " + path;
        }

        return path;
    }
}
