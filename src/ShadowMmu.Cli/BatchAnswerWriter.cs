using System;
using System.Buffers;
using System.Buffers.Text;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace ShadowMmu.Cli;

/// <summary>
/// Writes batch answers as UTF-8 JSON lines straight into a byte buffer: numbers and hex formatted in place, every
/// name a constant, so that an answer costs no string. The bytes are what <see cref="System.Text.Json.Utf8JsonWriter"/>
/// with <see cref="TranslationFormat.JsonOptions"/> wrote for the same fields in the same order (compact, nothing
/// these answers hold needs escaping); an error's message, which quotes the user's input, still goes through it.
/// </summary>
internal sealed class BatchAnswerWriter
{
    // The longest answer: a two-dimensional walk with 8 guest and 32 EPT updates of about 90 bytes each.
    private const int MaxAnswer = 8192;

    private readonly Utf8JsonWriter _json = new(new ArrayBufferWriter<byte>(), TranslationFormat.JsonOptions);
    private readonly byte[]?[] _eptRights = new byte[]?[EptRights.All + 1];
    private PagingModeInfo? _lastMode;
    private byte[] _lastModeName = Array.Empty<byte>();

    /// <summary>Appends the answer for one case and its line break to <paramref name="buffer"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Answer(ArrayBufferWriter<byte> buffer, in Translation t)
    {
        var line = new Line(buffer.GetSpan(MaxAnswer));
        if (t.EptMode != null)
        {
            Nested(ref line, t);
        }
        else if (t.Mode.IsEpt)
        {
            Ept(ref line, t);
        }
        else
        {
            Guest(ref line, t);
        }

        line.Byte((byte)'\n');
        buffer.Advance(line.Length);
    }

    /// <summary>Appends <c>{"error": message}</c> (on one line) and its line break to <paramref name="buffer"/>.</summary>
    public void Error(ArrayBufferWriter<byte> buffer, string message)
    {
        _json.Reset(buffer);
        _json.WriteStartObject();
        _json.WriteString("error", CommandLineHost.OneLine(message));
        _json.WriteEndObject();
        _json.Flush();
        buffer.GetSpan(1)[0] = (byte)'\n';
        buffer.Advance(1);
    }

    // {"fault", "exception", "error_code", "pa", "page_size", "mode", "pte_updates": [{"pa", "old", "new", "size"}], "level", "va"}
    // and for PAE "pdptes", "pdpte_ignored_bits".
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Guest(ref Line line, in Translation t)
    {
        ref readonly GuestWalk walk = ref t.Walk;
        if (walk.Fault == WalkFault.None)
        {
            line.Raw("{\"fault\":false,\"exception\":null,\"error_code\":null,\"pa\":"u8);
            line.QuotedHex(walk.PhysicalAddress);
            line.Raw(",\"page_size\":"u8);
            line.Decimal(walk.PageSize);
        }
        else
        {
            line.Raw(walk.Fault == WalkFault.PageFault ? "{\"fault\":true,\"exception\":\"PF\",\"error_code\":"u8 : "{\"fault\":true,\"exception\":\"GP\",\"error_code\":"u8);
            line.QuotedHex(walk.ErrorCode);
            line.Raw(",\"pa\":null,\"page_size\":null"u8);
        }

        Mode(ref line, t.Mode);
        line.Raw(",\"pte_updates\":["u8);
        Updates(ref line, walk, t.Mode.EntryBytes, default);
        line.Raw("],\"level\":"u8);
        if (walk.Fault == WalkFault.GeneralProtection)
        {
            line.Raw("null"u8);
        }
        else
        {
            line.Decimal(walk.Level);
        }

        line.Raw(",\"va\":"u8);
        line.QuotedHex(walk.Va);
        if (t.Pae is { } pae)
        {
            // The PDPTE registers the walk used, and the reserved bits of the image's PDPTEs they were read without.
            line.Raw(",\"pdptes\":["u8);
            ReadOnlySpan<ulong> registers = pae.PdpteRegisters;
            for (int i = 0; i < registers.Length; i++)
            {
                if (i > 0)
                {
                    line.Byte((byte)',');
                }

                line.QuotedHex(registers[i]);
            }

            line.Raw("],\"pdpte_ignored_bits\":"u8);
            line.QuotedHexOrNull(t.PdpteIgnoredBits != 0, t.PdpteIgnoredBits);
        }

        line.Byte((byte)'}');
    }

