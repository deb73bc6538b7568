using System;
using ShadowMmu.Dumps;

namespace ShadowMmu.Tests.Dumps;

/// <summary>A dump's bytes in memory, so that fuzzing opens thousands of dumps without writing files.</summary>
internal sealed class MemorySource : DumpSource
{
    private readonly byte[] _bytes;

    public MemorySource(string name, byte[] bytes)
        : base(name) => _bytes = bytes;

    public override long Length => _bytes.Length;

    protected override void ReadCore(long offset, Span<byte> destination) => _bytes.AsSpan((int)offset, destination.Length).CopyTo(destination);
}
