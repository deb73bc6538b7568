using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using ShadowMmu.Cli;
using ShadowMmu.Dumps;

namespace ShadowMmu.Tests.Cli.Oracle;

// The batch path as it was before the UTF-8 rewrite (commit d5173a6), kept as the oracle of the differential test
// (TranslateBatchDifferentialTests): JsonDocument per line, Utf8JsonWriter per answer, strings throughout, one thread.
// Only names changed (Legacy*), and the JSON writers moved here from TranslationFormat. Do not improve it.

/// <summary>
/// <c>translate --batch</c>: JSON Lines in, one case per line, JSON Lines out, one answer per case in order. A case
/// that cannot be run is answered <c>{"error": "..."}</c> and the others still are. Blank lines are not cases.
/// </summary>
internal sealed class LegacyBatchTranslator : IDisposable
{
    private readonly WalkSession _session;
    private readonly Dictionary<string, (MemoryDump? Dump, string? Error)> _imagesByName = new(StringComparer.Ordinal);
    private readonly string _baseDirectory;
    private readonly TextWriter _output;
    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private readonly Utf8JsonWriter _json;
    private char[] _chars = new char[1024];
    private Translation _translation;

    /// <param name="baseDirectory">Where relative image paths start: the batch file's folder.</param>
    /// <param name="output">Where the answers go.</param>
    /// <param name="progress">Told how the opening of a dump that must be decompressed goes.</param>
    public LegacyBatchTranslator(string baseDirectory, TextWriter output, Action<long, long>? progress = null)
    {
        _session = new WalkSession(progress);
        _baseDirectory = baseDirectory;
        _output = output;
        _json = new Utf8JsonWriter(_buffer, TranslationFormat.JsonOptions);
    }

    /// <summary>Cases answered with <c>{"error": ...}</c> so far.</summary>
    public int Errors { get; private set; }

    /// <summary>The first such answer's message, for a summary.</summary>
    public string? FirstError { get; private set; }

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
            string message = "line " + lineNumber.ToString(CultureInfo.InvariantCulture) + ": " + error;
            LegacyTranslationJson.WriteError(_json, message);
            FirstError ??= message;
            Errors++;
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
        LegacyBatchCase c;
        try
        {
            using JsonDocument document = JsonDocument.Parse(line);
            string? problem = LegacyBatchCase.TryRead(document.RootElement, out c);
            if (problem != null)
            {
                return problem;
            }
        }
        catch (JsonException e)
        {
            // In the tool's words: .NET's message names a line 0 of a one-line document and its own tokens.
            long at = e.BytePositionInLine ?? 0;
            string where = at >= Encoding.UTF8.GetByteCount(line.TrimEnd())
                ? ": it ends before its object does"
                : " at column " + (at + 1).ToString(CultureInfo.InvariantCulture);
            return line.TrimStart().StartsWith('{')
                ? $"the case is not valid JSON{where} (a case is one JSON object on one line)"
                : "the line is not a JSON object (a case is one JSON object on one line, like {\"image\": \"mem.bin\", \"cr3\": \"0x1000\", \"va\": \"0x401000\"})";
        }

        MemoryDump? dump = Image(c.Image!, out string? imageError);
        if (dump == null)
        {
            return imageError;
        }

        if (c.FromNote)
        {
            // No cr3: the registers are the dump's note for the case's CPU (0 by default), under the ones the case gives.
            if (dump.Cpus.Count == 0 && c.CpuIndex == null)
            {
                return "cr3 is missing (the image holds no CPU notes to take the registers from)";
            }

            CpuState? fromNote = DumpRegisters.Resolve(dump, c.CpuIndex ?? 0, c.Given, out string? noteError);
            if (fromNote == null)
            {
                return noteError;
            }

            c.Cpu = fromNote.Value with { Eptp = c.Cpu.Eptp, ModeBasedExecute = c.Cpu.ModeBasedExecute };
        }

