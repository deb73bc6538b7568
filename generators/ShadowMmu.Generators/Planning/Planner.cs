using System.Collections.Generic;
using System.Linq;
using ShadowMmu.Specs;

namespace ShadowMmu.Generators
{
    /// <summary>
    /// Decides, once per spec, everything the emitter prints: how each level's entry is read, which pages it maps and
    /// under which gate, how the rights accumulate, the precomputed tables, and which methods the walker gets. What a
    /// walker does not get is recorded with its reason, for the Info diagnostic that says so.
    /// </summary>
    internal static class Planner
    {
        public static WalkerPlan Plan(PagingSpec spec)
        {
            var omitted = new List<Omission>();
            bool nestedWalk = PlanNestedWalk(spec, omitted);
            ShadowPlan? shadow = PlanShadow(spec, omitted);
            FlagBit? accessed = spec.Accessed;
            return new WalkerPlan(
                spec.FilePath,
                spec.WalkerName,
                spec.Mode,
                spec.Title,
                spec.FileName,
                spec.SourceText,
                spec.ModeLine,
                spec.SelectedWhen,
                spec.Format,
                spec.EntryBytes,
                PlanAddress(spec),
                spec.Root.Mask,
                spec.RootLevel,
                spec.Levels.Where(l => !l.Register).Max(l => l.Level),
                new ImmutableEquatableArray<LevelPlan>(spec.Levels.Select(l => PlanLevel(spec, l))),
                ReservedBitsTable.Compute(spec),
                spec.PageSize is FlagBit ps ? 1UL << ps.Bit : 0,
                accessed is FlagBit a ? new AccessedDirtyPlan(a.Bit, spec.Dirty?.Bit, a.When) : null,
                spec.IsEpt ? null : PlanX86(spec),
                spec.IsEpt ? PlanEpt(spec) : null,
                nestedWalk,
                shadow,
                shadow != null ? new SyncPlan(shadow.Quadrants) : null,
                new ImmutableEquatableArray<Omission>(omitted));
        }

        /// <summary>
        /// An x86 address wider than its mode either must be canonical (a #GP otherwise) or is truncated. A guest-physical
        /// address is at most 52 bits (MAXPHYADDR); with EPT narrower than that (4 levels: 48 bits), an address with one
        /// of bits 51:48 set is an EPT violation whose exit qualification has bits 6:3 clear (the current SDM, Vol. 3C,
        /// notes to "Exit Qualification for EPT Violations"; older editions said nothing).
        /// </summary>
        private static AddressPlan PlanAddress(PagingSpec spec)
        {
            if (spec.LinearBits >= 64)
            {
                return new AddressPlan(spec.LinearBits, AddressCheck.None);
            }

            if (spec.IsEpt)
            {
                return new AddressPlan(spec.LinearBits, spec.LinearBits < GuestPhysicalBits ? AddressCheck.EptViolation : AddressCheck.Truncate);
            }

            return new AddressPlan(spec.LinearBits, spec.Canonical ? AddressCheck.Canonical : AddressCheck.Truncate);
        }

        /// <summary>The most bits a guest-physical address has: MAXPHYADDR is at most 52.</summary>
        internal const int GuestPhysicalBits = 52;

        private static LevelPlan PlanLevel(PagingSpec spec, LevelSpec level)
        {
            EntryRead read = level.Register ? EntryRead.Register : EntriesAligned(spec, level) ? EntryRead.Aligned : EntryRead.Checked;
            string name = SpecNames.ToPascal(level.EntryName).ToLowerInvariant();
            PagePlan? page = null;
            if (level.Page is PageRule rule)
            {
                // Without the condition, "else ignored" makes the page-size bit mean nothing: the entry references a table.
                bool gated = level.Level > 1 && rule.When != null && !rule.ElseReserved;
                page = new PagePlan(rule.SizeName, rule.Size, rule.Frame.Mask, rule.High, rule.HighAt,
                    ReservedBitsTable.FieldName(level, EntryCase.Page), rule.When, gated ? "_" + name + "MapsPages" : null);
            }

            return new LevelPlan(
                level.Level,
                level.EntryName,
                level.Index,
                read,
                level.Table?.Mask ?? 0,
                level.Table != null ? ReservedBitsTable.FieldName(level, EntryCase.Table) : null,
                page,
                level.Register ? "_" + name + "Registers" : null,
                level.Line);
        }

        /// <summary>
        /// True when every entry address of <paramref name="level"/> is naturally aligned: the address of its table (from
        /// CR3 or from the entry above) has no bits below the entry size, and the index adds a multiple of it. Such an entry
        /// is read with one aligned atomic load and no alignment test; a spec whose table addresses may be unaligned gets
        /// the checked read.
        /// </summary>
        private static bool EntriesAligned(PagingSpec spec, LevelSpec level)
        {
            ulong tableMask = level.Level == spec.RootLevel ? spec.Root.Mask : spec.GetLevel(level.Level + 1).Table!.Value.Mask;
            return (tableMask & (ulong)(spec.EntryBytes - 1)) == 0;
        }

