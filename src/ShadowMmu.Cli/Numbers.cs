using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace ShadowMmu.Cli;

/// <summary>Numbers as people write register values and addresses: hex with <c>0x</c>, or decimal.</summary>
internal static class Numbers
{
    /// <summary>What <see cref="TryParse"/> accepts, for messages.</summary>
    public const string Expected = "hex with 0x, or decimal";

    /// <summary>
    /// Parses <c>0x1f</c> / <c>0X1F</c> (hex, <c>_</c> allowed between digits, as in <c>0xffff_8000_0000_0000</c>) or
    /// <c>31</c> (decimal) into 64 bits; false for anything else, a sign, or a value over 64 bits.
    /// </summary>
    public static bool TryParse(string? text, out ulong value)
    {
        value = 0;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        ReadOnlySpan<char> s = text.AsSpan();
        if (s.Length > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        {
            s = s[2..];
            if (s.IndexOf('_') >= 0)
            {
                if (s[0] == '_' || s[^1] == '_' || s.IndexOf("__".AsSpan()) >= 0)
                {
                    return false;
                }

                s = s.ToString().Replace("_", string.Empty, StringComparison.Ordinal).AsSpan();
            }

            return s.Length > 0 && IsHex(s) && ulong.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }

        foreach (char c in s)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>
    /// Why <paramref name="text"/> is not a 64-bit number, in words for a message after its quoted text: <c>is not a
    /// number (hex with 0x, or decimal)</c>, or <c>is too big for 64 bits</c>; null when it is one.
    /// </summary>
    public static string? Problem(string? text) =>
        TryParse(text, out _) ? null : IsTooBig(text) ? "is too big for 64 bits" : $"is not a number ({Expected})";

    /// <summary>True when <paramref name="text"/> is written as a number (hex or decimal digits) but does not fit in 64 bits.</summary>
    public static bool IsTooBig(string? text)
    {
        if (string.IsNullOrEmpty(text) || TryParse(text, out _))
        {
            return false;
        }

        bool hex = text.Length > 2 && text[0] == '0' && text[1] is 'x' or 'X';
        string body = (hex ? text[2..] : text).Replace("_", string.Empty, StringComparison.Ordinal);
        return body.Length > 0 && (hex ? IsHex(body) : body.AsSpan().IndexOfAnyExceptInRange('0', '9') < 0);
    }

    /// <summary>Lowercase hex with 0x, as every output of this tool writes numbers.</summary>
    public static string Hex(ulong value) => "0x" + value.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>
    /// An option holding a number written in hex or decimal (<c>--cr3 0x1000</c>); null when not given. Help shows
    /// <paramref name="defaultValue"/> in hex (System.CommandLine would show a default factory's value in decimal).
    /// </summary>
    public static Option<ulong?> HexOption(string name, string description, ulong? defaultValue = null, ulong max = ulong.MaxValue)
    {
        var option = new Option<ulong?>(name)
        {
            Description = defaultValue == null ? description : $"{description} [default: {Hex(defaultValue.Value)}]",
            HelpName = "X",
        };
        option.CustomParser = result => result.Tokens.Count == 0 ? null : ParseToken(result, name, max);
        return option;
    }

    private static ulong ParseToken(ArgumentResult result, string name, ulong max)
    {
        if (result.Tokens.Count == 0)
        {
            return 0;
        }

        string text = result.Tokens[0].Value;
        if (!TryParse(text, out ulong value))
        {
            result.AddError($"{name}: '{text}' {Problem(text)}");
            return 0;
        }

        if (value > max)
        {
            result.AddError($"{name}: {text} does not fit in {(max == uint.MaxValue ? "32" : "the register's")} bits");
            return 0;
        }

        return value;
    }

    private static bool IsHex(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
