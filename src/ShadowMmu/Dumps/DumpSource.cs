using System;
using System.IO;
using Microsoft.Win32.SafeHandles;

namespace ShadowMmu.Dumps;

/// <summary>
/// The bytes of a dump as its readers see them: the file itself, or the plain file that a flattened file describes
/// (<see cref="FlattenedSource"/>). Reads past the end are the file's problem and throw <see cref="DumpFormatException"/>.
/// </summary>
internal abstract class DumpSource
{
    protected DumpSource(string path) => Path = path;

    public string Path { get; }

    public abstract long Length { get; }

    /// <summary>The file handle when the bytes are the file's own at the same offsets (so they can be mapped).</summary>
    public virtual SafeFileHandle? DirectHandle => null;

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; bytes past the end are an error.</summary>
    public void ReadExactly(long offset, Span<byte> destination, string what)
    {
        if (offset < 0 || offset > Length || destination.Length > Length - offset)
        {
            throw Problem($"{what} at offset 0x{offset:x} (+0x{destination.Length:x}) lies past the end of the file (0x{Length:x} bytes)");
        }

        ReadCore(offset, destination);
    }

    /// <summary>The first offset at or after <paramref name="offset"/> that may hold non-zero data (holes skipped).</summary>
    public virtual long NextData(long offset) => offset;

    public DumpFormatException Problem(string problem) => new(Path, problem);

    protected abstract void ReadCore(long offset, Span<byte> destination);
}

/// <summary>A dump file read with positional reads (thread safe: decompression reads it from several threads).</summary>
internal sealed class FileSource : DumpSource
{
    private readonly SafeFileHandle _handle;
    private readonly long _length;

    public FileSource(string path, SafeFileHandle handle)
        : base(path)
    {
        _handle = handle;
        _length = RandomAccess.GetLength(handle);
    }

    public override long Length => _length;

    public override SafeFileHandle DirectHandle => _handle;

    public override long NextData(long offset) => NativeMethods.NextData(_handle, offset, _length);

    protected override void ReadCore(long offset, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int read = RandomAccess.Read(_handle, destination, offset);
            if (read <= 0)
            {
                throw Problem($"the file ended at offset 0x{offset:x} while it was read (it is shorter than its size said)");
            }

            destination = destination[read..];
            offset += read;
        }
    }
}
