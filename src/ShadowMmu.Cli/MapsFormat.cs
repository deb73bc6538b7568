using System;
using System.Buffers;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace ShadowMmu.Cli;

/// <summary>The ways <c>maps</c> prints an address space.</summary>
internal enum MapsFormat
{
    /// <summary>Runs of pages that agree in everything (contiguous in both address spaces, same rights, page size and key).</summary>
    Table,

    /// <summary>qemu-system-x86_64's <c>info tlb</c>: one line per leaf, <c>%016x: %016x XGPDACTUW</c>.</summary>
    Tlb,

    /// <summary>qemu-system-x86_64's <c>info mem</c>: runs of the same U/S and R/W, <c>start-end size urw</c>.</summary>
    Mem,

    /// <summary>The table's runs as one JSON object, in the batch output's snake_case names.</summary>
    Json,
}

/// <summary>
/// <c>info tlb</c>'s lines: the page's canonical address, its physical address and the leaf entry's flags. Where QEMU
/// prints an entry's bits under a mask (leaving the NX bit in a PAE address, dropping PSE-36 bits), this prints the
/// page's physical address as the walk computes it.
/// </summary>
internal struct TlbLines : IMappingVisitor
{
    private readonly TextWriter _output;
    private readonly int _entryBytes;

    public TlbLines(TextWriter output, int entryBytes)
    {
        _output = output;
        _entryBytes = entryBytes;
    }

    public readonly void Page(in MappedPage page)
    {
        Span<char> line = stackalloc char[44];
        page.Va.TryFormat(line, out _, "x16", CultureInfo.InvariantCulture);
        line[16] = ':';
        line[17] = ' ';
        page.Pa.TryFormat(line[18..], out _, "x16", CultureInfo.InvariantCulture);
        line[34] = ' ';
        ulong e = page.Entry;
        line[35] = _entryBytes == 8 && (e & (1UL << 63)) != 0 ? 'X' : '-';
        line[36] = (e & (1UL << 8)) != 0 ? 'G' : '-';
        line[37] = page.Level > 1 && (e & (1UL << 7)) != 0 ? 'P' : '-';
        line[38] = (e & (1UL << 6)) != 0 ? 'D' : '-';
        line[39] = (e & (1UL << 5)) != 0 ? 'A' : '-';
        line[40] = (e & (1UL << 4)) != 0 ? 'C' : '-';
        line[41] = (e & (1UL << 3)) != 0 ? 'T' : '-';
        line[42] = (e & (1UL << 2)) != 0 ? 'U' : '-';
        line[43] = (e & (1UL << 1)) != 0 ? 'W' : '-';
        _output.Write(line);
        _output.Write('\n');
    }
}

/// <summary>
/// <c>info mem</c>'s runs: consecutive linear pages with the same U/S and R/W (ANDed over the levels) merge, whatever
/// their physical addresses. Addresses are computed as QEMU does, in the linear address's own width, and printed
/// canonical.
/// </summary>
internal struct MemRuns : IMappingVisitor
{
    private readonly TextWriter _output;
    private readonly int _linearBits;
    private readonly bool _canonical;
    private ulong _start;
    private ulong _end;
    private uint _rights;
    private bool _open;

    public MemRuns(TextWriter output, int linearBits, bool canonical)
    {
        _output = output;
        _linearBits = linearBits;
        _canonical = canonical;
        _start = _end = 0;
        _rights = 0;
        _open = false;
    }

    public void Page(in MappedPage page)
    {
        ulong linear = _linearBits >= 64 ? page.Va : page.Va & ((1UL << _linearBits) - 1);
        uint rights = page.Access & (AccessRights.User | AccessRights.Write);
        if (_open && linear == _end && rights == _rights)
        {
            _end += page.Size;
            return;
        }

        Flush();
        (_start, _end, _rights, _open) = (linear, linear + page.Size, rights, true);
    }

    /// <summary>Prints the run still open.</summary>
    public void Flush()
    {
        if (!_open)
        {
            return;
        }

        Span<char> line = stackalloc char[54];
        Canonical(_start).TryFormat(line, out _, "x16", CultureInfo.InvariantCulture);
        line[16] = '-';
        Canonical(_end).TryFormat(line[17..], out _, "x16", CultureInfo.InvariantCulture);
        line[33] = ' ';
        Canonical(_end - _start).TryFormat(line[34..], out _, "x16", CultureInfo.InvariantCulture);
        line[50] = ' ';
        line[51] = (_rights & AccessRights.User) != 0 ? 'u' : '-';
        line[52] = 'r';
        line[53] = (_rights & AccessRights.Write) != 0 ? 'w' : '-';
        _output.Write(line);
        _output.Write('\n');
        _open = false;
    }

