using System.Collections.Generic;
using ShadowMmu.Specs;

namespace ShadowMmu.Generators
{
    /// <summary>
    /// The fixed part of every reserved-bit mask, for every combination of the conditions the spec's rules name
    /// (KVM's <c>rsvd_bits_mask[bit7][level]</c>, precomputed for each combination instead of on each CR write).
    /// The part that depends on MAXPHYADDR is added when a walker is built.
    /// </summary>
    internal static class ReservedBitsTable
    {
        /// <summary>The walker field that holds the reserved bits of <paramref name="level"/>'s entries of one kind.</summary>
        public static string FieldName(LevelSpec level, EntryCase entryCase) =>
            "_" + SpecNames.ToPascal(level.EntryName).ToLowerInvariant() + (entryCase == EntryCase.Page && level.Level > 1 ? "PageReserved" : "Reserved");

        /// <summary>One column per level's entry that references a table and per level's entry that maps a page, root first.</summary>
        public static ReservedBitsPlan Compute(PagingSpec spec)
        {
            var conditions = new List<string>();
            var slots = new List<(LevelSpec Level, EntryCase Case)>();
            foreach (LevelSpec level in spec.Levels)
            {
                foreach (ReservedRule rule in level.Reserved)
                {
                    AddCondition(conditions, rule.When);
                }

                if (level.Page != null && level.Page.ElseReserved)
                {
                    AddCondition(conditions, level.Page.When);
                }

                if (level.Table != null)
                {
                    slots.Add((level, EntryCase.Table));
                }

                if (level.Page != null)
                {
                    slots.Add((level, EntryCase.Page));
                }
            }

            int rows = 1 << conditions.Count;
            var masks = new ulong[rows * slots.Count];
            for (int row = 0; row < rows; row++)
            {
                for (int s = 0; s < slots.Count; s++)
                {
                    (LevelSpec level, EntryCase entryCase) = slots[s];
                    ulong mask = 0;
                    foreach (ReservedRule rule in level.Reserved)
                    {
                        if ((rule.Case == EntryCase.Any || rule.Case == entryCase) && Holds(rule.When, conditions, row))
                        {
                            mask |= rule.Bits.Mask;
                        }
                    }

                    // "page ... when C else reserved": without C, the page-size bit itself is reserved.
                    PageRule? page = level.Page;
                    if (entryCase == EntryCase.Page && page != null && page.ElseReserved && !Holds(page.When, conditions, row))
                    {
                        mask |= 1UL << spec.PageSize!.Value.Bit;
                    }

                    masks[(row * slots.Count) + s] = mask;
                }
            }

            var columns = new List<ReservedColumn>();
            foreach ((LevelSpec level, EntryCase entryCase) in slots)
            {
                columns.Add(Column(level, entryCase));
            }

            return new ReservedBitsPlan(new ImmutableEquatableArray<string>(conditions), new ImmutableEquatableArray<ReservedColumn>(columns),
                new ImmutableEquatableArray<ulong>(masks));
        }

        private static ReservedColumn Column(LevelSpec level, EntryCase entryCase)
        {
            string field = FieldName(level, entryCase);
            if (entryCase == EntryCase.Table)
            {
                return new ReservedColumn(field, level.EntryName, level.Table!.Value.Mask, 0, 0);
            }

            PageRule page = level.Page!;
            string description = level.Level > 1 ? level.EntryName + " mapping a " + page.SizeName + " page" : level.EntryName;
            return page.High is BitRange high
                ? new ReservedColumn(field, description, page.Frame.Mask, high.Mask, page.HighAt - high.Lo)
                : new ReservedColumn(field, description, page.Frame.Mask, 0, 0);
        }

        private static void AddCondition(List<string> conditions, SpecCondition? condition)
        {
            if (condition != null && !conditions.Contains(condition.Value.Name))
            {
                conditions.Add(condition.Value.Name);
            }
        }

        private static bool Holds(SpecCondition? condition, List<string> conditions, int row)
        {
            if (condition == null)
            {
                return true;
            }

            bool set = (row & (1 << conditions.IndexOf(condition.Value.Name))) != 0;
            return set != condition.Value.Negated;
        }
    }
}
