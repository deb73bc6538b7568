using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;

namespace ShadowMmu.Tests.RealGuests;

/// <summary>
/// What <c>info registers</c> (qemu-system-x86_64 7.2) printed for one vCPU: the paging registers as QEMU holds them
/// (CR3 unmasked: PCID bits and all), the CPL, whether the vCPU was halted, and CS. A 32-bit guest's dump prints
/// EIP and 8-digit registers; EFER is printed for both.
/// </summary>
internal sealed partial record QemuRegisters(ulong Cr0, ulong Cr2, ulong Cr3, ulong Cr4, ulong Efer, int Cpl, bool Halted, ulong Ip, ushort CsSelector, uint CsFlags, string Text)
{
    /// <summary>CR4.PCIDE: CR3 bits 11:0 are a PCID.</summary>
    public const ulong Cr4Pcide = 1UL << 17;

    /// <summary>
    /// CR3 as the paging structures see it. With CR4.PCIDE bits 11:0 are the PCID, not part of the table address; bit
    /// 63 is the "no flush" bit of a MOV to CR3 and never held in CR3 (masked in case a tool or QEMU reports the
    /// operand). Without PCIDE bits 3 and 4 are PWT/PCD and the rest of 11:0 is ignored by 4/5-level paging, while PAE
    /// uses bits 31:5 and 32-bit paging 31:12: those are left to the walker, which knows the mode.
    /// </summary>
    public ulong PagingCr3 => (Cr4 & Cr4Pcide) != 0 ? Cr3 & ~0xFFFUL & ~(1UL << 63) : Cr3 & ~(1UL << 63);

    public static QemuRegisters Parse(string text) => new(
        Hex(text, Cr0Pattern()),
        Hex(text, Cr2Pattern()),
        Hex(text, Cr3Pattern()),
        Hex(text, Cr4Pattern()),
        Hex(text, EferPattern()),
        (int)Hex(text, CplPattern()),
        Hex(text, HltPattern()) != 0,
        Hex(text, IpPattern()),
        (ushort)Hex(text, CsPattern()),
        (uint)Hex(text, CsFlagsPattern()),
        text);

    private static ulong Hex(string text, Regex pattern)
    {
        Match match = pattern.Match(text);
        if (!match.Success)
        {
            throw new InvalidDataException($"info registers: no match for {pattern}");
        }

        return ulong.Parse(match.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"\bCR0=([0-9a-f]+)")]
    private static partial Regex Cr0Pattern();

    [GeneratedRegex(@"\bCR2=([0-9a-f]+)")]
    private static partial Regex Cr2Pattern();

    [GeneratedRegex(@"\bCR3=([0-9a-f]+)")]
    private static partial Regex Cr3Pattern();

    [GeneratedRegex(@"\bCR4=([0-9a-f]+)")]
    private static partial Regex Cr4Pattern();

    [GeneratedRegex(@"\bEFER=([0-9a-f]+)")]
    private static partial Regex EferPattern();

    [GeneratedRegex(@"\bCPL=([0-3])")]
    private static partial Regex CplPattern();

    [GeneratedRegex(@"\bHLT=([01])")]
    private static partial Regex HltPattern();

    [GeneratedRegex(@"\b[RE]IP=([0-9a-f]+)")]
    private static partial Regex IpPattern();

    [GeneratedRegex(@"^CS =([0-9a-f]{4}) ", RegexOptions.Multiline)]
    private static partial Regex CsPattern();

    [GeneratedRegex(@"^CS =[0-9a-f]{4} [0-9a-f]+ [0-9a-f]+ ([0-9a-f]+)", RegexOptions.Multiline)]
    private static partial Regex CsFlagsPattern();
}

/// <summary>
/// One line of <c>info tlb</c>: a present leaf, its linear address (canonical), the address QEMU printed for it and
/// the leaf entry's own flags in QEMU's order <c>XGPDACTUW</c> (NX, global, PS, dirty, accessed, PCD, PWT, user,
/// writable; not combined over the levels). QEMU masks the printed address with its own mask: for PAE leaves it keeps
/// the NX bit 63 in <see cref="PrintedAddress"/>; for 32-bit 4 MiB pages it drops the PSE-36 bits. Both are kept as
/// printed; <see cref="PhysicalAddress"/> clears bit 63.
/// </summary>
internal sealed record QemuTlbEntry(ulong Va, ulong PrintedAddress, string Flags)
{
    public ulong PhysicalAddress => PrintedAddress & ~(1UL << 63);

