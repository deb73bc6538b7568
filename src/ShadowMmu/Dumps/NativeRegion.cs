using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ShadowMmu.Dumps;

/// <summary>
/// Address space for a dump's whole guest-physical span. On Linux it is reserved anonymous memory
/// (MAP_NORESERVE): pages nobody writes stay the kernel's shared zero page, so a 4 GiB hole costs nothing; file
/// ranges whose offsets are page aligned are mapped over it copy-on-write instead of read. Elsewhere it is zeroed
/// native memory.
/// </summary>
internal sealed unsafe class NativeRegion : IDisposable
{
    public const ulong PageSize = 4096;

    /// <summary>The largest span reserved: 64 TiB on Linux (half the user address space), 64 GiB elsewhere.</summary>
    public static ulong MaxSpan => NativeMethods.IsLinux ? 1UL << 46 : 1UL << 36;

    private readonly bool _mapped;

    private NativeRegion(byte* start, ulong size, bool mapped)
    {
        Start = start;
        Size = size;
        _mapped = mapped;
    }

    public byte* Start { get; private set; }

    /// <summary>Bytes reserved, a whole number of pages.</summary>
    public ulong Size { get; }

    /// <summary>Reserves the span of a dump's memory, or says why it cannot be.</summary>
    public static NativeRegion ReserveFor(DumpSource source, ulong span, string what)
    {
        if (span > MaxSpan)
        {
            throw source.Problem($"{what} ends at guest-physical 0x{span:x}, past the 0x{MaxSpan:x} bytes a dump may span here");
        }

        return TryReserve(span) ?? throw source.Problem($"cannot reserve 0x{span:x} bytes of address space for the guest's memory");
    }

    /// <summary>Reserves <paramref name="size"/> bytes (rounded up to pages), all reading as zero; null when refused.</summary>
    public static NativeRegion? TryReserve(ulong size)
    {
        size = Math.Max(PageSize, (size + PageSize - 1) & ~(PageSize - 1));
        if (size > MaxSpan)
        {
            return null;
        }

        if (NativeMethods.IsLinux)
        {
            nint address = NativeMethods.Mmap(0, (nuint)size, NativeMethods.ProtRead | NativeMethods.ProtWrite,
                NativeMethods.MapPrivate | NativeMethods.MapAnonymous | NativeMethods.MapNoReserve, -1, 0);
            return address == NativeMethods.MapFailed ? null : new NativeRegion((byte*)address, size, true);
        }

        try
        {
            byte* start = (byte*)NativeMemory.AlignedAlloc((nuint)size, (nuint)PageSize);
            NativeMemory.Clear(start, (nuint)size);
            return new NativeRegion(start, size, false);
        }
        catch (OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>
    /// Maps <paramref name="length"/> bytes of <paramref name="file"/> from <paramref name="fileOffset"/> at
    /// <paramref name="offset"/> copy-on-write. All three must be page aligned and the pages wholly inside the
    /// file. False where mapping is not possible; the caller then copies.
    /// </summary>
    public bool TryMapFile(SafeFileHandle file, long fileOffset, ulong offset, ulong length)
    {
        if (!_mapped || ((ulong)fileOffset | offset | length) % PageSize != 0 || offset > Size || length > Size - offset)
        {
            return false;
        }

        if (length == 0)
        {
            return true;
        }

        nint address = NativeMethods.Mmap((nint)(Start + offset), (nuint)length,
            NativeMethods.ProtRead | NativeMethods.ProtWrite, NativeMethods.MapPrivate | NativeMethods.MapFixed,
            (int)file.DangerousGetHandle(), fileOffset);
        if (address != NativeMethods.MapFailed)
        {
            return true;
        }

        // A failed MAP_FIXED may have removed what was there: put the anonymous zero pages back for the copy.
        NativeMethods.Mmap((nint)(Start + offset), (nuint)length, NativeMethods.ProtRead | NativeMethods.ProtWrite,
            NativeMethods.MapPrivate | NativeMethods.MapFixed | NativeMethods.MapAnonymous | NativeMethods.MapNoReserve, -1, 0);
        return false;
    }

    public void Dispose()
    {
        if (Start == null)
        {
            return;
        }

        if (_mapped)
        {
            NativeMethods.Munmap((nint)Start, (nuint)Size);
        }
        else
        {
            NativeMemory.AlignedFree(Start);
        }

        Start = null;
    }
}
