namespace ShadowMmu.Dumps;

/// <summary>Guest-physical addresses [<see cref="Start"/>, <see cref="End"/>) that a dump holds.</summary>
public readonly record struct PhysicalRange(ulong Start, ulong End)
{
    /// <summary>Bytes in the range.</summary>
    public ulong Length => End - Start;

    /// <summary>True when <paramref name="gpa"/> lies in the range.</summary>
    public bool Contains(ulong gpa) => gpa >= Start && gpa < End;

    /// <inheritdoc/>
    public override string ToString() => $"0x{Start:x}-0x{End:x}";
}
