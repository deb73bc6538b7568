using System;
using System.Collections.Generic;
using ShadowMmu.Benchmarks.Native;

namespace ShadowMmu.Benchmarks.Walks;

/// <summary>
/// Same inputs, same results: the generated walker against the reference walker (every field of the walk record), the
/// C walkers against the generated one (the same fields of their record) and the floors against the translation.
/// </summary>
internal static unsafe class WalkVerifier
{
    /// <summary>Checks the benchmark's own access (user read) on up to <paramref name="maxSamples"/> addresses of the list.</summary>
    public static void CheckSample(WalkImage image, VaList list, IGuestPageWalker generated, ReferenceWalker reference, int maxSamples)
    {
        int step = Math.Max(1, list.Count / maxSamples);
        for (int i = 0; i < list.Count; i += step)
        {
            ulong va = list[i];
            string? error = Compare(image, generated, reference, va, AccessKind.Read, 3, false, checkFloors: true);
            if (error != null)
            {
                throw new InvalidOperationException($"{image.Case.Name}: the implementations disagree on 0x{va:x}: {error}");
            }
        }
    }

    /// <summary>
    /// The wider check behind <c>--verify</c>: every case's hot set with every access kind, CPL and EFLAGS.AC, then
    /// with leaf and upper entries changed one way at a time (not present, reserved bit, read-only, supervisor, NX, a
    /// protection key, A and D clear; for EPT see <see cref="EptChanges"/>) in both copies of guest memory. Returns the
    /// number of walks compared.
    /// </summary>
    public static int CheckAll(Action<string> log)
    {
        int compared = 0;
        var failures = new List<string>();
        foreach (WalkCase c in WalkCase.All)
        {
            WalkImage image = WalkImage.Get(c, WalkPattern.Hot);
            VaList list = WalkImage.Addresses(c, WalkPattern.Hot);
            (string Name, ulong Set, ulong Clear)[] changes = c.IsEpt ? EptChanges : new (string, ulong, ulong)[]
            {
                ("none", 0, 0), ("not present", 0, 1), ("reserved", c.Mode == "legacy32" ? 0 : 1UL << 51, 0),
                ("read-only", 0, 2), ("supervisor", 0, 4), ("NX", c.Mode == "legacy32" ? 0 : 1UL << 63, 0),
                ("key 1", c.Mode is "long4" or "long5" ? 1UL << 59 : 0, 0), ("A/D clear", 0, 0x60),
                ("PS-bit reserved 4M", c.Name == WalkCase.Legacy32_4M ? 1UL << 21 : 0, 0),
            };
            for (int level = c.LeafLevel; level <= c.Info.RootLevel; level++)
            {
                if (c.Mode == "pae" && level == 3)
                {
                    continue;   // the PDPTE registers were loaded with CR3
                }

                foreach ((string name, ulong set, ulong clear) in changes)
                {
                    if (set == 0 && clear == 0 && name != "none")
                    {
                        continue;
                    }

                    for (int i = 0; i < list.Count; i += 7)
                    {
                        ulong va = list[i];
                        ulong gpa = EntryGpa(image, va, level);
                        ulong original = image.Memory.ReadEntry(gpa, c.EntryBytes);
                        foreach (AccessKind kind in new[] { AccessKind.Read, AccessKind.Write, AccessKind.Fetch })
                        {
                            foreach (int cpl in new[] { 0, 3 })
                            {
                                foreach (bool ac in new[] { false, true })
                                {
                                    Set(image, gpa, (original | set) & ~clear, c.EntryBytes);
                                    IGuestPageWalker generated = PagingModes.CreateWalker(c.Mode, image.Memory, image.Cpu);
                                    ReferenceWalker reference = ReferenceWalker.For(c.Info, image.Memory, image.Cpu);
                                    string? error = Compare(image, generated, reference, va, kind, cpl, ac, checkFloors: name == "none");
                                    compared++;
                                    if (error != null && failures.Count < 20)
                                    {
                                        failures.Add($"{c.Name} level {level} '{name}' {kind} cpl {cpl} ac {ac} 0x{va:x}: {error}");
                                    }
                                }
                            }
                        }

                        Set(image, gpa, original, c.EntryBytes);
                    }
                }
            }

            log($"{c.Name}: ok so far ({compared} walks compared)");
        }

        if (failures.Count > 0)
        {
            throw new InvalidOperationException("The implementations disagree:\n" + string.Join("\n", failures));
        }

        return compared;
    }

