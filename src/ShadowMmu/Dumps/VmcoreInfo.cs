using System;
using System.Collections.Generic;
using System.Globalization;

namespace ShadowMmu.Dumps;

/// <summary>
/// The kernel's VMCOREINFO text (what <c>-device vmcoreinfo</c> lets QEMU put in its ELF and kdump output, and what a
/// kernel's own crash dump carries): lines of <c>KEY=VALUE</c>, such as <c>SYMBOL(init_top_pgt)=ffffffff9a20a000</c>,
/// <c>NUMBER(phys_base)=0</c>, <c>KERNELOFFSET=18000000</c>, <c>CONFIG_X86_PAE=y</c>.
/// </summary>
public sealed class VmcoreInfo
{
    private readonly Dictionary<string, string> _entries;

    private VmcoreInfo(string text, Dictionary<string, string> entries)
    {
        Text = text;
        _entries = entries;
    }

    /// <summary>The text as the dump holds it (up to its first NUL).</summary>
    public string Text { get; }

    /// <summary>Every <c>KEY=VALUE</c> line; a key that repeats keeps its last value, as the kernel's readers do.</summary>
    public IReadOnlyDictionary<string, string> Entries => _entries;

    /// <summary>Parses the note's bytes: ASCII lines, NUL-terminated or not; lines without '=' are ignored.</summary>
    public static VmcoreInfo Parse(ReadOnlySpan<byte> bytes)
    {
        int end = bytes.IndexOf((byte)0);
        var chars = new char[end < 0 ? bytes.Length : end];
        for (int i = 0; i < chars.Length; i++)
        {
            byte b = bytes[i];
            chars[i] = b < 0x80 ? (char)b : '?';
        }

        string text = new(chars);
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n'))
        {
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                entries[line[..equals]] = line[(equals + 1)..].TrimEnd('\r');
            }
        }

        return new VmcoreInfo(text, entries);
    }

    /// <summary><c>SYMBOL(name)</c>: a kernel virtual address, hexadecimal without 0x.</summary>
    public bool TryGetSymbol(string name, out ulong address) => TryGetHex($"SYMBOL({name})", out address);

    /// <summary><c>NUMBER(name)</c>: a decimal number, possibly negative (the kernel prints it with %ld).</summary>
    public bool TryGetNumber(string name, out long value)
    {
        value = 0;
        return _entries.TryGetValue($"NUMBER({name})", out string? text)
            && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary><c>KERNELOFFSET</c>: the KASLR slide, hexadecimal without 0x.</summary>
    public bool TryGetKernelOffset(out ulong offset) => TryGetHex("KERNELOFFSET", out offset);

    /// <summary>A key's value read as hexadecimal (with or without 0x).</summary>
    public bool TryGetHex(string key, out ulong value)
    {
        value = 0;
        if (!_entries.TryGetValue(key, out string? text))
        {
            return false;
        }

        ReadOnlySpan<char> digits = text.AsSpan().Trim();
        if (digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            digits = digits[2..];
        }

        return ulong.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }
}
