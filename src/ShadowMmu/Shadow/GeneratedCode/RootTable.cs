namespace ShadowMmu;

/// <summary>A guest table a shadow root shadows: the table at CR3, a PDPTE register's table, or a quadrant of a 32-bit page directory.</summary>
/// <param name="Gfn">The guest table's frame.</param>
/// <param name="Quadrant">Which part of it (4-byte-entry guests).</param>
/// <param name="Present">False for a PDPTE register that is not present: its slot has no root.</param>
public readonly record struct RootTable(ulong Gfn, int Quadrant, bool Present);