    // QEMU's addr_canonical: bit 47 (or 56) copied upwards, in the IA-32e modes only.
    private readonly ulong Canonical(ulong address)
    {
        if (!_canonical || _linearBits >= 64 || (address & (1UL << (_linearBits - 1))) == 0)
        {
            return address;
        }

        return address | ~((1UL << _linearBits) - 1);
    }
}

/// <summary>
/// A run of pages that agree in rights, page size and key, at linear addresses <see cref="Stride"/> apart, mapping
/// either contiguous physical memory (the stride is the page size) or one frame again and again (<see cref="Aliased"/>:
/// Linux's espfix maps one page 65,536 times, 64 KiB apart).
/// </summary>
internal readonly record struct MappedRun(ulong Va, ulong Pa, long Pages, ulong PageSize, ulong Stride, uint Access, int ProtectionKey, bool Aliased)
{
    private const ulong MaxAliasStride = 1UL << 20;

    public static MappedRun Of(in MappedPage page) => new(page.Va, page.Pa, 1, page.Size, page.Size, page.Access, page.ProtectionKey, false);

    /// <summary>The first address after the run's last page.</summary>
    public ulong End => Va + ((ulong)(Pages - 1) * Stride) + PageSize;

    /// <summary>Bytes the run maps.</summary>
    public ulong Bytes => (ulong)Pages * PageSize;

    /// <summary>The run with <paramref name="page"/> added, or null when it does not continue the run.</summary>
    public MappedRun? Extend(in MappedPage page)
    {
        if (page.Size != PageSize || page.Access != Access || page.ProtectionKey != ProtectionKey || page.Va <= Va)
        {
            return null;
        }

        // The second page sets the run's kind: the next page of contiguous memory, or the same frame again close by
        // (two far-apart mappings of one frame are two runs: a run that spans the address space reads as nonsense).
        if (Pages == 1)
        {
            return page.Va == Va + PageSize && page.Pa == Pa + PageSize ? this with { Pages = 2 }
                : page.Pa == Pa && page.Va - Va <= MaxAliasStride ? this with { Pages = 2, Stride = page.Va - Va, Aliased = true }
                : null;
        }

        bool next = page.Va == Va + ((ulong)Pages * Stride);
        bool lands = Aliased ? page.Pa == Pa : page.Pa == Pa + ((ulong)Pages * PageSize);
        return next && lands ? this with { Pages = Pages + 1 } : null;
    }
}

/// <summary>Merges pages into <see cref="MappedRun"/>s and prints each, for people or as JSON.</summary>
internal struct TableRuns : IMappingVisitor
{
    private readonly TextWriter? _text;
    private readonly MapsJson? _json;
    private MappedRun _run;
    private bool _open;

    public TableRuns(TextWriter? text, MapsJson? json)
    {
        _text = text;
        _json = json;
        _run = default;
        _open = false;
        Runs = 0;
        Bytes = 0;
    }

    public long Runs { get; private set; }

    public ulong Bytes { get; private set; }

    public void Page(in MappedPage page)
    {
        Bytes += page.Size;
        if (_open && _run.Extend(page) is { } longer)
        {
            _run = longer;
            return;
        }

        Flush();
        _run = MappedRun.Of(page);
        _open = true;
    }