        var request = new TranslateRequest(c.Cpu, c.Va, c.Access, c.Cpl, c.Ac, c.Gpa, c.User, c.Nested, c.Pdptes);
        if (!_session.TryTranslate(dump.Memory, request, ref _translation, out string? error)
            || (error = _session.MissingTable(dump.Memory, _translation)) != null)
        {
            return error;
        }

        LegacyTranslationJson.WriteJson(_json, _translation);
        return null;
    }

    private MemoryDump? Image(string name, out string? error)
    {
        if (!_imagesByName.TryGetValue(name, out (MemoryDump? Dump, string? Error) entry))
        {
            string path = Path.IsPathFullyQualified(name) ? name : Path.Combine(_baseDirectory, name);
            MemoryDump? dump = _session.TryOpenDump(path, out string? openError);
            entry = (dump, openError == null ? null : openError.Replace($"'{path}'", $"'{name}'", StringComparison.Ordinal));
            _imagesByName[name] = entry;
        }

        error = entry.Error;
        return entry.Dump;
    }
}

/// <summary>One batch case as read from its JSON line, missing keys at their defaults.</summary>
internal struct LegacyBatchCase
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
    public PdpteChoice Pdptes;

    // No cr3: the registers come from the dump's note for CpuIndex (0 when not given), with Given over them.
    public bool FromNote;
    public int? CpuIndex;
    public GivenRegisters Given;

    /// <summary>The keys a case may have.</summary>
    public static readonly string[] Keys =
    {
        "image", "cpu", "cr0", "cr3", "cr4", "efer", "pkru", "ac", "cpl", "access", "va", "maxphyaddr", "pdptes", "strict_pae", "eptp", "gpa", "mbec", "user",
    };

    /// <summary>Reads a case; null when it is complete, else why not. An unknown key is an error (a misspelt one would silently take its default).</summary>
    public static string? TryRead(JsonElement root, out LegacyBatchCase c)
    {
        c = default;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return $"a case is a JSON object, not {Kind(root.ValueKind)}";
        }

        ulong? cr0 = null, cr3 = null, cr4 = null, efer = null, pkru = null, maxBits = null, cpu = null, va = null, eptp = null, gpa = null;
        bool mbec = false, strictPae = false;
        PdpteChoice? pdptes = null;
        ulong cpl = TranslateDefaults.Cpl;
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
                case "cpu": problem = Optional(value, "cpu", int.MaxValue, ref cpu); break;
                case "cr0": problem = Optional(value, "cr0", ulong.MaxValue, ref cr0); break;
                case "cr3": problem = Optional(value, "cr3", ulong.MaxValue, ref cr3); break;
                case "cr4": problem = Optional(value, "cr4", ulong.MaxValue, ref cr4); break;
                case "efer": problem = Optional(value, "efer", ulong.MaxValue, ref efer); break;
                case "pkru": problem = Optional(value, "pkru", uint.MaxValue, ref pkru); break;
                case "va": problem = Optional(value, "va", ulong.MaxValue, ref va); break;
                case "eptp": problem = Optional(value, "eptp", ulong.MaxValue, ref eptp); break;
                case "gpa": problem = Optional(value, "gpa", ulong.MaxValue, ref gpa); break;
                case "mbec": problem = Boolean(value, "mbec", ref mbec); break;
                case "user": problem = Boolean(value, "user", ref c.User); break;
                case "maxphyaddr": problem = Optional(value, "maxphyaddr", int.MaxValue, ref maxBits); break;
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
                case "strict_pae": problem = Boolean(value, "strict_pae", ref strictPae); break;
                case "pdptes": problem = ReadPdptes(value, out pdptes); break;
                default: problem = UnknownKey(property.Name); break;
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

        if (pdptes != null && strictPae)
        {
            return "give either pdptes or strict_pae: both say where the PDPTE registers come from";
        }

        if ((pdptes != null || strictPae) && (eptp != null || gpa != null))
        {
            return "pdptes and strict_pae are for a PAE guest's own walk; through EPT its PDPTEs are loaded as the SDM says";
        }

        c.Pdptes = pdptes ?? (strictPae ? new PdpteChoice(PdpteSource.Strict) : PdpteChoice.FromImage);
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

            c.Cpu = new CpuState(0, 0, 0, 0, 0, (int)(maxBits ?? TranslateDefaults.MaxPhysAddr), TranslateDefaults.Features, eptp.Value, mbec);
            c.Va = gpa.Value;
            c.Gpa = true;
            return null;
        }

        if (va == null)
        {
            return "va is missing";
        }

        c.Given = new GivenRegisters(cr0, cr3, cr4, efer, pkru, (int?)maxBits);
        c.CpuIndex = (int?)cpu;
        c.FromNote = cpu != null || cr3 == null;
        c.Cpu = c.Given.WithDefaults(cr3 ?? 0) with { Eptp = eptp ?? 0, ModeBasedExecute = mbec };
        c.Nested = eptp != null;
        c.Va = va.Value;
        c.Cpl = (int)cpl;
        return null;
    }

    // A key the case format does not have, with the known key it was most likely meant to be.
    private static string UnknownKey(string key)
    {
        string? likely = null;
        int best = 3;
        foreach (string known in Keys)
        {
            int distance = EditDistance(key.ToLowerInvariant(), known);
            if (distance < best)
            {
                (best, likely) = (distance, known);
            }
        }

        return likely != null
            ? $"unknown key '{key}' (did you mean '{likely}'?)"
            : $"unknown key '{key}' (a case has: {string.Join(", ", Keys)})";
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

    private static string? ReadPdptes(JsonElement value, out PdpteChoice? pdptes)
    {
        pdptes = null;
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 4)
        {
            return "pdptes: expected an array of the four PDPTE registers";
        }

        var values = new ulong[4];
        for (int i = 0; i < 4; i++)
        {
            string? problem = Number(value[i], "pdptes[" + i.ToString(CultureInfo.InvariantCulture) + "]", ulong.MaxValue, ref values[i]);
            if (problem != null)
            {
                return problem;
            }
        }

        pdptes = new PdpteChoice(PdpteSource.Given, values[0], values[1], values[2], values[3]);
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

    private static string? Optional(JsonElement value, string key, ulong max, ref ulong? result)
    {
        ulong parsed = 0;
        string? problem = Number(value, key, max, ref parsed);
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
                return $"{key}: '{text}' {Numbers.Problem(text)}";
            }
        }
        else if (value.ValueKind != JsonValueKind.Number)
        {
            return $"{key}: expected a non-negative integer or a hex string";
        }
        else if (!value.TryGetUInt64(out parsed))
        {
            string raw = value.GetRawText();
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

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}