    /// <summary>
    /// EPT entries changed one way at a time: not present (XWR 000), a reserved address bit (above MAXPHYADDR),
    /// read+execute, read+write, execute-only (allowed: a violation for reads and writes), write-only (a
    /// misconfiguration), memory type 2 (reserved at a leaf, reserved bits in a table entry), uncacheable, ignore-PAT
    /// (reserved in a table entry), the page-size bit, A/D clear (the walkers set them with a compare-exchange).
    /// </summary>
    private static readonly (string Name, ulong Set, ulong Clear)[] EptChanges =
    {
        ("none", 0, 0), ("not present", 0, 7), ("reserved", 1UL << 51, 0), ("read+execute", 0, 2), ("read+write", 0, 4),
        ("execute-only", 0, 3), ("write-only", 0, 5), ("memory type 2", 0x10, 0x28), ("memory type UC", 0, 0x38),
        ("ignore PAT", 0x40, 0), ("page size", 0x80, 0), ("A/D clear", 0, 0x300),
    };

    private static void Set(WalkImage image, ulong gpa, ulong value, int bytes)
    {
        image.Memory.WriteEntry(gpa, value, bytes);
        if (bytes == 4)
        {
            *(uint*)(image.Native + gpa) = (uint)value;
        }
        else
        {
            *(ulong*)(image.Native + gpa) = value;
        }
    }

    private static ulong EntryGpa(WalkImage image, ulong va, int level)
    {
        IGuestPageWalker walker = PagingModes.CreateWalker(image.Case.Mode, image.Memory, image.Cpu);
        var walk = default(GuestWalk);
        walker.WalkAddr(ref walk, va, AccessKind.Read, 3, false);
        return walk.PteGpa[level - 1];
    }

    private static string? Compare(WalkImage image, IGuestPageWalker generated, ReferenceWalker reference, ulong va, AccessKind kind, int cpl, bool ac, bool checkFloors)
    {
        var g = default(GuestWalk);
        var r = default(GuestWalk);
        bool gOk = generated.WalkAddr(ref g, va, kind, cpl, ac);
        bool rOk = reference.WalkAddr(ref r, va, kind, cpl, ac);
        if (gOk != rOk || !Same(in g, in r))
        {
            return $"generated {g} / reference {r}";
        }

        foreach (CwImpl impl in new[] { NativeWalkers.Unrolled(image.Case.Mode), NativeWalkers.Loop(image.Case.Mode) })
        {
            // The C walkers read the native copy: undo the A/D updates the managed walks just made there too.
            var cw = default(CwWalk);
            ResetUpdates(image, in g);
            int ok = NativeWalkers.WalkOne(impl, image.Ctx, &cw, va, (int)kind, cpl, ac ? 1 : 0);
            string? error = SameAsGenerated(in g, gOk, in cw, ok != 0);
            if (error != null)
            {
                return $"{impl}: {error} (generated {g})";
            }
        }

        // Leave both copies as the generated walk left its own.
        ApplyUpdates(image, in g);
        if (checkFloors && gOk)
        {
            var cw = default(CwWalk);
            NativeWalkers.WalkOne(NativeWalkers.Floor(image.Case.FloorCase), image.Ctx, &cw, va, 0, 3, 0);
            if (cw.Pa != g.PhysicalAddress)
            {
                return $"C floor 0x{cw.Pa:x}, generated 0x{g.PhysicalAddress:x}";
            }

            ulong cs = CsFloor(image, va);
            if (cs != g.PhysicalAddress)
            {
                return $"C# floor 0x{cs:x}, generated 0x{g.PhysicalAddress:x}";
            }
        }

        return null;
    }

    private static ulong CsFloor(WalkImage image, ulong va) => image.Case.FloorCase switch
    {
        WalkCase.Legacy32_4K => Floors.Legacy32_4K(image.Ctx, va),
        WalkCase.Legacy32_4M => Floors.Legacy32_4M(image.Ctx, va),
        WalkCase.Pae_4K => Floors.Pae_4K(image.Ctx, va),
        WalkCase.Pae_2M => Floors.Pae_2M(image.Ctx, va),
        WalkCase.Long4_4K => Floors.Long4_4K(image.Ctx, va),
        WalkCase.Long4_2M => Floors.Long4_2M(image.Ctx, va),
        WalkCase.Long4_1G => Floors.Long4_1G(image.Ctx, va),
        WalkCase.Long5_4K => Floors.Long5_4K(image.Ctx, va),
        WalkCase.Long5_2M => Floors.Long5_2M(image.Ctx, va),
        _ => Floors.Long5_1G(image.Ctx, va),
    };

