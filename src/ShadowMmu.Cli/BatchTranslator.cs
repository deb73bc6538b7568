using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;

namespace ShadowMmu.Cli;

/// <summary>
/// <c>translate --batch</c>: JSON Lines in, one case per line, JSON Lines out, one answer per case in order. A case
/// that cannot be run is answered <c>{"error": "..."}</c> and the others still are. Blank lines are not cases.
/// </summary>
internal sealed class BatchTranslator : IDisposable
{
    private readonly WalkSession _session = new();
    private readonly Dictionary<string, (GuestMemory? Memory, string? Error)> _imagesByName = new(StringComparer.Ordinal);
    private readonly string _baseDirectory;
    private readonly TextWriter _output;
    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private readonly Utf8JsonWriter _json;
    private char[] _chars = new char[1024];
    private Translation _translation;

    /// <param name="baseDirectory">Where relative image paths start: the batch file's folder.</param>
    /// <param name="output">Where the answers go.</param>
    public BatchTranslator(string baseDirectory, TextWriter output)
    {
        _baseDirectory = baseDirectory;
        _output = output;
        _json = new Utf8JsonWriter(_buffer, TranslationFormat.JsonOptions);
    }

    /// <summary>Answers every case in <paramref name="input"/>; returns the number of cases.</summary>
    public int Run(TextReader input)
    {
        int cases = 0;
        int lineNumber = 0;
        for (string? line = input.ReadLine(); line != null; line = input.ReadLine())
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            cases++;
            Answer(line, lineNumber);
        }

        return cases;
    }

    /// <summary>Answers one case.</summary>
    public void Answer(string line, int lineNumber)
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        string? error = TryAnswer(line);
        if (error != null)
        {
            _buffer.ResetWrittenCount();
            _json.Reset(_buffer);
            TranslationFormat.WriteError(_json, "line " + lineNumber.ToString(CultureInfo.InvariantCulture) + ": " + error);
        }

        _json.Flush();
        ReadOnlySpan<byte> bytes = _buffer.WrittenSpan;
        if (_chars.Length < bytes.Length)
        {
            _chars = new char[Math.Max(bytes.Length, _chars.Length * 2)];
        }

        int count = Encoding.UTF8.GetChars(bytes, _chars);
        _output.Write(_chars, 0, count);
        _output.Write('\n');
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _json.Dispose();
        _session.Dispose();
    }

    private string? TryAnswer(string line)
    {
        BatchCase c;
        try
        {
            using JsonDocument document = JsonDocument.Parse(line);
            string? problem = BatchCase.TryRead(document.RootElement, out c);
            if (problem != null)
            {
                return problem;
            }
        }
        catch (JsonException e)
        {
            return "not a JSON object: " + e.Message;
        }

        GuestMemory? memory = Image(c.Image!, out string? imageError);
        if (memory == null)
        {
            return imageError;
        }

        var request = new TranslateRequest(c.Cpu, c.Va, c.Access, c.Cpl, c.Ac, c.Gpa, c.User, c.Nested);
        if (!_session.TryTranslate(memory, request, ref _translation, out string? error))
        {
            return error;
        }

        TranslationFormat.WriteJson(_json, _translation);
        return null;
    }

    private GuestMemory? Image(string name, out string? error)
    {
        if (!_imagesByName.TryGetValue(name, out (GuestMemory? Memory, string? Error) entry))
        {
            string path = Path.IsPathFullyQualified(name) ? name : Path.Combine(_baseDirectory, name);
            GuestMemory? memory = _session.TryOpenImage(path, out string? openError);
            entry = (memory, openError == null ? null : openError.Replace($"'{path}'", $"'{name}'", StringComparison.Ordinal));
            _imagesByName[name] = entry;
        }

        error = entry.Error;
        return entry.Memory;
    }
}

/// <summary>One batch case as read from its JSON line, missing keys at their defaults.</summary>
internal struct BatchCase
{
    public string? Image;
    public CpuState Cpu;
    public ulong Va;
    public AccessKind Access;
    public int Cpl;
    public bool Ac;
    public bool Gpa;
    public bool User;
    public bool Nested;

    /// <summary>Reads a case; null when it is complete, else why not. Unknown keys are ignored.</summary>
    public static string? TryRead(JsonElement root, out BatchCase c)
    {
        c = default;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return $"a case is a JSON object, not {Kind(root.ValueKind)}";
        }