/// <summary>The batch answers' JSON as TranslationFormat wrote it before the rewrite.</summary>
internal static class LegacyTranslationJson
{
    /// <summary>
    /// Writes the batch answer for one case:
    /// <c>{"fault", "exception", "error_code", "pa", "page_size", "mode", "pte_updates": [{"pa", "old", "new", "size"}], "level", "va"}</c>.
    /// </summary>
    public static void WriteJson(Utf8JsonWriter json, in Translation t)
    {
        if (t.EptMode != null)
        {
            WriteNestedJson(json, t);
            return;
        }

        if (t.Mode.IsEpt)
        {
            WriteEptJson(json, t);
            return;
        }

        ref readonly GuestWalk walk = ref t.Walk;
        bool fault = walk.Fault != WalkFault.None;
        json.WriteStartObject();
        json.WriteBoolean("fault", fault);
        switch (walk.Fault)
        {
            case WalkFault.None:
                json.WriteNull("exception");
                json.WriteNull("error_code");
                json.WriteString("pa", Numbers.Hex(walk.PhysicalAddress));
                json.WriteNumber("page_size", walk.PageSize);
                break;
            default:
                json.WriteString("exception", walk.Fault == WalkFault.PageFault ? "PF" : "GP");
                json.WriteString("error_code", Numbers.Hex(walk.ErrorCode));
                json.WriteNull("pa");
                json.WriteNull("page_size");
                break;
        }

        json.WriteString("mode", t.Mode.Name);
        WriteUpdates(json, walk, t.Mode, null);
        if (walk.Fault == WalkFault.GeneralProtection)
        {
            json.WriteNull("level");
        }
        else
        {
            json.WriteNumber("level", walk.Level);
        }

        json.WriteString("va", Numbers.Hex(walk.Va));
        if (t.Pae is { } pae)
        {
            // The PDPTE registers the walk used, and the reserved bits of the image's PDPTEs they were read without.
            json.WriteStartArray("pdptes");
            foreach (ulong pdpte in pae.PdpteRegisters)
            {
                json.WriteStringValue(Numbers.Hex(pdpte));
            }

            json.WriteEndArray();
            WriteHexOrNull(json, "pdpte_ignored_bits", t.PdpteIgnoredBits != 0, t.PdpteIgnoredBits);
        }

        json.WriteEndObject();
    }


