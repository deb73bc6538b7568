using System;
using System.Collections.Generic;
using System.Linq;

namespace ShadowMmu.Tests.Differential;

/// <summary>One random walk case: the processor state and the access; the tables live in the memory it was built in.</summary>
public sealed record RandomPagingCase(string Mode, CpuState Cpu, ulong Va, AccessKind Kind, int Cpl, bool Ac)
{
    public override string ToString() =>
        $"{Mode} cr0=0x{Cpu.Cr0:x} cr3=0x{Cpu.Cr3:x} cr4=0x{Cpu.Cr4:x} efer=0x{Cpu.Efer:x} pkru=0x{Cpu.Pkru:x} va=0x{Va:x} {Kind} cpl={Cpl} ac={Ac}";
}

/// <summary>
/// Seeded random guest page tables for any built-in mode: mostly well-formed paths (so walks get deep) with random
/// rights, A/D, large pages, protection keys, and now and then a reserved bit, a not-present entry, an entry that
/// points back at a table already in use, or one that points past the end of memory.
/// </summary>
public sealed class RandomGuestTables
{
    private readonly Random _random;
    private readonly GuestMemory _memory;
    private readonly PagingModeInfo _mode;
    private readonly PageTableBuilder _builder;
    private readonly List<ulong> _mappedVas = new();
    private readonly ulong _dataBase;
    private readonly Options _options;

    /// <summary>How the tables are made.</summary>
    /// <param name="TableArea">Tables are allocated below this address.</param>
    /// <param name="Garbage">Damage some entries after mapping.</param>
    /// <param name="PointersOutsideMemory">Let damaged entries point past the end of memory.</param>
    /// <param name="VaAllowed">Linear pages that may be mapped or accessed.</param>
    /// <param name="FrameAllowed">Page frames (base, size) that leaves may map.</param>
    /// <param name="ProtectedEntries">Entries that damage must leave alone.</param>
    public sealed record Options(
        ulong TableArea = 0x20_0000,
        bool Garbage = true,
        bool PointersOutsideMemory = true,
        Func<ulong, bool>? VaAllowed = null,
        Func<ulong, ulong, bool>? FrameAllowed = null,
        IReadOnlySet<ulong>? ProtectedEntries = null,
        int MaxPhysAddr = CpuState.DefaultMaxPhysAddr);

    public RandomGuestTables(int seed, GuestMemory memory, PagingModeInfo mode, Options? options = null)
    {
        _random = new Random(seed);
        _memory = memory;
        _mode = mode;
        _options = options ?? new Options();
        _builder = new PageTableBuilder(memory, mode, 0x1000, _options.TableArea);
        _dataBase = _options.TableArea;
    }

    public PageTableBuilder Builder => _builder;

    public IReadOnlyList<ulong> MappedVas => _mappedVas;

    /// <summary>Maps <paramref name="count"/> random pages, then scribbles on some entries.</summary>
    public void Populate(int count)
    {
        for (int i = 0; i < count; i++)
        {
            ulong size = PickPageSize();
            ulong va = PickVa(size);
            if (_builder.EntryAddress(va, 1) is not null && size > 0x1000)
            {
                continue;
            }

            ulong pa = PickFrame(size);
            try
            {
                _builder.Map(va, pa, size, LeafFlags(), TableFlags());
                _mappedVas.Add(va | (uint)_random.Next(0, (int)Math.Min(size, 0x10_0000)));
            }
            catch (ArgumentException)
            {
                // A large page already covers this address: skip it.
            }
            catch (InvalidOperationException)
            {
                break;
            }
        }

        if (_options.Garbage)
        {
            Scribble(count / 4);
        }
    }

    /// <summary>A random processor state for the mode, with the root of these tables in CR3.</summary>
    public CpuState PickCpu()
    {
        ulong cr0 = Cr0.PG | Cr0.PE | (Coin() ? Cr0.WP : 0);
        ulong cr4 = (Coin() ? Cr4.SMEP : 0) | (Coin() ? Cr4.SMAP : 0);
        ulong efer = Coin() ? Efer.NXE : 0;
        switch (_mode.Name)
        {
            case "legacy32":
                cr4 |= Coin(3) ? Cr4.PSE : 0;
                break;
            case "pae":
                cr4 |= Cr4.PAE;
                break;
            case "long4":
                cr4 |= Cr4.PAE | (Coin() ? Cr4.PKE : 0);
                efer |= Efer.LME | Efer.LMA;
                break;
            default:
                cr4 |= Cr4.PAE | Cr4.LA57 | (Coin() ? Cr4.PKE : 0);
                efer |= Efer.LME | Efer.LMA;
                break;
        }

        uint pkru = Coin() ? 0 : (uint)_random.NextInt64(0, 1L << 32);
        return new CpuState(cr0, _builder.Root, cr4, efer, pkru, _options.MaxPhysAddr);
    }

    /// <summary>A random access: mostly to mapped addresses, sometimes anywhere (non-canonical included).</summary>
    public RandomPagingCase PickCase(CpuState cpu)
    {
        ulong va;
        if (_mappedVas.Count > 0 && !Coin(8))
        {
            va = _mappedVas[_random.Next(_mappedVas.Count)];
            va = (va & ~0xFFFUL) | (uint)_random.Next(0x1000);
        }
        else
        {
            va = PickVa(0x1000) | (uint)_random.Next(0x1000);
            if (_mode.LinearBits > 32 && Coin(6))
            {
                va ^= 1UL << _random.Next(_mode.LinearBits, 64);
            }
        }

        var kind = (AccessKind)_random.Next(3);
        return new RandomPagingCase(_mode.Name, cpu, va, kind, Coin() ? 3 : 0, Coin());
    }

