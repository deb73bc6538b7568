using System;
using System.Runtime.CompilerServices;
using System.Threading;
using ShadowMmu.Specs;

namespace ShadowMmu;

/// <summary>
/// One address space, enumerated: every page the tables at CR3 map, as the processor would translate it, found by
/// reading the tables from the root down and skipping absent subtrees (QEMU's <c>info tlb</c>, Volatility3's
/// <c>mapping()</c>). Any mode a spec describes works, read through the same rules as the reference walker: an entry
/// with a reserved bit set maps nothing (the processor would raise #PF with RSVD), a table outside memory is skipped
/// and counted, rights are ANDed over the levels, PSE-36 address bits and protection keys are the spec's.
/// </summary>
/// <remarks>
/// What the spec says of an entry under the processor state is worked out once per level when the address space is
/// made (by the reference walker's rules) and kept as masks, so that an entry costs a few ANDs; each table is read
/// with one bounds check, and its entries that are not present are passed over without a call.
/// </remarks>
public sealed class AddressSpace
{
    private readonly GuestMemory _memory;
    private readonly PagingSpec _spec;
    private readonly LevelRules[] _levels;
    private readonly ulong[] _rootRegisters;
    private readonly ulong _root;
    private readonly int _entryBytes;
    private readonly ulong _present;
    private readonly ulong _writable;
    private readonly ulong _user;
    private readonly ulong _executeDisable;
    private readonly ulong _keyMask;
    private readonly int _keyShift;

    /// <summary>An address space of <paramref name="mode"/> in <paramref name="memory"/> under <paramref name="cpu"/>.</summary>
    /// <param name="mode">An x86 paging mode (not EPT).</param>
    /// <param name="memory">Guest physical memory.</param>
    /// <param name="cpu">Control registers: CR3 names the root; EFER.NXE, CR4.PSE, CR4.PKE and MAXPHYADDR apply.</param>
    /// <param name="rootRegisters">
    /// For a mode whose root is a set of registers (PAE's PDPTEs): their values as the processor holds them (a
    /// walker's <c>PdpteRegisters</c>); empty to read them from the table CR3 names.
    /// </param>
    /// <exception cref="ArgumentException">The mode is an EPT mode or its spec is invalid.</exception>
    public AddressSpace(PagingModeInfo mode, GuestMemory memory, in CpuState cpu, ReadOnlySpan<ulong> rootRegisters = default)
    {
        ArgumentNullException.ThrowIfNull(mode);
        ArgumentNullException.ThrowIfNull(memory);
        if (mode.IsEpt)
        {
            throw new ArgumentException("An address space is enumerated from x86 page tables; EPT tables are not one.", nameof(mode));
        }

        _memory = memory;
        _spec = SpecParser.Parse(mode.SpecFile, mode.SpecText).Spec ?? throw new ArgumentException($"The spec of '{mode.Name}' is invalid.", nameof(mode));
        var rules = new ReferenceEntryRules(_spec, cpu);
        _entryBytes = _spec.EntryBytes;
        _root = cpu.Cr3 & _spec.Root.Mask;
        Mode = mode;
        _present = 1UL << _spec.Present.Bit;
        _writable = 1UL << _spec.Writable.Bit;
        _user = 1UL << _spec.User.Bit;
        _executeDisable = rules.ExecuteDisableEnabled ? 1UL << _spec.ExecuteDisable!.Value.Bit : 0;
        (_keyMask, _keyShift) = rules.ProtectionKeysEnabled ? (_spec.ProtectionKey!.Value.Mask, _spec.ProtectionKey.Value.Lo) : (0UL, 0);
        _levels = new LevelRules[_spec.RootLevel + 1];
        foreach (LevelSpec level in _spec.Levels)
        {
            _levels[level.Level] = new LevelRules(level, rules, _spec);
        }

        LevelSpec rootLevel = _spec.GetLevel(_spec.RootLevel);
        _rootRegisters = Array.Empty<ulong>();
        if (rootLevel.Register)
        {
            _rootRegisters = new ulong[1 << rootLevel.Index.Width];
            for (int i = 0; i < _rootRegisters.Length; i++)
            {
                _rootRegisters[i] = i < rootRegisters.Length ? rootRegisters[i] : ReadEntry(_root + (ulong)(i * _entryBytes));
            }
        }
    }