    // {"fault", "exit", "exit_qualification", "fault_gpa", "exception", "error_code", "hpa", "page_size", "mode",
    // "pte_updates", "level", "gpa", "rights", "memory_type", "ipat"}
    private void Ept(ref Line line, in Translation t)
    {
        ref readonly GuestWalk walk = ref t.Walk;
        bool fault = walk.Fault != WalkFault.None;
        line.Raw(!fault ? "{\"fault\":false,\"exit\":null"u8
            : walk.Fault == WalkFault.EptViolation ? "{\"fault\":true,\"exit\":\"ept_violation\""u8
            : "{\"fault\":true,\"exit\":\"ept_misconfig\""u8);
        line.Raw(",\"exit_qualification\":"u8);
        line.QuotedHexOrNull(walk.Fault == WalkFault.EptViolation, walk.ErrorCode);
        line.Raw(",\"fault_gpa\":"u8);
        line.QuotedHexOrNull(fault, walk.Va);
        line.Raw(",\"exception\":null,\"error_code\":null,\"hpa\":"u8);
        line.QuotedHexOrNull(!fault, walk.PhysicalAddress);
        line.Raw(",\"page_size\":"u8);
        line.DecimalOrNull(!fault, walk.PageSize);
        Mode(ref line, t.Mode);
        line.Raw(",\"pte_updates\":["u8);
        Updates(ref line, walk, t.Mode.EntryBytes, ",\"table\":\"ept\"}"u8);
        line.Raw("],\"level\":"u8);
        line.Decimal(walk.Level);
        line.Raw(",\"gpa\":"u8);
        line.QuotedHex(walk.Va);
        if (fault)
        {
            line.Raw(",\"rights\":null,\"memory_type\":null,\"ipat\":null}"u8);
            return;
        }

        line.Raw(",\"rights\":\""u8);
        line.Raw(EptRightsText(walk.PteAccess));
        line.Raw("\",\"memory_type\":"u8);
        line.Decimal(walk.MemoryType);
        line.Raw(walk.IgnorePat ? ",\"ipat\":true}"u8 : ",\"ipat\":false}"u8);
    }

    // The EPT-alone fields, with "exception"/"error_code" for the guest's own faults, "gpa" the guest's translation,
    // "dimension" the one that faulted, and "pte_updates" listing guest ("table": "guest") and EPT entries.
    private void Nested(ref Line line, in Translation t)
    {
        ref readonly NestedWalk nested = ref t.Nested;
        ref readonly GuestWalk guest = ref nested.Guest;
        ref readonly GuestWalk ept = ref nested.Ept;
        bool eptFault = nested.Fault == NestedFault.Ept, guestFault = nested.Fault == NestedFault.Guest;
        line.Raw(nested.Fault == NestedFault.None ? "{\"fault\":false,\"exit\":"u8 : "{\"fault\":true,\"exit\":"u8);
        line.Raw(!eptFault ? "null"u8 : ept.Fault == WalkFault.EptViolation ? "\"ept_violation\""u8 : "\"ept_misconfig\""u8);
        line.Raw(",\"exit_qualification\":"u8);
        line.QuotedHexOrNull(eptFault && ept.Fault == WalkFault.EptViolation, ept.ErrorCode);
        line.Raw(",\"fault_gpa\":"u8);
        line.QuotedHexOrNull(eptFault, ept.Va);
        if (guestFault)
        {
            line.Raw(guest.Fault == WalkFault.PageFault ? ",\"exception\":\"PF\",\"error_code\":"u8 : ",\"exception\":\"GP\",\"error_code\":"u8);
            line.QuotedHex(guest.ErrorCode);
        }
        else
        {
            line.Raw(",\"exception\":null,\"error_code\":null"u8);
        }

        bool translated = nested.Fault == NestedFault.None;
        line.Raw(",\"hpa\":"u8);
        line.QuotedHexOrNull(translated, nested.HostPhysicalAddress);
        line.Raw(",\"page_size\":"u8);
        line.DecimalOrNull(translated, guest.PageSize);
        Mode(ref line, t.EptMode!);
        line.Raw(",\"guest_mode\":\""u8);
        line.Raw(ModeName(t.Mode));
        line.Raw("\",\"pte_updates\":["u8);
        Updates(ref line, guest, t.Mode.EntryBytes, ",\"table\":\"guest\"}"u8);
        for (int i = 0; i < nested.EptUpdateCount; i++)
        {
            if (i > 0 || guest.UpdateCount > 0)
            {
                line.Byte((byte)',');
            }

            Update(ref line, nested.EptUpdates[i], 8, ",\"table\":\"ept\"}"u8);
        }

        line.Raw("],\"dimension\":"u8);
        line.Raw(guestFault ? "\"guest\""u8 : eptFault ? "\"ept\""u8 : "null"u8);
        line.Raw(nested.EptOnGuestTable ? ",\"ept_on_guest_table\":true,\"level\":"u8 : ",\"ept_on_guest_table\":false,\"level\":"u8);
        line.Decimal(guest.Level);
        line.Raw(",\"va\":"u8);
        line.QuotedHex(guest.Va);
        line.Raw(",\"gpa\":"u8);
        line.QuotedHexOrNull(translated || (eptFault && !nested.EptOnGuestTable), guest.PhysicalAddress);
        line.Byte((byte)'}');
    }

