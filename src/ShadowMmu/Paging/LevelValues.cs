using System;
using System.Runtime.CompilerServices;

namespace ShadowMmu;

/// <summary>One 64-bit value per paging level, indexed like KVM's walker arrays: <c>[level - 1]</c>.</summary>
[InlineArray(Length)]
public struct LevelValues
{
    /// <summary>The number of levels.</summary>
    public const int Length = 5;

    private ulong _level1;
}

/// <summary>
/// One access-rights byte (<see cref="AccessRights"/>) per paging level, indexed <c>[level - 1]</c>, packed in one 64-bit
/// word (byte <c>level - 1</c>) so that a walk writes all of them with one store.
/// </summary>
public struct LevelAccess : IEquatable<LevelAccess>
{
    private ulong _packed;

    /// <summary>The rights of every level at once: byte <c>level - 1</c> holds level <c>level</c>'s.</summary>
    /// <param name="packed">Bytes 0 to 4 for levels 1 to 5; the upper bytes must be 0.</param>
    public LevelAccess(ulong packed) => _packed = packed;

    /// <summary>The number of levels.</summary>
    public const int Length = 5;

    /// <summary>The rights of level <paramref name="index"/> + 1.</summary>
    public byte this[int index]
    {
        readonly get => (uint)index < Length ? (byte)(_packed >> (index * 8)) : throw new IndexOutOfRangeException();
        set
        {
            if ((uint)index >= Length)
            {
                throw new IndexOutOfRangeException();
            }

            int shift = index * 8;
            _packed = (_packed & ~(0xFFUL << shift)) | (ulong)value << shift;
        }
    }

    /// <summary>The packed bytes.</summary>
    public readonly ulong Packed => _packed;

    /// <inheritdoc/>
    public readonly bool Equals(LevelAccess other) => _packed == other._packed;

    /// <inheritdoc/>
    public override readonly bool Equals(object? obj) => obj is LevelAccess other && Equals(other);

    /// <inheritdoc/>
    public override readonly int GetHashCode() => _packed.GetHashCode();
}

/// <summary>A paging-structure entry whose accessed or dirty flag a walk set.</summary>
/// <param name="Gpa">Guest-physical address of the entry.</param>
/// <param name="Old">Its value before the walk changed it.</param>
/// <param name="New">Its value after.</param>
public readonly record struct PteUpdate(ulong Gpa, ulong Old, ulong New);

/// <summary>Up to eight <see cref="PteUpdate"/>s, kept inside the walk record so that a walk allocates nothing.</summary>
[InlineArray(8)]
public struct PteUpdates
{
    private PteUpdate _first;
}

/// <summary>
/// The aligned group of 8 guest entries around a PTE, as the one read under the mmu_lock that re-checks the PTE gives
/// them (KVM's <c>prefetch_ptes</c>): prefetch maps the neighbours from it.
/// </summary>
[InlineArray(8)]
public struct GuestEntryGroup
{
    private ulong _first;
}