    // The generated and the reference walk ran on the managed copy, one after the other: the second saw the first's
    // A/D updates. Put the native copy in the state the first walk started from.
    private static void ResetUpdates(WalkImage image, in GuestWalk g)
    {
        int bytes = image.Case.EntryBytes;
        for (int i = 0; i < g.UpdateCount; i++)
        {
            PteUpdate u = g.Updates[i];
            Poke(image, u.Gpa, u.Old, bytes);
        }
    }

    private static void ApplyUpdates(WalkImage image, in GuestWalk g)
    {
        int bytes = image.Case.EntryBytes;
        for (int i = 0; i < g.UpdateCount; i++)
        {
            PteUpdate u = g.Updates[i];
            Poke(image, u.Gpa, u.New, bytes);
        }
    }

    private static void Poke(WalkImage image, ulong gpa, ulong value, int bytes)
    {
        if (bytes == 4)
        {
            *(uint*)(image.Native + gpa) = (uint)value;
        }
        else
        {
            *(ulong*)(image.Native + gpa) = value;
        }
    }

    private static bool Same(in GuestWalk a, in GuestWalk b)
    {
        if (a.Va != b.Va || a.Level != b.Level || a.MaxLevel != b.MaxLevel || a.PhysicalAddress != b.PhysicalAddress || a.PageSize != b.PageSize
            || a.PteAccess != b.PteAccess || a.ProtectionKey != b.ProtectionKey || a.Fault != b.Fault || a.ErrorCode != b.ErrorCode
            || a.EntryOutsideMemory != b.EntryOutsideMemory
            || (a.Fault == WalkFault.None && (a.MemoryType != b.MemoryType || a.IgnorePat != b.IgnorePat)))
        {
            return false;
        }

        for (int l = 0; l < 5; l++)
        {
            if (a.Ptes[l] != b.Ptes[l] || a.PteGpa[l] != b.PteGpa[l] || a.TableGfn[l] != b.TableGfn[l] || a.PtAccess[l] != b.PtAccess[l])
            {
                return false;
            }
        }

        return true;
    }

    private static string? SameAsGenerated(in GuestWalk g, bool gOk, in CwWalk c, bool cOk)
    {
        if (gOk != cOk)
        {
            return $"returned {cOk}";
        }

        if (g.Va != c.Va || g.Level != c.Level || g.MaxLevel != c.MaxLevel || g.PhysicalAddress != c.Pa || g.PageSize != c.PageSize
            || g.PteAccess != c.PteAccess || g.ProtectionKey != c.Pkey || (byte)g.Fault != c.Fault || g.ErrorCode != c.ErrorCode
            || g.EntryOutsideMemory != (c.Outside != 0) || g.UpdateCount != c.UpdateCount || g.PtAccess.Packed != c.PtAccess
            || (g.Fault == WalkFault.None && (g.MemoryType != c.MemoryType || g.IgnorePat != (c.IgnorePat != 0))))
        {
            return $"level {c.Level}/{c.MaxLevel} pa 0x{c.Pa:x} size 0x{c.PageSize:x} access {c.PteAccess} key {c.Pkey} fault {c.Fault} ec 0x{c.ErrorCode:x} updates {c.UpdateCount} type {c.MemoryType} ipat {c.IgnorePat} inherited 0x{c.PtAccess:x}";
        }

        // Entries the walk read: from the first level it read down to where it stopped.
        for (int l = g.Level; l <= Math.Max(g.MaxLevel, g.Level); l++)
        {
            if (l < 1)
            {
                continue;
            }

            if (g.Ptes[l - 1] != c.Ptes[l - 1] || g.PteGpa[l - 1] != c.PteGpa[l - 1])
            {
                return $"level {l} entry 0x{c.Ptes[l - 1]:x} at 0x{c.PteGpa[l - 1]:x}";
            }
        }

        for (int i = 0; i < g.UpdateCount; i++)
        {
            PteUpdate u = g.Updates[i];
            if (u.Gpa != c.Updates[(i * 3) + 0] || u.Old != c.Updates[(i * 3) + 1] || u.New != c.Updates[(i * 3) + 2])
            {
                return $"update {i}";
            }
        }

        return null;
    }
}
