using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ShadowMmu.Cli;

/// <summary>How a <see cref="Translation"/> is shown to people (a batch answer's JSON: <see cref="BatchAnswerWriter"/>).</summary>
internal static class TranslationFormat
{
    /// <summary>JSON as the batch writes it: one compact object per line, non-ASCII text left readable.</summary>
    public static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    /// <summary>
    /// Writes the result for people: <c>0x7fff0000 -> 0x1234000 (4 KiB page, long4, user rw-)</c>,
    /// <c>0x7fff0000: #PF error code 0x7 (P W U) at level 1 (long4)</c> or <c>0x...: #GP(0) (why, long4)</c>,
    /// then, indented, the entry that faulted or the A/D flags the walk set.
    /// </summary>
    public static void WriteText(TextWriter output, in Translation t)
    {
        if (t.EptMode != null)
        {
            WriteNestedText(output, t);
            return;
        }

        ref readonly GuestWalk walk = ref t.Walk;
        PagingModeFacts facts = PagingModeFacts.Of(t.Mode);
        var line = new StringBuilder(96);
        line.Append(Numbers.Hex(walk.Va));
        switch (walk.Fault)
        {
            case WalkFault.None when t.Mode.IsEpt:
                line.Append(" -> ").Append(Numbers.Hex(walk.PhysicalAddress))
                    .Append(" (").Append(SizeText(walk.PageSize)).Append(" page, ").Append(t.Mode.Name)
                    .Append(", ").Append(EptRights.Format(walk.PteAccess, (walk.PteAccess & EptRights.UserExecute) != 0))
                    .Append(", ").Append(MemoryTypeText(walk.MemoryType)).Append(walk.IgnorePat ? ", ignore PAT" : "").Append(')');
                break;

            case WalkFault.EptViolation when walk.Level == 0:
                // Before any entry: the address has bits the EPT translates none of (51:48 with 4 levels).
                line.Append(": EPT violation, exit qualification ").Append(Numbers.Hex(walk.ErrorCode))
                    .Append(" (").Append(QualificationText(walk.ErrorCode, beforeAnyEntry: true)).Append(") before any entry: bits 51:")
                    .Append(t.Mode.LinearBits.ToString(CultureInfo.InvariantCulture)).Append(" of the address are not all 0 (")
                    .Append(t.Mode.Name).Append(')');
                break;

            case WalkFault.EptViolation:
                line.Append(": EPT violation, exit qualification ").Append(Numbers.Hex(walk.ErrorCode))
                    .Append(" (").Append(QualificationText(walk.ErrorCode)).Append(") at level ")
                    .Append(walk.Level.ToString(CultureInfo.InvariantCulture)).Append(" (").Append(t.Mode.Name).Append(')');
                break;

            case WalkFault.EptMisconfiguration:
                line.Append(": EPT misconfiguration at level ")
                    .Append(walk.Level.ToString(CultureInfo.InvariantCulture)).Append(" (").Append(t.Mode.Name).Append(')');
                break;

            case WalkFault.None:
                line.Append(" -> ").Append(Numbers.Hex(walk.PhysicalAddress))
                    .Append(" (").Append(SizeText(walk.PageSize)).Append(" page, ").Append(t.Mode.Name)
                    .Append(", ").Append(RightsText(walk.PteAccess));
                if (walk.ProtectionKey != 0)
                {
                    line.Append(", key ").Append(walk.ProtectionKey.ToString(CultureInfo.InvariantCulture));
                }

                line.Append(')');
                break;

            case WalkFault.PageFault:
                line.Append(": #PF error code ").Append(Numbers.Hex(walk.ErrorCode))
                    .Append(" (").Append(ErrorCodeText(walk.ErrorCode)).Append(") at level ")
                    .Append(walk.Level.ToString(CultureInfo.InvariantCulture)).Append(" (").Append(t.Mode.Name).Append(')');
                break;

            default:
                line.Append(": #GP(0) (")
                    .Append(t.PdpteLoadFaulted ? "loading the PDPTE registers from CR3 faulted: a present PDPTE has a reserved bit set" : "non-canonical address")
                    .Append(", ").Append(t.Mode.Name).Append(')');
                break;
        }

        output.WriteLine(line.ToString());

        if (walk.Fault is WalkFault.PageFault or WalkFault.EptViolation or WalkFault.EptMisconfiguration && walk.Level >= 1 && walk.Level <= 5)
        {
            string name = facts.LevelName(walk.Level);
            ulong gpa = walk.PteGpa[walk.Level - 1];
            output.WriteLine(walk.EntryOutsideMemory
                ? $"    the {name} at {Numbers.Hex(gpa)} lies outside the image ({Numbers.Hex(t.MemorySize)} bytes)"
                : $"    the {name} at {Numbers.Hex(gpa)} holds {Numbers.Hex(walk.Ptes[walk.Level - 1])}");
        }

        for (int i = 0; i < walk.UpdateCount; i++)
        {
            PteUpdate update = walk.Updates[i];
            output.WriteLine($"    sets {FlagsText(update.New & ~update.Old, facts)} in the {EntryName(walk, facts, update.Gpa)} at {Numbers.Hex(update.Gpa)}: {Numbers.Hex(update.Old)} -> {Numbers.Hex(update.New)}");
        }
    }

