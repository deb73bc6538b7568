using System;
using System.ComponentModel;
using System.IO;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;

namespace ShadowMmu;

/// <summary>
/// Guest physical memory: one flat region starting at guest-physical address 0. Naturally aligned 4- and 8-byte
/// accesses are atomic, as the processor's paging-structure accesses are, and compare-exchange gives the locked
/// read-modify-write that A/D updates need. An access that does not lie wholly inside the region fails (returns
/// false) instead of throwing, so a guest table pointing past the end of memory is an ordinary walk result.
/// </summary>
public sealed unsafe class GuestMemory : IDisposable
{
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly IDisposable? _owner;
    private readonly GuestMemory? _viewed;
    private byte* _base;

    private GuestMemory(byte* start, ulong size, MemoryMappedFile? file, MemoryMappedViewAccessor? view, IDisposable? owner = null, GuestMemory? viewed = null)
    {
        _base = start;
        Size = size;
        _file = file;
        _view = view;
        _owner = owner;
        _viewed = viewed;
    }

    /// <summary>Bytes of guest physical memory.</summary>
    public ulong Size { get; }

    /// <summary>True for a view made by <see cref="CreateReadOnlyView"/>: nothing is ever stored through it.</summary>
    public bool IsReadOnly => _viewed != null;

    /// <summary>Zeroed memory of <paramref name="size"/> bytes (a multiple of 4 KiB).</summary>
    public static GuestMemory Allocate(ulong size)
    {
        if (size == 0 || (size & 0xFFF) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "Guest memory is a whole number of 4 KiB pages.");
        }

