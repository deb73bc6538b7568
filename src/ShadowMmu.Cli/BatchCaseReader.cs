using System;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace ShadowMmu.Cli;

/// <summary>
/// Reads one batch line, UTF-8 JSON, into a <see cref="BatchCase"/> with <see cref="Utf8JsonReader"/>: no document, and
/// no string unless something must be said about the line or a value was written in an unusual way (escaped, with
/// <c>_</c> between hex digits). A line must be one JSON value as a whole before anything in it is judged, so a
/// problem with a key is kept while the rest of the line is read, and a syntax error anywhere wins.
/// </summary>
/// <remarks>
/// A batch's lines mostly differ in their address alone. The reader keeps the last few lines it read in full without a
/// problem (a batch may alternate between vCPUs or kinds of access), and where their address's value was: a line with
/// the same bytes as one of them before that value and after it, and a plain number in its place (digits, and hex
/// digits after <c>0x</c> in a string), is that case with that address, and is not read again. Anything else is read
/// in full.
/// </remarks>
internal sealed class BatchCaseReader
{
    private static readonly string[] PdpteKeys = { "pdptes[0]", "pdptes[1]", "pdptes[2]", "pdptes[3]" };

    private readonly BatchImages.Cache _images;

    // The last lines read in full without a problem and with a plain address, the most recently used first.
    private readonly Template[] _templates = { new(), new(), new(), new(), new(), new(), new(), new() };

    // Where the value of the last va and gpa read lies in the line being read, -1 where not plain.
    private int _vaStart, _vaEnd, _gpaStart, _gpaEnd;
    private bool _vaIsString, _gpaIsString;

    public BatchCaseReader(BatchImages images)
    {
        _images = new BatchImages.Cache(images);
    }

    private enum Key
    {
        Unknown,
        Image,
        Cpu,
        Cr0,
        Cr3,
        Cr4,
        Efer,
        Pkru,
        Ac,
        Cpl,
        Access,
        Va,
        MaxPhysAddr,
        Pdptes,
        StrictPae,
        Eptp,
        Gpa,
        Mbec,
        User,
    }

    /// <summary>Reads a case from <paramref name="line"/> (valid UTF-8, not blank); null when it is complete, else why not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public string? TryRead(ReadOnlySpan<byte> line, out BatchCase c)
    {
        if (TryRepeat(line, out c))
        {
            return null;
        }

        string? problem = TryReadWhole(line, out c);
        Remember(line, problem == null ? c : default, problem == null);
        return problem;
    }

    // A remembered case again with another address, when the line differs from its line only in its address's value.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryRepeat(ReadOnlySpan<byte> line, out BatchCase c)
    {
        for (int i = 0; i < _templates.Length; i++)
        {
            Template t = _templates[i];
            int tail = t.Length - t.AddressEnd;
            if (t.AddressStart < 0 || line.Length <= t.AddressStart + tail)
            {
                continue;
            }

            ReadOnlySpan<byte> previous = t.Line.AsSpan(0, t.Length);
            ReadOnlySpan<byte> value = line[t.AddressStart..^tail];
            if (line[..t.AddressStart].SequenceEqual(previous[..t.AddressStart]) && line[^tail..].SequenceEqual(previous[t.AddressEnd..])
                && IsPlainNumber(value, t.AddressIsString) && TryParsePlain(value, out ulong address))
            {
                MoveToFront(i);
                c = t.Case;
                c.Va = address;
                return true;
            }
        }

        c = default;
        return false;
    }

    // A value that keeps the line the same JSON: hex digits and x in a string; in a number, digits without a leading 0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsPlainNumber(ReadOnlySpan<byte> value, bool inString) => inString
        ? !value.ContainsAnyExcept(PlainStringBytes)
        : !value.ContainsAnyExceptInRange((byte)'0', (byte)'9') && (value.Length == 1 || value[0] != '0');

    private static readonly System.Buffers.SearchValues<byte> PlainStringBytes = System.Buffers.SearchValues.Create("0123456789abcdefABCDEFxX"u8);

    // Keeps a line read in full in place of the least recently used one, when it had no problem and a plain address.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Remember(ReadOnlySpan<byte> line, in BatchCase c, bool complete)
    {
        (int start, int end, bool inString) = c.Gpa ? (_gpaStart, _gpaEnd, _gpaIsString) : (_vaStart, _vaEnd, _vaIsString);
        if (!complete || start < 0)
        {
            return;
        }

        Template t = _templates[^1];
        if (t.Line.Length < line.Length)
        {
            t.Line = new byte[Math.Max(line.Length, 2 * t.Line.Length)];
        }

        line.CopyTo(t.Line);
        (t.Length, t.Case, t.AddressStart, t.AddressEnd, t.AddressIsString) = (line.Length, c, start, end, inString);
        MoveToFront(_templates.Length - 1);
    }