    // The updates of one walk, comma-separated; ending is "}" or the "table" field and "}".
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Updates(ref Line line, in GuestWalk walk, int size, ReadOnlySpan<byte> ending)
    {
        for (int i = 0; i < walk.UpdateCount; i++)
        {
            if (i > 0)
            {
                line.Byte((byte)',');
            }

            Update(ref line, walk.Updates[i], size, ending);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Update(ref Line line, in PteUpdate update, int size, ReadOnlySpan<byte> ending)
    {
        line.Raw("{\"pa\":"u8);
        line.QuotedHex(update.Gpa);
        line.Raw(",\"old\":"u8);
        line.QuotedHex(update.Old);
        line.Raw(",\"new\":"u8);
        line.QuotedHex(update.New);
        line.Raw(",\"size\":"u8);
        line.Decimal(size);
        line.Raw(ending.IsEmpty ? "}"u8 : ending);
    }

    private void Mode(ref Line line, PagingModeInfo mode)
    {
        line.Raw(",\"mode\":\""u8);
        line.Raw(ModeName(mode));
        line.Byte((byte)'"');
    }

    // A mode's name as the JSON writer escapes it (the built-in names need nothing), kept for the next case.
    private ReadOnlySpan<byte> ModeName(PagingModeInfo mode)
    {
        if (!ReferenceEquals(mode, _lastMode))
        {
            _lastModeName = JsonEncodedText.Encode(mode.Name, TranslationFormat.JsonOptions.Encoder).EncodedUtf8Bytes.ToArray();
            _lastMode = mode;
        }

        return _lastModeName;
    }

    private byte[] EptRightsText(uint rights)
    {
        rights &= EptRights.All;
        return _eptRights[rights] ??= System.Text.Encoding.ASCII.GetBytes(EptRights.Format(rights, (rights & EptRights.UserExecute) != 0));
    }

    /// <summary>One answer being written into a span that is large enough for any answer.</summary>
    private ref struct Line
    {
        private readonly Span<byte> _bytes;
        private int _at;

        public Line(Span<byte> bytes)
        {
            _bytes = bytes;
            _at = 0;
        }

        public readonly int Length => _at;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Byte(byte b) => _bytes[_at++] = b;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Raw(scoped ReadOnlySpan<byte> text)
        {
            text.CopyTo(_bytes[_at..]);
            _at += text.Length;
        }

        public void Decimal(ulong value)
        {
            Utf8Formatter.TryFormat(value, _bytes[_at..], out int written);
            _at += written;
        }

        public void Decimal(int value)
        {
            Utf8Formatter.TryFormat(value, _bytes[_at..], out int written);
            _at += written;
        }

        public void DecimalOrNull(bool present, ulong value)
        {
            if (present)
            {
                Decimal(value);
            }
            else
            {
                Raw("null"u8);
            }
        }

        /// <summary><c>"0x…"</c>: lowercase hex, no leading zeros, as <see cref="Numbers.Hex"/> writes it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void QuotedHex(ulong value)
        {
            int digits = Math.Max(1, (67 - BitOperations.LeadingZeroCount(value)) >> 2);
            Span<byte> text = _bytes.Slice(_at, digits + 4);
            text[0] = (byte)'"';
            text[1] = (byte)'0';
            text[2] = (byte)'x';
            for (int i = digits + 2; i >= 3; i--)
            {
                text[i] = "0123456789abcdef"u8[(int)(value & 0xF)];
                value >>= 4;
            }

            text[digits + 3] = (byte)'"';
            _at += digits + 4;
        }

        public void QuotedHexOrNull(bool present, ulong value)
        {
            if (present)
            {
                QuotedHex(value);
            }
            else
            {
                Raw("null"u8);
            }
        }
    }
}