        byte* start = (byte*)NativeMemory.AlignedAlloc((nuint)size, 4096);
        NativeMemory.Clear(start, (nuint)size);
        return new GuestMemory(start, size, null, null);
    }

    /// <summary>
    /// Maps a raw physical-memory image (as QEMU's <c>pmemsave</c> writes it) copy-on-write: the guest sees the
    /// file's bytes, writes stay private to this mapping, and the file is never modified.
    /// </summary>
    /// <exception cref="IOException">The file cannot be opened or mapped, or is empty.</exception>
    public static GuestMemory MapImage(string path)
    {
        // The length of the file the path names: FileInfo.Length of a symbolic link on Unix is the link's own.
        long length;
        using (Microsoft.Win32.SafeHandles.SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            length = RandomAccess.GetLength(handle);
        }

        if (length == 0)
        {
            throw new IOException($"'{path}' is empty.");
        }

        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.CopyOnWrite);
        try
        {
            MemoryMappedViewAccessor view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.CopyOnWrite);
            byte* start = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            return new GuestMemory(start + view.PointerOffset, (ulong)length, file, view);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Guest memory over <paramref name="size"/> bytes at <paramref name="start"/> that <paramref name="owner"/> holds
    /// (a dump's reserved region); disposing the memory disposes the owner, which must keep the bytes where they are.
    /// </summary>
    internal static GuestMemory FromRegion(byte* start, ulong size, IDisposable owner) => new(start, size, null, null, owner);

    /// <summary>
    /// A view of the same bytes through which nothing is stored: a debugger's view of a dump. A walk through it sees
    /// the memory as it is and lists the A/D flags the processor would set (<see cref="GuestWalk.Updates"/>) without
    /// setting them: a compare-exchange compares and reports whether it would have stored, and stores nothing; a plain
    /// write throws. Walks through a view never change memory, so any number of threads may walk through one at once
    /// (while nothing writes the memory itself). The view lives no longer than this memory; disposing it frees nothing.
    /// </summary>
    public GuestMemory CreateReadOnlyView()
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        return new GuestMemory(_base, Size, null, null, null, _viewed ?? this);
    }

    /// <summary>Copies <paramref name="image"/> into new guest memory, rounded up to whole pages.</summary>
    public static GuestMemory FromBytes(ReadOnlySpan<byte> image)
    {
        GuestMemory memory = Allocate(((ulong)image.Length + 0xFFF) & ~0xFFFUL);
        image.CopyTo(new Span<byte>(memory._base, image.Length));
        return memory;
    }

    /// <summary>
    /// For generated walkers: a reference to the byte at guest-physical address 0, so that a walk can read its entries
    /// with one bounds compare each (against <see cref="Size"/>, read once per walk) and an aligned atomic load. Nothing
    /// checks what is done with it: read only inside <see cref="Size"/>, naturally aligned, with
    /// <c>Volatile.Read</c> so that entries stay atomic.
    /// </summary>
    /// <remarks>
    /// <para>It is public because a walker generated from a consumer's own spec is compiled into the consumer's assembly,
    /// and it is a <c>ref byte</c> rather than a pointer so that such a walker needs no <c>unsafe</c> code.</para>
    /// <para>The bytes never move while this object lives, so the reference may be kept for a whole walk: allocated memory
    /// stays where it was allocated, and an image mapped with <see cref="MapImage"/> keeps its address when a write makes
    /// the kernel give a page its private copy (copy-on-write replaces the page behind the same virtual address). Only
    /// <see cref="Dispose"/> releases the bytes (after it the reference is null); a walk racing <see cref="Dispose"/> is a
    /// use after free, as any access racing it would be.</para>
    /// </remarks>
    [EditorBrowsable(EditorBrowsableState.Never)]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref byte DangerousGetBaseReference() => ref *_base;

    /// <summary>True when the <paramref name="length"/> bytes at <paramref name="gpa"/> all lie in memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Contains(ulong gpa, ulong length) => gpa < Size && length <= Size - gpa;

    /// <summary>Atomically reads the 8 bytes at <paramref name="gpa"/>; false when they are not all in memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryReadUInt64(ulong gpa, out ulong value)
    {
        if (!Contains(gpa, 8))
        {
            value = 0;
            return false;
        }

        value = (gpa & 7) == 0 ? Volatile.Read(ref *(ulong*)(_base + gpa)) : Unsafe.ReadUnaligned<ulong>(_base + gpa);
        return true;
    }

    /// <summary>Atomically reads the 4 bytes at <paramref name="gpa"/>; false when they are not all in memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryReadUInt32(ulong gpa, out uint value)
    {
        if (!Contains(gpa, 4))
        {
            value = 0;
            return false;
        }

        value = (gpa & 3) == 0 ? Volatile.Read(ref *(uint*)(_base + gpa)) : Unsafe.ReadUnaligned<uint>(_base + gpa);
        return true;
    }

    /// <summary>
    /// Locked compare-exchange of the aligned 8 bytes at <paramref name="gpa"/>: stores <paramref name="value"/> only
    /// if memory still holds <paramref name="expected"/>. False when memory changed or the address is not in memory.
    /// Through a read-only view (<see cref="CreateReadOnlyView"/>): true when memory holds <paramref name="expected"/>,
    /// and nothing is stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryCompareExchangeUInt64(ulong gpa, ulong expected, ulong value)
    {
        if ((gpa & 7) != 0 || !Contains(gpa, 8))
        {
            return false;
        }

        return _viewed != null
            ? Volatile.Read(ref *(ulong*)(_base + gpa)) == expected
            : Interlocked.CompareExchange(ref *(ulong*)(_base + gpa), value, expected) == expected;
    }

    /// <summary>The 4-byte form of <see cref="TryCompareExchangeUInt64"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryCompareExchangeUInt32(ulong gpa, uint expected, uint value)
    {
        if ((gpa & 3) != 0 || !Contains(gpa, 4))
        {
            return false;
        }

        return _viewed != null
            ? Volatile.Read(ref *(uint*)(_base + gpa)) == expected
            : Interlocked.CompareExchange(ref *(uint*)(_base + gpa), value, expected) == expected;
    }

    /// <summary>Atomically writes 8 bytes (aligned) at <paramref name="gpa"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The bytes are not all in memory.</exception>
    /// <exception cref="InvalidOperationException">This is a read-only view.</exception>
    public void WriteUInt64(ulong gpa, ulong value)
    {
        CheckWritable(gpa, 8);
        if ((gpa & 7) == 0)
        {
            Volatile.Write(ref *(ulong*)(_base + gpa), value);
        }
        else
        {
            Unsafe.WriteUnaligned(_base + gpa, value);
        }
    }

    /// <summary>Atomically writes 4 bytes (aligned) at <paramref name="gpa"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The bytes are not all in memory.</exception>
    /// <exception cref="InvalidOperationException">This is a read-only view.</exception>
    public void WriteUInt32(ulong gpa, uint value)
    {
        CheckWritable(gpa, 4);
        if ((gpa & 3) == 0)
        {
            Volatile.Write(ref *(uint*)(_base + gpa), value);
        }
        else
        {
            Unsafe.WriteUnaligned(_base + gpa, value);
        }
    }

    /// <summary>Reads an entry of <paramref name="size"/> (4 or 8) bytes, zero-extended.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The bytes are not all in memory.</exception>
    public ulong ReadEntry(ulong gpa, int size)
    {
        CheckRange(gpa, (ulong)size);
        if (size == 4)
        {
            TryReadUInt32(gpa, out uint value);
            return value;
        }

        TryReadUInt64(gpa, out ulong wide);
        return wide;
    }

    /// <summary>Writes an entry of <paramref name="size"/> (4 or 8) bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The bytes are not all in memory.</exception>
    /// <exception cref="InvalidOperationException">This is a read-only view.</exception>
    public void WriteEntry(ulong gpa, ulong value, int size)
    {
        if (size == 4)
        {
            WriteUInt32(gpa, (uint)value);
        }
        else
        {
            WriteUInt64(gpa, value);
        }
    }

    /// <summary>
    /// Reads <paramref name="entries"/>.Length entries of <paramref name="entryBytes"/> (4 or 8) bytes from
    /// <paramref name="gpa"/>, zero-extended: KVM's one read of a PTE group, each entry read atomically when it is
    /// naturally aligned (as a guest's entries are). False when not all in memory.
    /// </summary>
    public bool TryReadEntries(ulong gpa, Span<ulong> entries, int entryBytes)
    {
        ulong length = (ulong)(entries.Length * entryBytes);
        if (!Contains(gpa, length))
        {
            return false;
        }

        byte* first = _base + gpa;
        bool aligned = (gpa & (ulong)(entryBytes - 1)) == 0;
        for (int i = 0; i < entries.Length; i++)
        {
            byte* entry = first + (i * entryBytes);
            entries[i] = (entryBytes, aligned) switch
            {
                (8, true) => Volatile.Read(ref Unsafe.AsRef<ulong>(entry)),
                (8, false) => Unsafe.ReadUnaligned<ulong>(entry),
                (_, true) => Volatile.Read(ref Unsafe.AsRef<uint>(entry)),
                _ => Unsafe.ReadUnaligned<uint>(entry),
            };
        }

        return true;
    }

    /// <summary>Copies bytes out of guest memory.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The bytes are not all in memory.</exception>
    public void Read(ulong gpa, Span<byte> destination)
    {
        CheckRange(gpa, (ulong)destination.Length);
        new ReadOnlySpan<byte>(_base + gpa, destination.Length).CopyTo(destination);
    }

    /// <summary>Copies bytes into guest memory (not atomic as a whole).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The bytes are not all in memory.</exception>
    /// <exception cref="InvalidOperationException">This is a read-only view.</exception>
    public void Write(ulong gpa, ReadOnlySpan<byte> source)
    {
        CheckWritable(gpa, (ulong)source.Length);
        source.CopyTo(new Span<byte>(_base + gpa, source.Length));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_base == null)
        {
            return;
        }

        if (_viewed != null)
        {
            // A view: the bytes are the viewed memory's to free.
        }
        else if (_owner != null)
        {
            _owner.Dispose();
        }
        else if (_view != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file!.Dispose();
        }
        else
        {
            NativeMemory.AlignedFree(_base);
        }

        _base = null;
    }

    private void CheckWritable(ulong gpa, ulong length)
    {
        CheckRange(gpa, length);
        if (_viewed != null)
        {
            throw new InvalidOperationException("This guest memory is a read-only view: nothing is stored through it.");
        }
    }

    private void CheckRange(ulong gpa, ulong length)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        if (!Contains(gpa, length))
        {
            throw new ArgumentOutOfRangeException(nameof(gpa), $"0x{gpa:x} (+{length}) is outside the {Size:#,0} bytes of guest memory.");
        }
    }
}
