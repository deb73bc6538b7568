using System;
using System.Runtime.InteropServices;

namespace ShadowMmu.Oracle.Native;

/// <summary>
/// The entry points of libunicorn.so.2, resolved once with <see cref="NativeLibrary"/> so that a missing
/// library or symbol becomes a reason string instead of a <see cref="DllNotFoundException"/> at some call site.
/// uc_ctl and uc_hook_add are C variadics; they are declared with their fixed trailing arguments, which is
/// what the x86-64 SysV ABI passes anyway (the Python binding does the same).
/// </summary>
internal sealed unsafe class UnicornLibrary
{
    public const string SoName = "libunicorn.so.2";

    public readonly delegate* unmanaged[Cdecl]<uint*, uint*, uint> Version;
    public readonly delegate* unmanaged[Cdecl]<int, IntPtr> StrError;
    public readonly delegate* unmanaged[Cdecl]<int, int, IntPtr*, int> Open;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, int> Close;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, int, int, int> CtlInt;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, ulong, nuint, uint, int> MemMap;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, ulong, byte*, nuint, int> MemWrite;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, ulong, byte*, nuint, int> MemRead;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, int, void*, int> RegWrite;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, int, void*, int> RegRead;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, int, IntPtr, IntPtr, ulong, ulong, int> HookAdd;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, ulong, ulong, ulong, nuint, int> EmuStart;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, int> EmuStop;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, nuint> ContextSize;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, int> ContextAlloc;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int> ContextSave;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int> ContextRestore;
    public readonly delegate* unmanaged[Cdecl]<IntPtr, int> ContextFree;

    private UnicornLibrary(IntPtr handle)
    {
        Version = (delegate* unmanaged[Cdecl]<uint*, uint*, uint>)Export(handle, "uc_version");
        StrError = (delegate* unmanaged[Cdecl]<int, IntPtr>)Export(handle, "uc_strerror");
        Open = (delegate* unmanaged[Cdecl]<int, int, IntPtr*, int>)Export(handle, "uc_open");
        Close = (delegate* unmanaged[Cdecl]<IntPtr, int>)Export(handle, "uc_close");
        CtlInt = (delegate* unmanaged[Cdecl]<IntPtr, int, int, int>)Export(handle, "uc_ctl");
        MemMap = (delegate* unmanaged[Cdecl]<IntPtr, ulong, nuint, uint, int>)Export(handle, "uc_mem_map");
        MemWrite = (delegate* unmanaged[Cdecl]<IntPtr, ulong, byte*, nuint, int>)Export(handle, "uc_mem_write");
        MemRead = (delegate* unmanaged[Cdecl]<IntPtr, ulong, byte*, nuint, int>)Export(handle, "uc_mem_read");
        RegWrite = (delegate* unmanaged[Cdecl]<IntPtr, int, void*, int>)Export(handle, "uc_reg_write");
        RegRead = (delegate* unmanaged[Cdecl]<IntPtr, int, void*, int>)Export(handle, "uc_reg_read");
        HookAdd = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, int, IntPtr, IntPtr, ulong, ulong, int>)Export(handle, "uc_hook_add");
        EmuStart = (delegate* unmanaged[Cdecl]<IntPtr, ulong, ulong, ulong, nuint, int>)Export(handle, "uc_emu_start");
        EmuStop = (delegate* unmanaged[Cdecl]<IntPtr, int>)Export(handle, "uc_emu_stop");
        ContextSize = (delegate* unmanaged[Cdecl]<IntPtr, nuint>)Export(handle, "uc_context_size");
        ContextAlloc = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr*, int>)Export(handle, "uc_context_alloc");
        ContextSave = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int>)Export(handle, "uc_context_save");
        ContextRestore = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int>)Export(handle, "uc_context_restore");
        ContextFree = (delegate* unmanaged[Cdecl]<IntPtr, int>)Export(handle, "uc_context_free");
    }

    /// <summary>The library's version as "major.minor.patch".</summary>
    public string VersionText
    {
        get
        {
            uint packed = Version(null, null);
            return $"{packed >> 24}.{(packed >> 16) & 0xFF}.{(packed >> 8) & 0xFF}";
        }
    }

    /// <summary>Loads the library; throws <see cref="OracleException"/> with the reason when it cannot.</summary>
    public static UnicornLibrary Load()
    {
        if (!NativeLibrary.TryLoad(SoName, out IntPtr handle))
        {
            throw new OracleException(
                $"{SoName} could not be loaded (install Debian's libunicorn2, Unicorn 2.0.1).");
        }

        return new UnicornLibrary(handle);
    }

    public string Describe(int error) => Marshal.PtrToStringUTF8(StrError(error)) ?? $"uc_err {error}";

    private static IntPtr Export(IntPtr handle, string name)
    {
        if (!NativeLibrary.TryGetExport(handle, name, out IntPtr address))
        {
            throw new OracleException($"{SoName} has no export '{name}'.");
        }

        return address;
    }
}