    /// <summary>
    /// Writes the batch answer for an EPT walk: <c>{"fault", "exit", "exit_qualification", "fault_gpa", "exception",
    /// "error_code", "hpa", "page_size", "mode", "pte_updates", "level", "gpa", "rights", "memory_type", "ipat"}</c>.
    /// </summary>
    private static void WriteEptJson(Utf8JsonWriter json, in Translation t)
    {
        ref readonly GuestWalk walk = ref t.Walk;
        bool fault = walk.Fault != WalkFault.None;
        json.WriteStartObject();
        json.WriteBoolean("fault", fault);
        if (fault)
        {
            json.WriteString("exit", walk.Fault == WalkFault.EptViolation ? "ept_violation" : "ept_misconfig");
        }
        else
        {
            json.WriteNull("exit");
        }

        WriteHexOrNull(json, "exit_qualification", walk.Fault == WalkFault.EptViolation, walk.ErrorCode);
        WriteHexOrNull(json, "fault_gpa", fault, walk.Va);
        json.WriteNull("exception");
        json.WriteNull("error_code");
        WriteHexOrNull(json, "hpa", !fault, walk.PhysicalAddress);
        if (fault)
        {
            json.WriteNull("page_size");
        }
        else
        {
            json.WriteNumber("page_size", walk.PageSize);
        }

        json.WriteString("mode", t.Mode.Name);
        WriteUpdates(json, walk, t.Mode, "ept");
        json.WriteNumber("level", walk.Level);
        json.WriteString("gpa", Numbers.Hex(walk.Va));
        if (fault)
        {
            json.WriteNull("rights");
            json.WriteNull("memory_type");
            json.WriteNull("ipat");
        }
        else
        {
            json.WriteString("rights", EptRights.Format(walk.PteAccess, (walk.PteAccess & EptRights.UserExecute) != 0));
            json.WriteNumber("memory_type", walk.MemoryType);
            json.WriteBoolean("ipat", walk.IgnorePat);
        }

        json.WriteEndObject();
    }

    private static void WriteUpdates(Utf8JsonWriter json, in GuestWalk walk, PagingModeInfo mode, string? dimension)
    {
        json.WriteStartArray("pte_updates");
        for (int i = 0; i < walk.UpdateCount; i++)
        {
            WriteUpdate(json, walk.Updates[i], mode.EntryBytes, dimension);
        }

        json.WriteEndArray();
    }

    private static void WriteHexOrNull(Utf8JsonWriter json, string name, bool present, ulong value)
    {
        if (present)
        {
            json.WriteString(name, Numbers.Hex(value));
        }
        else
        {
            json.WriteNull(name);
        }
    }