    private void MoveToFront(int i)
    {
        Template t = _templates[i];
        Array.Copy(_templates, 0, _templates, 1, i);
        _templates[0] = t;
    }

    /// <summary>Reads <paramref name="line"/> in full, whatever the last line was (<see cref="TryRead"/> without its shortcut).</summary>
    internal string? TryReadWhole(ReadOnlySpan<byte> line, out BatchCase c)
    {
        c = default;
        (_vaStart, _gpaStart) = (-1, -1);
        c.Access = TranslateDefaults.Access;
        var fields = new BatchCaseFields { Cpl = TranslateDefaults.Cpl };
        string? problem = null;
        var reader = new Utf8JsonReader(line, isFinalBlock: true, state: default);
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                problem = $"a case is a JSON object, not {Kind(reader.TokenType)}";
                reader.Skip();
            }
            else
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    Key key = reader.ValueIsEscaped ? KeyOf(reader.GetString()!) : KeyOf(reader.ValueSpan);
                    string? unknown = key == Key.Unknown && problem == null ? reader.GetString() : null;
                    reader.Read();
                    if (problem != null || reader.TokenType == JsonTokenType.Null)
                    {
                        // null is the same as missing; after a problem the rest is only read to see that it is JSON.
                        reader.Skip();
                        continue;
                    }

