using System.Globalization;
using ShadowMmu.Specs;

namespace ShadowMmu.Generators
{
    /// <summary>
    /// Pieces of C# the templates share: literals written as the SDM reads them, the runtime's names, condition tests,
    /// and expressions over an entry. Each expression helper takes the operand it reads (an entry variable, an array
    /// element) and returns the expression; none rewrites another expression's text.
    /// </summary>
    internal static class Code
    {
        /// <summary>The runtime's namespace, as the generated code names it.</summary>
        public const string Mmu = "global::ShadowMmu.";

        public const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe";

        public const string MemoryMarshal = "global::System.Runtime.InteropServices.MemoryMarshal";

        public const string Inline =
            "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]";

        public const string NoInline =
            "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]";

        public const string RequiresMmuLock = "[" + Mmu + "Annotations.RequiresMmuLock]";

        /// <summary>The level's rights record a walk ending takes: <c>new LevelAccess(ptAccess)</c>.</summary>
        public const string PtAccess = "new " + Mmu + "LevelAccess(ptAccess)";

        /// <summary>True when <paramref name="condition"/> holds for the walker's <c>cpu</c>.</summary>
        public static string Test(SpecCondition condition) => (condition.Negated ? "!" : "") + Test(condition.Name);

        /// <summary>True when the condition named <paramref name="name"/> (CR4.PSE, EPTP.AD, ...) holds for the walker's <c>cpu</c>.</summary>
        public static string Test(string name) => "cpu.Test(" + Mmu + "PagingCondition." + SpecVocabulary.Conditions[name] + ")";

        /// <summary><c>true</c> when there is no condition, else its test.</summary>
        public static string TestOrTrue(SpecCondition? condition) => condition is SpecCondition c ? Test(c) : "true";

        /// <summary>Bit <paramref name="bit"/> of <paramref name="entry"/> as a 0 or 1 <c>uint</c>.</summary>
        public static string EntryBit(string entry, int bit) => bit == 0 ? "(uint)" + entry + " & 1" : "(uint)(" + entry + " >> " + bit + ") & 1";

        /// <summary>
        /// The frame of the page <paramref name="page"/> that <paramref name="entry"/> maps: the frame bits, and the bits
        /// that hold physical-address bits above 32 (PSE-36) moved to their place.
        /// </summary>
        public static string FrameOf(PagePlan page, string entry)
        {
            string frame = entry + " & " + Hex(page.FrameMask);
            return page.High is BitRange high
                ? "(" + frame + ") | ((" + entry + " & " + Hex(high.Mask) + ") << " + (page.HighAt - high.Lo) + ")"
                : frame;
        }

        /// <summary>The page frame number of <see cref="FrameOf"/>.</summary>
        public static string FrameNumberOf(PagePlan page, string entry) => "(" + FrameOf(page, entry) + ") >> 12";

        public static string Quote(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

        public static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

        /// <summary>A hexadecimal literal grouped by four digits from the right, as the SDM's tables read.</summary>
        public static string Hex(ulong value)
        {
            if (value < 10)
            {
                return value.ToString(CultureInfo.InvariantCulture);
            }

            string digits = value.ToString("X", CultureInfo.InvariantCulture);
            var grouped = new System.Text.StringBuilder();
            for (int i = 0; i < digits.Length; i++)
            {
                if (i > 0 && (digits.Length - i) % 4 == 0)
                {
                    grouped.Append('_');
                }

                grouped.Append(digits[i]);
            }

            return "0x" + grouped + (value > uint.MaxValue ? "UL" : "U");
        }

        /// <summary>A byte as two hexadecimal digits, for tables.</summary>
        public static string Hex2(byte value) => "0x" + value.ToString("X2", CultureInfo.InvariantCulture);

        /// <summary>A 16-bit value as four hexadecimal digits, for tables.</summary>
        public static string Hex4(ushort value) => "0x" + value.ToString("X4", CultureInfo.InvariantCulture);
    }
}
