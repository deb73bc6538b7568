using System.Collections.Generic;

namespace ShadowMmu.Specs
{
    /// <summary>
    /// The words a spec may use for conditions, and the <c>ShadowMmu.PagingCondition</c> member each names.
    /// One table serves the generator (which emits the member names) and the reference walker (which parses them).
    /// </summary>
    internal static class SpecVocabulary
    {
        public static readonly IReadOnlyDictionary<string, string> Conditions = new Dictionary<string, string>
        {
            ["CR0.PG"] = "Cr0Pg",
            ["CR0.WP"] = "Cr0Wp",
            ["CR4.PSE"] = "Cr4Pse",
            ["CR4.PAE"] = "Cr4Pae",
            ["CR4.LA57"] = "Cr4La57",
            ["CR4.PKE"] = "Cr4Pke",
            ["CR4.SMEP"] = "Cr4Smep",
            ["CR4.SMAP"] = "Cr4Smap",
            ["EFER.LME"] = "EferLme",
            ["EFER.NXE"] = "EferNxe",
            ["CPUID.PAGE1GB"] = "CpuidPage1Gb",
            ["CPUID.PSE36"] = "CpuidPse36",
            ["EPTP.AD"] = "EptpAccessedDirty",
            ["VMX.MBEC"] = "VmxModeBasedExecute",
            ["VMX.EXECONLY"] = "VmxExecuteOnly",
            ["VMX.EPT1GB"] = "VmxEptPage1Gb",
        };

        /// <summary>Page-size words: 4K, 2M, 1G ... (K, M, G, T suffixes on a power of two).</summary>
        public static bool TryParseSize(string text, out ulong size)
        {
            size = 0;
            if (text.Length < 2)
            {
                return false;
            }

            int shift;
            switch (char.ToUpperInvariant(text[text.Length - 1]))
            {
                case 'K': shift = 10; break;
                case 'M': shift = 20; break;
                case 'G': shift = 30; break;
                case 'T': shift = 40; break;
                default: return false;
            }

            if (!ulong.TryParse(text.Substring(0, text.Length - 1), out ulong count) || count == 0 || count > 1024)
            {
                return false;
            }

            size = count << shift;
            return (size & (size - 1)) == 0;
        }
    }
}