                    if (unknown != null)
                    {
                        reader.Skip();
                        problem = UnknownKey(unknown);
                    }
                    else
                    {
                        problem = Value(ref reader, key, ref fields, ref c);
                    }
                }
            }

            // Anything but white space after the object is an error the reader throws.
            reader.Read();
        }
        catch (JsonException e)
        {
            return NotJson(line, e);
        }

        return problem ?? fields.Complete(ref c);
    }

    // The value of one known key, the reader on its first token; leaves the reader on its last.
    private string? Value(ref Utf8JsonReader reader, Key key, ref BatchCaseFields f, ref BatchCase c)
    {
        switch (key)
        {
            case Key.Image:
                if (reader.TokenType != JsonTokenType.String || reader.ValueSpan.IsEmpty)
                {
                    reader.Skip();
                    return "image: expected a file name";
                }

                c.Image = reader.ValueIsEscaped ? _images.Id(reader.GetString()!) : _images.Id(reader.ValueSpan);
                f.HasImage = true;
                return null;
            case Key.Cpu: return Optional(ref reader, "cpu", int.MaxValue, ref f.Cpu);
            case Key.Cr0: return Optional(ref reader, "cr0", ulong.MaxValue, ref f.Cr0);
            case Key.Cr3: return Optional(ref reader, "cr3", ulong.MaxValue, ref f.Cr3);
            case Key.Cr4: return Optional(ref reader, "cr4", ulong.MaxValue, ref f.Cr4);
            case Key.Efer: return Optional(ref reader, "efer", ulong.MaxValue, ref f.Efer);
            case Key.Pkru: return Optional(ref reader, "pkru", uint.MaxValue, ref f.Pkru);
            case Key.Va:
                (_vaStart, _vaEnd, _vaIsString) = PlainValue(ref reader);
                return Optional(ref reader, "va", ulong.MaxValue, ref f.Va);
            case Key.Eptp: return Optional(ref reader, "eptp", ulong.MaxValue, ref f.Eptp);
            case Key.Gpa:
                (_gpaStart, _gpaEnd, _gpaIsString) = PlainValue(ref reader);
                return Optional(ref reader, "gpa", ulong.MaxValue, ref f.Gpa);
            case Key.Mbec: return Boolean(ref reader, "mbec", ref f.Mbec);
            case Key.User: return Boolean(ref reader, "user", ref c.User);
            case Key.MaxPhysAddr: return Optional(ref reader, "maxphyaddr", int.MaxValue, ref f.MaxBits);
            case Key.Cpl:
                string? problem = Number(ref reader, "cpl", ulong.MaxValue, ref f.Cpl);
                return problem == null && f.Cpl > 3 ? $"cpl: {f.Cpl} is not a privilege level (0 to 3; 3 is user mode)" : problem;
            case Key.Ac: return Boolean(ref reader, "ac", ref c.Ac);
            case Key.Access:
                if (reader.TokenType != JsonTokenType.String || !TryParseAccess(ref reader, out c.Access))
                {
                    reader.Skip();
                    return "access: expected \"read\", \"write\" or \"fetch\"";
                }

                return null;
            case Key.StrictPae: return Boolean(ref reader, "strict_pae", ref f.StrictPae);
            default: return ReadPdptes(ref reader, out f.Pdptes);
        }
    }

    // Where a string's content or a number token lies in the line, when it is written plainly; start -1 otherwise.
    private static (int Start, int End, bool InString) PlainValue(ref Utf8JsonReader reader)
    {
        int start = (int)reader.TokenStartIndex;
        return reader.TokenType switch
        {
            JsonTokenType.String when !reader.ValueIsEscaped => (start + 1, start + 1 + reader.ValueSpan.Length, true),
            JsonTokenType.Number => (start, start + reader.ValueSpan.Length, false),
            _ => (-1, 0, false),
        };
    }

    private static bool TryParseAccess(ref Utf8JsonReader reader, out AccessKind access)
    {
        if (reader.ValueIsEscaped)
        {
            return TranslateDefaults.TryParseAccess(reader.GetString(), out access);
        }

        ReadOnlySpan<byte> text = reader.ValueSpan;
        (bool known, access) = text.SequenceEqual("read"u8) ? (true, AccessKind.Read)
            : text.SequenceEqual("write"u8) ? (true, AccessKind.Write)
            : text.SequenceEqual("fetch"u8) ? (true, AccessKind.Fetch)
            : (false, TranslateDefaults.Access);
        return known;
    }

    private static Key KeyOf(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 when name.SequenceEqual("va"u8) => Key.Va,
        2 when name.SequenceEqual("ac"u8) => Key.Ac,
        3 when name.SequenceEqual("cr3"u8) => Key.Cr3,
        3 when name.SequenceEqual("cr0"u8) => Key.Cr0,
        3 when name.SequenceEqual("cr4"u8) => Key.Cr4,
        3 when name.SequenceEqual("cpu"u8) => Key.Cpu,
        3 when name.SequenceEqual("cpl"u8) => Key.Cpl,
        3 when name.SequenceEqual("gpa"u8) => Key.Gpa,
        4 when name.SequenceEqual("efer"u8) => Key.Efer,
        4 when name.SequenceEqual("pkru"u8) => Key.Pkru,
        4 when name.SequenceEqual("eptp"u8) => Key.Eptp,
        4 when name.SequenceEqual("mbec"u8) => Key.Mbec,
        4 when name.SequenceEqual("user"u8) => Key.User,
        5 when name.SequenceEqual("image"u8) => Key.Image,
        6 when name.SequenceEqual("access"u8) => Key.Access,
        6 when name.SequenceEqual("pdptes"u8) => Key.Pdptes,
        10 when name.SequenceEqual("maxphyaddr"u8) => Key.MaxPhysAddr,
        10 when name.SequenceEqual("strict_pae"u8) => Key.StrictPae,
        _ => Key.Unknown,
    };

    private static Key KeyOf(string name) => KeyOf(Encoding.UTF8.GetBytes(name));

    // A key the case format does not have, with the known key it was most likely meant to be.
    private static string UnknownKey(string key)
    {
        string? likely = null;
        int best = 3;
        foreach (string known in BatchCase.Keys)
        {
            int distance = EditDistance(key.ToLowerInvariant(), known);
            if (distance < best)
            {
                (best, likely) = (distance, known);
            }
        }

        return likely != null
            ? $"unknown key '{key}' (did you mean '{likely}'?)"
            : $"unknown key '{key}' (a case has: {string.Join(", ", BatchCase.Keys)})";
    }

    private static int EditDistance(string a, string b)
    {
        var row = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            row[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }

        return row[b.Length];
    }

    // The array's length is judged before its elements, as a whole array would be; then the first bad element.
    private static string? ReadPdptes(ref Utf8JsonReader reader, out PdpteChoice? pdptes)
    {
        pdptes = null;
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return "pdptes: expected an array of the four PDPTE registers";
        }

        Span<ulong> values = stackalloc ulong[4];
        string? problem = null;
        int count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (count < 4 && problem == null)
            {
                problem = Number(ref reader, PdpteKeys[count], ulong.MaxValue, ref values[count]);
            }
            else
            {
                reader.Skip();
            }

            count++;
        }

        if (count != 4)
        {
            return "pdptes: expected an array of the four PDPTE registers";
        }

        if (problem != null)
        {
            return problem;
        }

        pdptes = new PdpteChoice(PdpteSource.Given, values[0], values[1], values[2], values[3]);
        return null;
    }

    private static string? Boolean(ref Utf8JsonReader reader, string key, ref bool result)
    {
        if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
        {
            reader.Skip();
            return key + ": expected true or false";
        }

        result = reader.TokenType == JsonTokenType.True;
        return null;
    }

    private static string? Optional(ref Utf8JsonReader reader, string key, ulong max, ref ulong? result)
    {
        ulong parsed = 0;
        string? problem = Number(ref reader, key, max, ref parsed);
        if (problem == null)
        {
            result = parsed;
        }

        return problem;
    }

    // A number as a JSON integer or a string in Numbers' forms; leaves the reader on the value's last token.
    private static string? Number(ref Utf8JsonReader reader, string key, ulong max, ref ulong result)
    {
        ulong parsed;
        if (reader.TokenType == JsonTokenType.String)
        {
            if (reader.ValueIsEscaped || !TryParsePlain(reader.ValueSpan, out parsed))
            {
                string text = reader.GetString()!;
                if (!Numbers.TryParse(text, out parsed))
                {
                    return $"{key}: '{text}' {Numbers.Problem(text)}";
                }
            }
        }
        else if (reader.TokenType != JsonTokenType.Number)
        {
            reader.Skip();
            return $"{key}: expected a non-negative integer or a hex string";
        }
        else if (!reader.TryGetUInt64(out parsed))
        {
            string raw = Encoding.UTF8.GetString(reader.ValueSpan);
            return raw.StartsWith('-') ? $"{key}: {raw} is negative"
                : raw.AsSpan().IndexOfAny(".eE") >= 0 ? $"{key}: {raw} is not a whole number"
                : $"{key}: {raw} is too big for 64 bits";
        }

        if (parsed > max)
        {
            return $"{key}: {Numbers.Hex(parsed)} is too large";
        }

        result = parsed;
        return null;
    }

    /// <summary>
    /// The forms of <see cref="Numbers.TryParse"/> that need no string: <c>0x</c> and 1 to 16 hex digits, or 1 to 19
    /// decimal digits (all of which fit 64 bits). False for anything else, which <see cref="Numbers.TryParse"/> judges.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TryParsePlain(ReadOnlySpan<byte> text, out ulong value)
    {
        value = 0;
        if (text.Length > 2 && text[0] == '0' && (text[1] | 0x20) == 'x')
        {
            if (text.Length > 18)
            {
                return false;
            }

            for (int i = 2; i < text.Length; i++)
            {
                int digit = HexDigit(text[i]);
                if (digit < 0)
                {
                    return false;
                }

                value = (value << 4) | (uint)digit;
            }

            return true;
        }

        if (text.Length is 0 or > 19)
        {
            return false;
        }

        foreach (byte b in text)
        {
            if ((uint)(b - '0') > 9)
            {
                return false;
            }

            value = (value * 10) + (uint)(b - '0');
        }

        return true;
    }

    /// <summary>A line read in full, its case, and where the value of its address (va, or gpa for EPT alone) lies in it.</summary>
    private sealed class Template
    {
        public byte[] Line = new byte[256];
        public int Length;
        public BatchCase Case;

        /// <summary>[AddressStart, AddressEnd): a string's content or a number token; -1: no line kept.</summary>
        public int AddressStart = -1;
        public int AddressEnd;
        public bool AddressIsString;
    }

    private static int HexDigit(byte b) =>
        (uint)(b - '0') <= 9 ? b - '0' : (uint)((b | 0x20) - 'a') <= 5 ? (b | 0x20) - 'a' + 10 : -1;

    // The reader's error in the tool's words: .NET's message names a line 0 of a one-line document and its own tokens.
    private static string NotJson(ReadOnlySpan<byte> utf8, JsonException e)
    {
        string line = Encoding.UTF8.GetString(utf8);
        long at = e.BytePositionInLine ?? 0;
        string where = at >= Encoding.UTF8.GetByteCount(line.TrimEnd())
            ? ": it ends before its object does"
            : " at column " + (at + 1).ToString(CultureInfo.InvariantCulture);
        return line.TrimStart().StartsWith('{')
            ? $"the case is not valid JSON{where} (a case is one JSON object on one line)"
            : "the line is not a JSON object (a case is one JSON object on one line, like {\"image\": \"mem.bin\", \"cr3\": \"0x1000\", \"va\": \"0x401000\"})";
    }

    private static string Kind(JsonTokenType kind) => kind switch
    {
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        _ => "null",
    };
}