    private ulong PickPageSize()
    {
        int roll = _random.Next(10);
        return _mode.Name switch
        {
            "legacy32" => roll < 2 ? 0x40_0000UL : 0x1000UL,
            "pae" => roll < 2 ? 0x20_0000UL : 0x1000UL,
            _ => roll == 0 ? 0x4000_0000UL : roll < 3 ? 0x20_0000UL : 0x1000UL,
        };
    }

    private ulong PickVa(ulong size)
    {
        for (int attempt = 0; ; attempt++)
        {
            ulong va = (ulong)_random.NextInt64() & ((1UL << Math.Min(_mode.LinearBits, 63)) - 1);
            // Keep to a few upper-level slots so that tables are shared between addresses.
            if (_mode.LinearBits > 32 && Coin(4) == false)
            {
                va &= ~(0x1FFUL << (_mode.LinearBits - 9)) | (ulong)(uint)_random.Next(3) << (_mode.LinearBits - 9);
            }

            if (_mode.LinearBits > 32 && ((va >> (_mode.LinearBits - 1)) & 1) != 0)
            {
                va |= ~0UL << _mode.LinearBits;   // canonical upper half
            }

            va &= ~(size - 1);
            if (_options.VaAllowed == null || _options.VaAllowed(va) || attempt > 1000)
            {
                return va;
            }
        }
    }

    private ulong PickFrame(ulong size)
    {
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            ulong frame = PickAnyFrame(size);
            if (_options.FrameAllowed == null || _options.FrameAllowed(frame, size))
            {
                return frame;
            }
        }

        return _dataBase & ~(size - 1);
    }

    private ulong PickAnyFrame(ulong size)
    {
        // Mostly frames inside memory, sometimes beyond it (allowed: a leaf may map anything).
        ulong limit = Coin(8) ? 1UL << Math.Min(_options.MaxPhysAddr, _mode.EntryBytes == 4 && size == 0x1000 ? 32 : 39) : _memory.Size;
        ulong frame = ((ulong)_random.NextInt64(0, (long)Math.Max(limit, size)) & ~(size - 1));
        if (_mode.EntryBytes == 4 && size == 0x1000)
        {
            frame &= 0xFFFF_F000;
        }

        if (_mode.Name == "legacy32" && size > 0x1000 && !Coin(4))
        {
            frame &= 0xFFFF_FFFF;   // PSE-36 frames above 4 GiB, but not always
        }

        return frame == 0 ? _dataBase : frame;
    }

    private ulong LeafFlags()
    {
        ulong flags = (Coin(5) ? 0UL : 0x2) | (Coin(3) ? 0 : 0x4UL) | (Coin() ? 0x20UL : 0) | (Coin() ? 0x40UL : 0);
        if (_mode.EntryBytes == 8 && Coin(4))
        {
            flags |= 1UL << 63;
        }

        if ((_mode.Name == "long4" || _mode.Name == "long5") && Coin())
        {
            flags |= (ulong)(uint)_random.Next(16) << 59;
        }

        return flags;
    }

    private ulong TableFlags()
    {
        ulong flags = PageTableBuilder.TableFlags & ~(Coin(10) ? 0x2UL : 0) & ~(Coin(10) ? 0x4UL : 0);
        flags |= Coin() ? 0x20UL : 0;
        if (_mode.EntryBytes == 8 && Coin(12))
        {
            flags |= 1UL << 63;
        }

        return flags;
    }

    /// <summary>Random damage: flip a bit, clear present, point an entry at another table or past memory.</summary>
    private void Scribble(int count)
    {
        var tables = _builder.TablePages;
        int entries = 4096 / _mode.EntryBytes;
        for (int i = 0; i < count; i++)
        {
            ulong table = tables[_random.Next(tables.Count)];
            ulong gpa = table + (ulong)(_random.Next(entries) * _mode.EntryBytes);
            if (_mode.Name == "pae" && table == _builder.Root && gpa >= table + 32)
            {
                continue;
            }

            if (_options.ProtectedEntries?.Contains(gpa) == true)
            {
                continue;
            }

            ulong entry = _memory.ReadEntry(gpa, _mode.EntryBytes);
            int damage = _random.Next(5);
            if (damage == 3 && !_options.PointersOutsideMemory)
            {
                damage = 2;
            }

            switch (damage)
            {
                case 0:
                    entry ^= 1UL << _random.Next(_mode.EntryBytes * 8);
                    break;
                case 1:
                    entry &= ~1UL;
                    break;
                case 2:
                    entry = (entry & 0xFFF) | 1 | tables[_random.Next(tables.Count)];
                    break;
                case 3:
                    entry = (entry & 0xFFF) | 1 | ((_memory.Size + ((ulong)(uint)_random.Next(16) << 12)) & (_mode.EntryBytes == 4 ? 0xFFFF_F000UL : ~0xFFFUL));
                    break;
                default:
                    entry |= 1UL << 7;
                    break;
            }

            _memory.WriteEntry(gpa, entry, _mode.EntryBytes);
        }
    }

    private bool Coin(int oneIn = 2) => _random.Next(oneIn) == 0;
}