    /// <summary>The mode.</summary>
    public PagingModeInfo Mode { get; }

    /// <summary>
    /// Calls <paramref name="visitor"/> for every mapped page in address order (canonical addresses in the IA-32e
    /// modes, so the upper half comes last), and returns what was skipped on the way.
    /// </summary>
    public AddressSpaceCounts Enumerate<TVisitor>(ref TVisitor visitor)
        where TVisitor : IMappingVisitor
    {
        var counts = default(AddressSpaceCounts);
        var path = new Inherited(AccessRights.All);
        int rootLevel = _spec.RootLevel;
        if (_rootRegisters.Length > 0)
        {
            LevelRules level = _levels[rootLevel];
            for (int i = 0; i < _rootRegisters.Length; i++)
            {
                Visit(ref visitor, ref counts, level, _rootRegisters[i], (ulong)i << level.IndexShift, path, entryAddress: _root + (ulong)(i * _entryBytes));
            }
        }
        else
        {
            Table(ref visitor, ref counts, rootLevel, _root, 0, path);
        }

        return counts;
    }

    private void Table<TVisitor>(ref TVisitor visitor, ref AddressSpaceCounts counts, int levelNumber, ulong table, ulong vaBase, Inherited path)
        where TVisitor : IMappingVisitor
    {
        LevelRules level = _levels[levelNumber];
        int entries = 1 << level.IndexBits;
        if (!_memory.Contains(table, (ulong)(entries * _entryBytes)))
        {
            counts.TablesOutsideMemory++;
            return;
        }

        counts.Tables++;
        ref byte start = ref Unsafe.Add(ref _memory.DangerousGetBaseReference(), (nint)table);
        bool aligned = (table & (ulong)(_entryBytes - 1)) == 0;
        for (int i = 0; i < entries; i++)
        {
            ulong entry = !aligned ? ReadEntry(table + (ulong)(i * _entryBytes))
                : _entryBytes == 4 ? Volatile.Read(ref Unsafe.As<byte, uint>(ref Unsafe.Add(ref start, i * 4)))
                : Volatile.Read(ref Unsafe.As<byte, ulong>(ref Unsafe.Add(ref start, i * 8)));
            if ((entry & _present) != 0)
            {
                Visit(ref visitor, ref counts, level, entry, vaBase | ((ulong)i << level.IndexShift), path, table + (ulong)(i * _entryBytes));
            }
        }
    }

    private void Visit<TVisitor>(ref TVisitor visitor, ref AddressSpaceCounts counts, LevelRules level, ulong entry, ulong va, Inherited path, ulong entryAddress)
        where TVisitor : IMappingVisitor
    {
        if ((entry & _present) == 0)
        {
            return;
        }

        bool mapsPage = level.AlwaysPage || (entry & level.PageSize) != 0;
        ulong reserved = mapsPage ? level.PageReserved : level.TableReserved;
        if ((entry & reserved) != 0)
        {
            counts.ReservedEntries++;
            return;
        }

        // Register levels carry no rights (PAE's PDPTEs): only table and page entries in memory do.
        Inherited here = level.Spec.Register ? path : And(path, entry);
        if (!mapsPage)
        {
            Table(ref visitor, ref counts, level.Spec.Level - 1, entry & level.TableMask, va, here);
            return;
        }

        counts.Pages++;
        var page = new MappedPage(
            Canonical(va), ReferenceEntryRules.PageFrame(level.Spec, entry), level.PageBytes, here.Access,
            (int)((entry & _keyMask) >> _keyShift), entry, level.Spec.Level, entryAddress);
        visitor.Page(page);
    }

    // The rights a path grants once it goes through an entry: U/S and R/W ANDed, execute cleared by execute-disable.
    private Inherited And(Inherited path, ulong entry)
    {
        uint access = path.Access;
        access &= (entry & _user) != 0 ? ~0U : ~AccessRights.User;
        access &= (entry & _writable) != 0 ? ~0U : ~AccessRights.Write;
        access &= (entry & _executeDisable) != 0 ? ~AccessRights.Execute : ~0U;
        return new Inherited(access);
    }

