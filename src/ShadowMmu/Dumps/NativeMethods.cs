using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ShadowMmu.Dumps;

/// <summary>The few libc calls that keep opening a dump cheap on Linux: reservations, file mappings, holes.</summary>
internal static unsafe class NativeMethods
{
    public const int ProtRead = 1;
    public const int ProtWrite = 2;
    public const int MapPrivate = 0x02;
    public const int MapFixed = 0x10;
    public const int MapAnonymous = 0x20;
    public const int MapNoReserve = 0x4000;
    private const int SeekData = 3;

    public static readonly nint MapFailed = -1;

    /// <summary>True where the calls below exist with these flag values (Linux on x86-64 and arm64, libc found).</summary>
    public static bool IsLinux { get; } = OperatingSystem.IsLinux()
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64
        && LibcAnswers();

    [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static extern nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [DllImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static extern int Munmap(nint address, nuint length);

    [DllImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static extern long Lseek(int fd, long offset, int whence);

    private static bool LibcAnswers()
    {
        try
        {
            nint page = Mmap(0, 4096, ProtRead, MapPrivate | MapAnonymous, -1, 0);
            return page != MapFailed && Munmap(page, 4096) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;   // then dumps are opened into zeroed native memory, as elsewhere
        }
    }

    /// <summary>
    /// The first offset at or after <paramref name="offset"/> that holds data (lseek SEEK_DATA): a sparse file's
    /// holes need not be read. Where that is not known, <paramref name="offset"/> itself; past the last data,
    /// <paramref name="length"/>.
    /// </summary>
    public static long NextData(SafeFileHandle handle, long offset, long length)
    {
        if (!IsLinux || offset >= length)
        {
            return offset;
        }

        long next = Lseek((int)handle.DangerousGetHandle(), offset, SeekData);
        if (next >= 0)
        {
            return next;
        }

        const int ENXIO = 6;
        return Marshal.GetLastPInvokeError() == ENXIO ? length : offset;
    }
}
