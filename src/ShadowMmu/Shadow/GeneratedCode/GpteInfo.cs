namespace ShadowMmu;

/// <summary>A guest entry as the walk reads it.</summary>
/// <param name="MapsPage">True when the entry maps a page (a leaf).</param>
/// <param name="Gfn">The frame of the table it references, or the first frame of the page it maps.</param>
/// <param name="Access">The rights this entry grants (U W X).</param>
/// <param name="Dirty">The entry's dirty flag (leaves).</param>
public readonly record struct GpteInfo(bool MapsPage, ulong Gfn, uint Access, bool Dirty);