    public bool NoExecute => Flags[0] == 'X';

    public bool Global => Flags[1] == 'G';

    public bool LargePage => Flags[2] == 'P';

    public bool Dirty => Flags[3] == 'D';

    public bool Accessed => Flags[4] == 'A';

    public bool CacheDisable => Flags[5] == 'C';

    public bool WriteThrough => Flags[6] == 'T';

    public bool User => Flags[7] == 'U';

    public bool Writable => Flags[8] == 'W';

    public static IReadOnlyList<QemuTlbEntry> ParseAll(string text)
    {
        var entries = new List<QemuTlbEntry>();
        foreach (string line in Lines(text))
        {
            // "ffff888000000000: 0000000000000000 XG-DA---W"
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length != 3 || !words[0].EndsWith(':') || words[2].Length != 9)
            {
                throw new InvalidDataException("info tlb: unexpected line: " + line);
            }

            entries.Add(new QemuTlbEntry(ParseHex(words[0][..^1]), ParseHex(words[1]), words[2]));
        }

        return entries;
    }

    internal static IEnumerable<string> Lines(string text)
    {
        foreach (string line in text.Split('\n'))
        {
            string trimmed = line.TrimEnd('\r');
            if (trimmed.Length != 0)
            {
                yield return trimmed;
            }
        }
    }

    internal static ulong ParseHex(string text) =>
        ulong.Parse(text.StartsWith("0x", StringComparison.Ordinal) ? text[2..] : text, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}

/// <summary>
/// One line of <c>info mem</c>: a run [Start, End) of pages whose rights, ANDed over the levels, are the same:
/// <c>u</c>/<c>-</c> (user), <c>r</c>, <c>w</c>/<c>-</c>; no execute right. QEMU 7.2 prints nothing for a 5-level guest.
/// </summary>
internal sealed record QemuMemRange(ulong Start, ulong End, ulong Size, string Rights)
{
    public bool User => Rights[0] == 'u';

    public bool Writable => Rights[2] == 'w';

    public static IReadOnlyList<QemuMemRange> ParseAll(string text)
    {
        var ranges = new List<QemuMemRange>();
        foreach (string line in QemuTlbEntry.Lines(text))
        {
            // "0000000000400000-00000000004d3000 00000000000d3000 ur-"
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string[] bounds = words[0].Split('-');
            if (words.Length != 3 || bounds.Length != 2 || words[2].Length != 3)
            {
                throw new InvalidDataException("info mem: unexpected line: " + line);
            }

            ranges.Add(new QemuMemRange(QemuTlbEntry.ParseHex(bounds[0]), QemuTlbEntry.ParseHex(bounds[1]), QemuTlbEntry.ParseHex(words[1]), words[2]));
        }

        return ranges;
    }
}

/// <summary>
/// One sampled <c>gva2gpa</c>: the linear address and QEMU's answer, the guest-physical address of that byte, or null
/// for "Unmapped". gva2gpa walks the current CR3 of the vCPU with QEMU's debug walk: present entries only, rights
/// ignored (a supervisor page answers for a user address too); a non-canonical address is unmapped.
/// </summary>
internal sealed record Gva2GpaSample(ulong Va, ulong? Gpa)
{
    public static IReadOnlyList<Gva2GpaSample> ParseAll(string text)
    {
        var samples = new List<Gva2GpaSample>();
        foreach (string line in QemuTlbEntry.Lines(text))
        {
            // "0x7fbfca879234\tgpa: 0x4208234" or "0x7fbfca9fffff\tUnmapped"
            string[] parts = line.Split('\t');
            if (parts.Length != 2)
            {
                throw new InvalidDataException("gva2gpa: unexpected line: " + line);
            }

            ulong va = QemuTlbEntry.ParseHex(parts[0]);
            if (parts[1] == "Unmapped")
            {
                samples.Add(new Gva2GpaSample(va, null));
            }
            else if (parts[1].StartsWith("gpa: ", StringComparison.Ordinal))
            {
                samples.Add(new Gva2GpaSample(va, QemuTlbEntry.ParseHex(parts[1]["gpa: ".Length..])));
            }
            else
            {
                throw new InvalidDataException("gva2gpa: unexpected answer: " + line);
            }
        }

        return samples;
    }
}
