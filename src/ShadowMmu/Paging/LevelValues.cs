using System.Runtime.CompilerServices;

namespace ShadowMmu;

/// <summary>One 64-bit value per paging level, indexed like KVM's walker arrays: <c>[level - 1]</c>.</summary>
[InlineArray(5)]
public struct LevelValues
{
    private ulong _level1;
}

/// <summary>One access-rights byte (<see cref="AccessRights"/>) per paging level, indexed <c>[level - 1]</c>.</summary>
[InlineArray(5)]
public struct LevelAccess
{
    private byte _level1;
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