    private ulong Canonical(ulong va)
    {
        if (!_spec.Canonical || _spec.LinearBits >= 64)
        {
            return va;
        }

        int unused = 64 - _spec.LinearBits;
        return (ulong)((long)(va << unused) >> unused);
    }

    // An entry outside memory reads as 0 (not present).
    private ulong ReadEntry(ulong address)
    {
        if (_entryBytes == 4)
        {
            return _memory.TryReadUInt32(address, out uint narrow) ? narrow : 0;
        }

        return _memory.TryReadUInt64(address, out ulong entry) ? entry : 0;
    }

    // The rights a path grants so far: U W X (AccessRights).
    private readonly record struct Inherited(uint Access);

    // What a level's spec says, worked out once for the processor state.
    private sealed class LevelRules
    {
        public LevelRules(LevelSpec spec, ReferenceEntryRules rules, PagingSpec paging)
        {
            Spec = spec;
            IndexShift = spec.Index.Lo;
            IndexBits = spec.Index.Width;
            TableReserved = spec.Table != null ? rules.ReservedBits(spec, isPage: false) : ulong.MaxValue;
            PageReserved = spec.Page != null ? rules.ReservedBits(spec, isPage: true) : ulong.MaxValue;
            TableMask = spec.Table?.Mask ?? 0;
            PageBytes = spec.Page?.Size ?? 0;

            // MapsPage, asked of an entry with and without the page-size bit: level 1 always maps a page; above it the
            // bit decides where the page rule holds, and is reserved or ignored where it does not.
            AlwaysPage = rules.MapsPage(spec, 0, out ulong psReserved);
            bool withBit = paging.PageSize is FlagBit ps && rules.MapsPage(spec, 1UL << ps.Bit, out _);
            PageSize = !AlwaysPage && withBit ? 1UL << paging.PageSize!.Value.Bit : 0;
            TableReserved |= psReserved;
        }

        public LevelSpec Spec { get; }

        public int IndexShift { get; }

        public int IndexBits { get; }

        public ulong TableReserved { get; }

        public ulong PageReserved { get; }

        public ulong TableMask { get; }

        public ulong PageBytes { get; }

        /// <summary>Every present entry maps a page (level 1).</summary>
        public bool AlwaysPage { get; }

        /// <summary>The page-size bit where it makes an entry map a page, else 0.</summary>
        public ulong PageSize { get; }
    }
}

/// <summary>Receives the pages an <see cref="AddressSpace"/> maps, in address order.</summary>
public interface IMappingVisitor
{
    /// <summary>One mapped page.</summary>
    void Page(in MappedPage page);
}

/// <summary>A page an address space maps, as a walk of its address would end.</summary>
/// <param name="Va">The page's first linear address (canonical in the IA-32e modes).</param>
/// <param name="Pa">The physical address of its first byte.</param>
/// <param name="Size">Page size in bytes.</param>
/// <param name="Access">The rights the whole path grants (<see cref="AccessRights"/>: U, W, X ANDed over the levels, raw: CR0.WP, SMEP and SMAP apply per access).</param>
/// <param name="ProtectionKey">The leaf's protection key (0 when keys are off).</param>
/// <param name="Entry">The leaf entry.</param>
/// <param name="Level">The leaf's level (1 for a 4 KiB page).</param>
/// <param name="EntryAddress">The physical address of the leaf entry.</param>
public readonly record struct MappedPage(ulong Va, ulong Pa, ulong Size, uint Access, int ProtectionKey, ulong Entry, int Level, ulong EntryAddress);

/// <summary>What an enumeration read and what it skipped.</summary>
public struct AddressSpaceCounts
{
    /// <summary>Tables read.</summary>
    public long Tables;

    /// <summary>Pages mapped.</summary>
    public long Pages;

    /// <summary>Present entries skipped because a reserved bit is set: the processor would fault on them.</summary>
    public long ReservedEntries;

    /// <summary>Tables skipped because they lie (partly) outside guest memory.</summary>
    public long TablesOutsideMemory;
}
