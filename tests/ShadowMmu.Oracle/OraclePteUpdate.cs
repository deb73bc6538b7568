namespace ShadowMmu.Oracle;

/// <summary>
/// A paging-structure entry whose bytes the access changed (A/D updates). <paramref name="Size"/> is the
/// entry size: 4 for 32-bit paging, 8 otherwise; <paramref name="Pa"/> is the entry's guest-physical address.
/// </summary>
public readonly record struct OraclePteUpdate(ulong Pa, ulong Old, ulong New, int Size)
{
    public override string ToString() => $"[{Pa:X}] {Old:X} -> {New:X} ({Size} B)";
}
