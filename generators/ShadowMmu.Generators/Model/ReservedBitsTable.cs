using System.Collections.Generic;
using ShadowMmu.Specs;

namespace ShadowMmu.Generators
{
    /// <summary>One mask of the reserved-bits table: a level, and whether its entry references a table or maps a page.</summary>
    internal readonly struct ReservedSlot
    {
        public ReservedSlot(LevelSpec level, EntryCase entryCase)
        {
            Level = level;
            Case = entryCase;
        }

        public LevelSpec Level { get; }

        public EntryCase Case { get; }

        public string FieldName => "_" + SpecNames.ToPascal(Level.EntryName).ToLowerInvariant() + (Case == EntryCase.Page && Level.Level > 1 ? "PageReserved" : "Reserved");

        public string Describe => Level.EntryName + (Case == EntryCase.Page && Level.Level > 1 ? " mapping a " + Level.Page!.SizeName + " page" : "");
    }

    /// <summary>
    /// The fixed part of every reserved-bit mask, for every combination of the conditions the spec's rules name
    /// (KVM's <c>rsvd_bits_mask[bit7][level]</c>, precomputed for each combination instead of on each CR write).
    /// The part that depends on MAXPHYADDR is added when a walker is built.
    /// </summary>
    internal sealed class ReservedBitsTable
    {
        private ReservedBitsTable(List<string> conditions, List<ReservedSlot> slots, ulong[] masks)
        {
            Conditions = conditions;
            Slots = slots;
            Masks = masks;
        }

        /// <summary>The conditions, bit i of a row number standing for Conditions[i].</summary>
        public List<string> Conditions { get; }

        public List<ReservedSlot> Slots { get; }

        /// <summary>Row-major: <c>Masks[row * Slots.Count + slot]</c>.</summary>
        public ulong[] Masks { get; }

        public static ReservedBitsTable Compute(PagingSpec spec)
        {
            var conditions = new List<string>();
            var slots = new List<ReservedSlot>();
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
                    slots.Add(new ReservedSlot(level, EntryCase.Table));
                }

                if (level.Page != null)
                {
                    slots.Add(new ReservedSlot(level, EntryCase.Page));
                }
            }

            int rows = 1 << conditions.Count;
            var masks = new ulong[rows * slots.Count];
            for (int row = 0; row < rows; row++)
            {
                for (int s = 0; s < slots.Count; s++)
                {
                    ReservedSlot slot = slots[s];
                    ulong mask = 0;
                    foreach (ReservedRule rule in slot.Level.Reserved)
                    {
                        if ((rule.Case == EntryCase.Any || rule.Case == slot.Case) && Holds(rule.When, conditions, row))
                        {
                            mask |= rule.Bits.Mask;
                        }
                    }

                    // "page ... when C else reserved": without C, the page-size bit itself is reserved.
                    PageRule? page = slot.Level.Page;
                    if (slot.Case == EntryCase.Page && page != null && page.ElseReserved && !Holds(page.When, conditions, row))
                    {
                        mask |= 1UL << spec.PageSize!.Value.Bit;
                    }

                    masks[(row * slots.Count) + s] = mask;
                }
            }

            return new ReservedBitsTable(conditions, slots, masks);
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