    /// <summary>
    /// The note a PAE answer gets when the PDPTE registers were read from the image without some reserved bits; null
    /// when nothing was ignored.
    /// </summary>
    public static string? PdpteNote(in Translation t) => t.Pae == null || t.PdpteIgnoredBits == 0 ? null
        : $"note: PAE's PDPTE registers are the image's PDPTEs read without reserved bits {Numbers.Hex(t.PdpteIgnoredBits)}, as the registers "
          + "held them when CR3 was loaded (QEMU's TCG sets bit 5 in PDPTEs as an accessed flag afterwards); --strict-pae gives the SDM's #GP "
          + "for them, --pdptes A,B,C,D sets the registers";

    /// <summary>The EPT memory type's name (SDM "EPT and Memory Typing").</summary>
    public static string MemoryTypeText(int type) => type switch
    {
        0 => "UC",
        1 => "WC",
        4 => "WT",
        5 => "WP",
        6 => "WB",
        _ => "memory type " + type.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>An EPT-violation exit qualification for people: <c>write; allowed r-x; linear address valid, final translation</c>.</summary>
    public static string QualificationText(uint qualification, bool beforeAnyEntry = false)
    {
        var access = new List<string>();
        if ((qualification & EptViolationQualification.Read) != 0)
        {
            access.Add("read");
        }

        if ((qualification & EptViolationQualification.Write) != 0)
        {
            access.Add("write");
        }

        if ((qualification & EptViolationQualification.Fetch) != 0)
        {
            access.Add("fetch");
        }

        uint rights = ((qualification & EptViolationQualification.Readable) != 0 ? EptRights.Read : 0)
            | ((qualification & EptViolationQualification.Writable) != 0 ? EptRights.Write : 0)
            | ((qualification & EptViolationQualification.Executable) != 0 ? EptRights.Execute : 0)
            | ((qualification & EptViolationQualification.UserExecutable) != 0 ? EptRights.UserExecute : 0);
        // Before any entry was read there are no rights to report: bits 6:3 are 0 without meaning "not present".
        string text = string.Join('+', access) + (beforeAnyEntry ? string.Empty
            : "; allowed " + (rights == 0 ? "nothing (not present)" : EptRights.Format(rights, (rights & EptRights.UserExecute) != 0)));
        if ((qualification & EptViolationQualification.GuestLinearAddressValid) != 0)
        {
            text += "; linear address valid";
            text += (qualification & EptViolationQualification.FinalTranslation) != 0 ? ", final translation" : ", guest paging-structure access";
        }

        return text;
    }

    /// <summary>
    /// A two-dimensional walk for people: <c>VA -> GPA -> HPA (…, long4 through ept4, user rw-; EPT rwx, WB)</c>, the
    /// guest's #PF or #GP, or the EPT exit and what it was translating; then the A/D flags set in both dimensions.
    /// </summary>
    private static void WriteNestedText(TextWriter output, in Translation t)
    {
        ref readonly NestedWalk nested = ref t.Nested;
        ref readonly GuestWalk guest = ref nested.Guest;
        ref readonly GuestWalk ept = ref nested.Ept;
        PagingModeFacts facts = PagingModeFacts.Of(t.Mode);
        string modes = t.Mode.Name + " through " + t.EptMode!.Name;
        string level = guest.Level.ToString(CultureInfo.InvariantCulture);
        var line = new StringBuilder(Numbers.Hex(guest.Va));
        switch (nested.Fault)
        {
            case NestedFault.None:
                line.Append(" -> ").Append(Numbers.Hex(guest.PhysicalAddress)).Append(" -> ").Append(Numbers.Hex(nested.HostPhysicalAddress))
                    .Append(" (").Append(SizeText(guest.PageSize)).Append(" page, ").Append(modes).Append(", ").Append(RightsText(guest.PteAccess))
                    .Append("; EPT ").Append(EptRights.Format(ept.PteAccess, false)).Append(", ").Append(MemoryTypeText(ept.MemoryType)).Append(')');
                break;
            case NestedFault.Guest when guest.Fault == WalkFault.PageFault:
                line.Append(": #PF error code ").Append(Numbers.Hex(guest.ErrorCode)).Append(" (").Append(ErrorCodeText(guest.ErrorCode))
                    .Append(") at level ").Append(level).Append(" (").Append(modes).Append(')');
                break;
            case NestedFault.Guest:
                line.Append(": #GP(0) (").Append(modes).Append(')');
                break;
            default:
                string exit = ept.Fault == WalkFault.EptViolation
                    ? "EPT violation, exit qualification " + Numbers.Hex(ept.ErrorCode) + " (" + QualificationText(ept.ErrorCode, ept.Level == 0) + ")"
                    : "EPT misconfiguration";
                string what = !nested.EptOnGuestTable
                    ? "translating the final address " + Numbers.Hex(ept.Va)
                    : guest.Level >= 1 && guest.PteGpa[guest.Level - 1] == ept.Va
                        ? "translating the guest's " + facts.LevelName(guest.Level) + " at " + Numbers.Hex(ept.Va)
                        : "loading the PDPTE registers from " + Numbers.Hex(ept.Va);
                string where = ept.Level == 0
                    ? " before any EPT entry: bits 51:" + t.EptMode!.LinearBits.ToString(CultureInfo.InvariantCulture) + " of the address are not all 0"
                    : " at EPT level " + ept.Level.ToString(CultureInfo.InvariantCulture);
                line.Append(": ").Append(exit).Append(' ').Append(what).Append(where).Append(" (").Append(modes).Append(')');
                break;
        }

        output.WriteLine(line.ToString());
        for (int i = 0; i < guest.UpdateCount; i++)
        {
            PteUpdate update = guest.Updates[i];
            output.WriteLine($"    sets {FlagsText(update.New & ~update.Old, facts)} in the guest's {EntryName(guest, facts, update.Gpa)} at {Numbers.Hex(update.Gpa)}: {Numbers.Hex(update.Old)} -> {Numbers.Hex(update.New)}");
        }

        for (int i = 0; i < nested.EptUpdateCount; i++)
        {
            PteUpdate update = nested.EptUpdates[i];
            output.WriteLine($"    sets {FlagsText(update.New & ~update.Old, PagingModeFacts.Of(t.EptMode!))} in the EPT entry at {Numbers.Hex(update.Gpa)}: {Numbers.Hex(update.Old)} -> {Numbers.Hex(update.New)}");
        }
    }

    /// <summary><c>4 KiB</c>, <c>2 MiB</c>, <c>1 GiB</c>.</summary>
    public static string SizeText(ulong bytes)
    {
        Span<char> text = stackalloc char[32];
        FormatSize(bytes, text, out int written);
        return new string(text[..written]);
    }

    /// <summary><see cref="SizeText"/> into <paramref name="destination"/> (at least 25 characters).</summary>
    public static void FormatSize(ulong bytes, Span<char> destination, out int written)
    {
        ReadOnlySpan<string> units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
        int unit = 0;
        while (unit < units.Length - 1 && bytes >= 1024 && bytes % 1024 == 0)
        {
            bytes /= 1024;
            unit++;
        }

        bytes.TryFormat(destination, out written, default, CultureInfo.InvariantCulture);
        destination[written++] = ' ';
        units[unit].CopyTo(destination[written..]);
        written += units[unit].Length;
    }

    /// <summary>A size for a total, to three figures: <c>28.4 MiB</c>, <c>512 KiB</c>, <c>1.00 GiB</c>.</summary>
    public static string ApproximateSize(ulong bytes)
    {
        string[] units = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB" };
        double value = bytes;
        int unit = 0;
        while (unit < units.Length - 1 && value >= 1024)
        {
            value /= 1024;
            unit++;
        }

        string number = unit == 0 ? bytes.ToString(CultureInfo.InvariantCulture)
            : value.ToString(value >= 100 ? "0" : value >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);
        return number + " " + units[unit];
    }

    /// <summary><c>user rwx</c>, <c>supervisor r--</c>: who may use the page and how (KVM's U W X rights).</summary>
    public static string RightsText(uint access) => AccessRights.Format(access);

    /// <summary>The names of the error code's set bits (<c>P W U</c>), or <c>none</c>.</summary>
    public static string ErrorCodeText(uint errorCode)
    {
        var names = new List<string>();
        if ((errorCode & PageFaultErrorCode.Present) != 0)
        {
            names.Add("P");
        }

        if ((errorCode & PageFaultErrorCode.Write) != 0)
        {
            names.Add("W");
        }

        if ((errorCode & PageFaultErrorCode.User) != 0)
        {
            names.Add("U");
        }

        if ((errorCode & PageFaultErrorCode.Reserved) != 0)
        {
            names.Add("RSVD");
        }

        if ((errorCode & PageFaultErrorCode.Fetch) != 0)
        {
            names.Add("I");
        }

        if ((errorCode & PageFaultErrorCode.ProtectionKey) != 0)
        {
            names.Add("PK");
        }

        return names.Count == 0 ? "none" : string.Join(' ', names);
    }

    // Where the entries keep A and D is the spec's to say (x86: bits 5 and 6; EPT: bits 8 and 9).
    private static string FlagsText(ulong set, PagingModeFacts facts)
    {
        ulong a = facts.AccessedFlag, d = facts.DirtyFlag;
        ulong flags = set & (a | d);
        return flags == a ? "A" : flags == d ? "D" : flags == (a | d) ? "A D" : Numbers.Hex(set);
    }

    private static string EntryName(in GuestWalk walk, PagingModeFacts facts, ulong gpa)
    {
        // Only the levels this walk read (from the leaf up) hold its entries; the ones below may be stale.
        for (int level = System.Math.Max(walk.Level, 1); level <= facts.Mode.RootLevel && level <= 5; level++)
        {
            if (walk.PteGpa[level - 1] == gpa)
            {
                return facts.LevelName(level);
            }
        }

        return "entry";
    }
}
