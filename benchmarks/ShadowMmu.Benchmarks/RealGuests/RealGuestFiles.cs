using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;

namespace ShadowMmu.Benchmarks.RealGuests;

/// <summary>
/// <c>--real-guest-files DIR [CASES]</c>: the inputs of the side-by-side runs outside this process (Volatility3's
/// script, the CLI timed end to end), per guest in <c>DIR/MODE/</c>: <c>memory.raw</c> (a link to the rebuilt image),
/// <c>guest.txt</c> (the registers, one <c>name value</c> a line), <c>addresses.txt</c> (CASES linear addresses, hex, one a
/// line: the gva2gpa samples shuffled and repeated) and <c>cases.jsonl</c> (the same addresses as batch cases, naming the
/// rebuilt image by its full path).
/// </summary>
internal static class RealGuestFiles
{
    /// <summary>The guests compared with Volatility3 (which has no 5-level layer) and long5, stop 1, vCPU 0.</summary>
    public static readonly string[] Modes = { "long4", "pae", "legacy32", "long5" };

    public static int Write(string directory, int cases)
    {
        foreach (string mode in Modes)
        {
            RealGuestImage guest = RealGuestImage.Get(mode);
            string folder = Path.Combine(directory, mode);
            Directory.CreateDirectory(folder);
            string image = Path.Combine(folder, "memory.raw");
            File.Delete(image);
            File.CreateSymbolicLink(image, guest.RawPath);
            CpuState s = guest.State;
            File.WriteAllText(Path.Combine(folder, "guest.txt"), string.Create(
                CultureInfo.InvariantCulture,
                $"mode {mode}\ncr0 0x{s.Cr0:x}\ncr3 0x{s.Cr3:x}\ncr4 0x{s.Cr4:x}\nefer 0x{s.Efer:x}\ntlb_lines {guest.TlbLines}\nsamples {guest.Samples.Length}\n"));
            ulong[] vas = guest.Addresses(cases);
            File.WriteAllText(Path.Combine(folder, "addresses.txt"), string.Join('\n', vas.Select(va => "0x" + va.ToString("x", CultureInfo.InvariantCulture))) + "\n");
            File.WriteAllText(Path.Combine(folder, "cases.jsonl"), guest.BatchCases(guest.RawPath, vas), new UTF8Encoding(false));
            Console.WriteLine($"{guest}: {folder} ({cases:#,0} cases over {guest.Samples.Length:#,0} sampled addresses; info tlb has {guest.TlbLines:#,0} lines)");
        }

        return 0;
    }
}