    /// <summary>
    /// A two-dimensional walk's batch answer: the EPT-alone fields, with <c>"exception"</c>/<c>"error_code"</c> for the
    /// guest's own faults, <c>"gpa"</c> the guest's translation, <c>"dimension"</c> the one that faulted, and
    /// <c>"pte_updates"</c> listing guest (<c>"table": "guest"</c>, at guest-physical addresses) and EPT entries.
    /// </summary>
    private static void WriteNestedJson(Utf8JsonWriter json, in Translation t)
    {
        ref readonly NestedWalk nested = ref t.Nested;
        ref readonly GuestWalk guest = ref nested.Guest;
        ref readonly GuestWalk ept = ref nested.Ept;
        bool eptFault = nested.Fault == NestedFault.Ept, guestFault = nested.Fault == NestedFault.Guest;
        json.WriteStartObject();
        json.WriteBoolean("fault", nested.Fault != NestedFault.None);
        if (eptFault)
        {
            json.WriteString("exit", ept.Fault == WalkFault.EptViolation ? "ept_violation" : "ept_misconfig");
        }
        else
        {
            json.WriteNull("exit");
        }

        WriteHexOrNull(json, "exit_qualification", eptFault && ept.Fault == WalkFault.EptViolation, ept.ErrorCode);
        WriteHexOrNull(json, "fault_gpa", eptFault, ept.Va);
        if (guestFault)
        {
            json.WriteString("exception", guest.Fault == WalkFault.PageFault ? "PF" : "GP");
            json.WriteString("error_code", Numbers.Hex(guest.ErrorCode));
        }
        else
        {
            json.WriteNull("exception");
            json.WriteNull("error_code");
        }

        bool translated = nested.Fault == NestedFault.None;
        WriteHexOrNull(json, "hpa", translated, nested.HostPhysicalAddress);
        if (translated)
        {
            json.WriteNumber("page_size", guest.PageSize);
        }
        else
        {
            json.WriteNull("page_size");
        }

        json.WriteString("mode", t.EptMode!.Name);
        json.WriteString("guest_mode", t.Mode.Name);
        json.WriteStartArray("pte_updates");
        for (int i = 0; i < guest.UpdateCount; i++)
        {
            WriteUpdate(json, guest.Updates[i], t.Mode.EntryBytes, "guest");
        }

        for (int i = 0; i < nested.EptUpdateCount; i++)
        {
            WriteUpdate(json, nested.EptUpdates[i], 8, "ept");
        }

        json.WriteEndArray();
        json.WriteString("dimension", nested.Fault switch { NestedFault.Guest => "guest", NestedFault.Ept => "ept", _ => null });
        json.WriteBoolean("ept_on_guest_table", nested.EptOnGuestTable);
        json.WriteNumber("level", guest.Level);
        json.WriteString("va", Numbers.Hex(guest.Va));
        WriteHexOrNull(json, "gpa", translated || (eptFault && !nested.EptOnGuestTable), guest.PhysicalAddress);
        json.WriteEndObject();
    }

    private static void WriteUpdate(Utf8JsonWriter json, in PteUpdate update, int size, string? table)
    {
        json.WriteStartObject();
        json.WriteString("pa", Numbers.Hex(update.Gpa));
        json.WriteString("old", Numbers.Hex(update.Old));
        json.WriteString("new", Numbers.Hex(update.New));
        json.WriteNumber("size", size);
        if (table != null)
        {
            json.WriteString("table", table);
        }

        json.WriteEndObject();
    }

    /// <summary>The answer for a case that could not be run: <c>{"error": "..."}</c>.</summary>
    public static void WriteError(Utf8JsonWriter json, string message)
    {
        json.WriteStartObject();
        json.WriteString("error", global::ShadowMmu.Cli.CommandLineHost.OneLine(message));
        json.WriteEndObject();
    }

}