    public void Flush()
    {
        if (!_open)
        {
            return;
        }

        Runs++;
        _open = false;
        if (_json != null)
        {
            _json.Run(_run);
            return;
        }

        // 0x0000000000400000-0x00000000004d3000   844 KiB  -> 0x1c3f000       user r-x       211 x 4 KiB  key 1
        MappedRun r = _run;
        Span<char> line = stackalloc char[256];
        Span<char> size = stackalloc char[32];
        TranslationFormat.FormatSize(r.Bytes, size, out int sizeLength);
        Span<char> pa = stackalloc char[18];
        "0x".CopyTo(pa);
        r.Pa.TryFormat(pa[2..], out int paLength, "x", CultureInfo.InvariantCulture);
        Span<char> pageSize = stackalloc char[32];
        TranslationFormat.FormatSize(r.PageSize, pageSize, out int pageSizeLength);
        bool written = line.TryWrite(CultureInfo.InvariantCulture, $"0x{r.Va:x16}-0x{r.End:x16} {size[..sizeLength],10}  -> {pa[..(paLength + 2)],-14}  {MapsText.Rights(r.Access),-15}{r.Pages} x {pageSize[..pageSizeLength]}", out int length);
        if (written && r.Aliased)
        {
            Span<char> stride = stackalloc char[32];
            TranslationFormat.FormatSize(r.Stride, stride, out int strideLength);
            written = line[length..].TryWrite(CultureInfo.InvariantCulture, $" every {stride[..strideLength]}, all one frame", out int aliasLength);
            length += aliasLength;
        }

        if (written && r.ProtectionKey != 0)
        {
            written = line[length..].TryWrite(CultureInfo.InvariantCulture, $"  key {r.ProtectionKey}", out int keyLength);
            length += keyLength;
        }

        _text!.Write(line[..(written ? length : 0)]);
        _text.Write('\n');
    }
}

/// <summary>The rights of a run as <see cref="AccessRights.Format"/> writes them, made once per value.</summary>
internal static class MapsText
{
    private static readonly string[] RightsByAccess = Enumerable.Range(0, 8).Select(a => AccessRights.Format((uint)a)).ToArray();

    public static string Rights(uint access) => RightsByAccess[access & AccessRights.All];
}

/// <summary>
/// <c>maps --format json</c>: one object, its runs written as they come and handed to the output in large blocks, in
/// the batch output's snake_case names.
/// </summary>
internal sealed class MapsJson : IDisposable
{
    private static readonly JsonEncodedText Va = JsonEncodedText.Encode("va"), End = JsonEncodedText.Encode("end"), Size = JsonEncodedText.Encode("size"),
        Pa = JsonEncodedText.Encode("pa"), PageSize = JsonEncodedText.Encode("page_size"), Pages = JsonEncodedText.Encode("pages"),
        Rights = JsonEncodedText.Encode("rights"), User = JsonEncodedText.Encode("user"), Writable = JsonEncodedText.Encode("writable"),
        Executable = JsonEncodedText.Encode("executable"), ProtectionKey = JsonEncodedText.Encode("protection_key"),
        Stride = JsonEncodedText.Encode("stride"), OneFrame = JsonEncodedText.Encode("one_frame");

    private readonly Utf8Output _output;
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 17);

    public MapsJson(Utf8Output output)
    {
        _output = output;
        Writer = new Utf8JsonWriter(_buffer, TranslationFormat.JsonOptions);
    }

    public Utf8JsonWriter Writer { get; }

    public void Run(in MappedRun run)
    {
        Utf8JsonWriter json = Writer;
        json.WriteStartObject();
        Hex(Va, run.Va);
        Hex(End, run.End);
        json.WriteNumber(Size, run.Bytes);
        Hex(Pa, run.Pa);
        json.WriteNumber(PageSize, run.PageSize);
        json.WriteNumber(Pages, run.Pages);
        json.WriteString(Rights, MapsText.Rights(run.Access));
        json.WriteBoolean(User, (run.Access & AccessRights.User) != 0);
        json.WriteBoolean(Writable, (run.Access & AccessRights.Write) != 0);
        json.WriteBoolean(Executable, (run.Access & AccessRights.Execute) != 0);
        json.WriteNumber(ProtectionKey, run.ProtectionKey);
        json.WriteNumber(Stride, run.Stride);
        json.WriteBoolean(OneFrame, run.Aliased);
        json.WriteEndObject();
        if (json.BytesPending + _buffer.WrittenCount >= 1 << 16)
        {
            Flush();
        }
    }

    /// <summary>Hands what is written so far to the output.</summary>
    public void Flush()
    {
        Writer.Flush();
        _output.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }

    public void Dispose() => Writer.Dispose();

    // "0x…", as Numbers.Hex writes it.
    private void Hex(JsonEncodedText name, ulong value)
    {
        Span<char> text = stackalloc char[18];
        "0x".CopyTo(text);
        value.TryFormat(text[2..], out int written, "x", CultureInfo.InvariantCulture);
        Writer.WriteString(name, text[..(written + 2)]);
    }
}