        ulong cr0 = TranslateDefaults.Cr0, cr4 = TranslateDefaults.Cr4, efer = TranslateDefaults.Efer, pkru = TranslateDefaults.Pkru;
        ulong? cr3 = null, va = null, eptp = null, gpa = null;
        bool mbec = false;
        ulong maxPhysAddr = TranslateDefaults.MaxPhysAddr, cpl = TranslateDefaults.Cpl;
        c.Access = TranslateDefaults.Access;
        c.Ac = false;

        foreach (JsonProperty property in root.EnumerateObject())
        {
            JsonElement value = property.Value;
            if (value.ValueKind == JsonValueKind.Null)
            {
                continue; // null is the same as missing
            }

            string? problem = null;
            switch (property.Name)
            {
                case "image":
                    if (value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(value.GetString()))
                    {
                        problem = "image: expected a file name";
                    }
                    else
                    {
                        c.Image = value.GetString();
                    }

                    break;
                case "cr0": problem = Number(value, "cr0", ulong.MaxValue, ref cr0); break;
                case "cr3": problem = Optional(value, "cr3", ref cr3); break;
                case "cr4": problem = Number(value, "cr4", ulong.MaxValue, ref cr4); break;
                case "efer": problem = Number(value, "efer", ulong.MaxValue, ref efer); break;
                case "pkru": problem = Number(value, "pkru", uint.MaxValue, ref pkru); break;
                case "va": problem = Optional(value, "va", ref va); break;
                case "eptp": problem = Optional(value, "eptp", ref eptp); break;
                case "gpa": problem = Optional(value, "gpa", ref gpa); break;
                case "mbec": problem = Boolean(value, "mbec", ref mbec); break;
                case "user": problem = Boolean(value, "user", ref c.User); break;
                case "maxphyaddr": problem = Number(value, "maxphyaddr", int.MaxValue, ref maxPhysAddr); break;
                case "cpl":
                    problem = Number(value, "cpl", ulong.MaxValue, ref cpl);
                    if (problem == null && cpl > 3)
                    {
                        problem = $"cpl: {cpl} is not a privilege level (0 to 3; 3 is user mode)";
                    }

                    break;
                case "ac":
                    if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    {
                        c.Ac = value.GetBoolean();
                    }
                    else
                    {
                        problem = "ac: expected true or false";
                    }

                    break;
                case "access":
                    if (value.ValueKind != JsonValueKind.String || !TranslateDefaults.TryParseAccess(value.GetString(), out c.Access))
                    {
                        problem = "access: expected \"read\", \"write\" or \"fetch\"";
                    }

                    break;
            }

            if (problem != null)
            {
                return problem;
            }
        }

        if (c.Image == null)
        {
            return "image is missing";
        }

        if (gpa != null)
        {
            // EPT alone: the guest's registers do not take part.
            if (eptp == null)
            {
                return "gpa is walked through EPT: eptp is missing";
            }

            if (va != null)
            {
                return "give either gpa (EPT alone) or va, not both";
            }

            c.Cpu = new CpuState(0, 0, 0, 0, 0, (int)Math.Min(maxPhysAddr, int.MaxValue), TranslateDefaults.Features, eptp.Value, mbec);
            c.Va = gpa.Value;
            c.Gpa = true;
            return null;
        }

        if (cr3 == null)
        {
            return "cr3 is missing";
        }

        if (va == null)
        {
            return "va is missing";
        }

        c.Cpu = new CpuState(cr0, cr3.Value, cr4, efer, (uint)pkru, (int)maxPhysAddr, TranslateDefaults.Features, eptp ?? 0, mbec);
        c.Nested = eptp != null;
        c.Va = va.Value;
        c.Cpl = (int)cpl;
        return null;
    }

    private static string? Boolean(JsonElement value, string key, ref bool result)
    {
        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return key + ": expected true or false";
        }

        result = value.GetBoolean();
        return null;
    }

    private static string? Optional(JsonElement value, string key, ref ulong? result)
    {
        ulong parsed = 0;
        string? problem = Number(value, key, ulong.MaxValue, ref parsed);
        if (problem == null)
        {
            result = parsed;
        }

        return problem;
    }

    private static string? Number(JsonElement value, string key, ulong max, ref ulong result)
    {
        ulong parsed;
        if (value.ValueKind == JsonValueKind.String)
        {
            string? text = value.GetString();
            if (!Numbers.TryParse(text, out parsed))
            {
                return $"{key}: '{text}' is not a number ({Numbers.Expected})";
            }
        }
        else if (value.ValueKind != JsonValueKind.Number || !value.TryGetUInt64(out parsed))
        {
            return $"{key}: expected a non-negative integer or a hex string";
        }

        if (parsed > max)
        {
            return $"{key}: {Numbers.Hex(parsed)} is too large";
        }

        result = parsed;
        return null;
    }

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