        private static X86Plan PlanX86(PagingSpec spec)
        {
            bool foldsRights = spec.Present.Bit == 0 && spec.Writable.Bit == 1 && spec.User.Bit == 2
                && (spec.ExecuteDisable == null || spec.ExecuteDisable.Value.Bit > 2);
            ProtectionKeyPlan? key = spec.ProtectionKey is BitRange bits
                ? new ProtectionKeyPlan(bits, spec.ProtectionKeyWhen, PermissionBitmap.PkruMask(false), PermissionBitmap.PkruMask(true),
                    (16 * 8 << bits.Width) / 64)
                : null;
            return new X86Plan(spec.Present.Bit, spec.Writable.Bit, spec.User.Bit, foldsRights, spec.ExecuteDisable, key,
                new ImmutableEquatableArray<byte>(PermissionBitmap.Compute(spec.ExecuteDisable != null)));
        }

        private static EptPlan PlanEpt(PagingSpec spec)
        {
            EptSpec ept = spec.Ept!;
            bool standard = spec.Present.Bit == 0 && spec.Writable.Bit == 1 && ept.Execute.Bit == 2 && ept.MemoryType.Lo == 3;
            return new EptPlan(spec.Present.Bit, spec.Writable.Bit, ept.Execute.Bit, ept.UserExecute, ept.ExecuteOnly, ept.ExecuteOnlyWhen,
                ept.MemoryType, ept.ReservedMemoryTypes, ept.IgnorePat, standard,
                new ImmutableEquatableArray<ulong>(EptTables.MisconfigurationBitmap(ept)),
                new ImmutableEquatableArray<ushort>(EptTables.PermissionTable()),
                new ImmutableEquatableArray<byte>(EptTables.RightsQualification()));
        }

        /// <summary>
        /// The two-dimensional walk is the same walk with every guest table entry and the final address translated
        /// through EPT. It needs every entry read from memory, aligned: PAE's PDPTE registers are loaded from guest
        /// memory when the walker is built, not at each walk. An EPT format is the second dimension itself.
        /// </summary>
        private static bool PlanNestedWalk(PagingSpec spec, List<Omission> omitted)
        {
            if (spec.IsEpt)
            {
                return false;
            }

            const string methods = "WalkNested (the walk of a guest under EPT)";
            LevelSpec? register = spec.Levels.FirstOrDefault(l => l.Register);
            if (register != null)
            {
                omitted.Add(new Omission(methods, "its " + register.EntryName + "s are registers loaded when the walker is built, not entries a walk "
                    + "reads through EPT", register.Line));
                return false;
            }

            LevelSpec? unaligned = spec.Levels.FirstOrDefault(l => !EntriesAligned(spec, l));
            if (unaligned != null)
            {
                omitted.Add(new Omission(methods, "the table addresses of level " + unaligned.Level + " may leave its entries unaligned, and "
                    + "an entry is read through EPT with one aligned load", unaligned.Line));
                return false;
            }

            return true;
        }

        /// <summary>
        /// Shadow paging needs the guest's accessed and dirty flags (a clean page is mapped read-only until a write sets
        /// D) and the host's 9 index bits a level: 8-byte guests with 9-bit indexes (the register level aside), or 2-level
        /// 4-byte guests with 10-bit indexes, shadowed in quadrants as KVM shadows 32-bit paging.
        /// </summary>
        private static ShadowPlan? PlanShadow(PagingSpec spec, List<Omission> omitted)
        {
            const string methods = "Fetch and Prefetch (shadow paging, with Sync)";
            if (spec.Accessed == null || spec.Dirty == null)
            {
                string missing = spec.Accessed == null ? spec.Dirty == null ? "accessed and dirty flags" : "accessed flag" : "dirty flag";
                omitted.Add(new Omission(methods, "the spec has no " + missing + ", which shadow paging needs to map a clean page read-only",
                    spec.ModeLine));
                return null;
            }

            if (spec.EntryBytes == 4)
            {
                LevelSpec? odd = spec.Levels.FirstOrDefault(l => l.Index.Width != 10);
                if (spec.RootLevel != 2 || spec.LinearBits != 32 || odd != null)
                {
                    omitted.Add(new Omission(methods, "4-byte entries are shadowed only as 32-bit paging's: two levels of 10 index bits",
                        odd?.Line ?? spec.ModeLine));
                    return null;
                }
            }
            else
            {
                LevelSpec? odd = spec.Levels.FirstOrDefault(l => l.Register ? l.Index.Width > 2 : l.Index.Width != 9);
                if (odd != null)
                {
                    omitted.Add(new Omission(methods, "a shadow page has 512 entries, and level " + odd.Level + " has " + odd.Index.Width
                        + " index bits", odd.Line));
                    return null;
                }
            }

            // Four roots under a 4-entry root, one per GiB of a 32-bit linear space (PAE and 32-bit guests).
            bool fourRoots = spec.LinearBits == 32;
            ShadowRoots roots = spec.Levels.Any(l => l.Register) ? ShadowRoots.Registers : fourRoots ? ShadowRoots.Quadrants : ShadowRoots.One;
            bool readsGroupsDirectly = spec.Levels.Where(l => !l.Register).Any(l => EntriesAligned(spec, l));
            return new ShadowPlan(fourRoots ? 2 : spec.RootLevel, roots, spec.EntryBytes == 4, readsGroupsDirectly);
        }
    }
}
