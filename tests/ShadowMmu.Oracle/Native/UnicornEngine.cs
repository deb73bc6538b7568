using System;
using System.Runtime.InteropServices;

namespace ShadowMmu.Oracle.Native;

/// <summary>
/// One uc_engine (x86, 64-bit mode, EPYC-Rome) with one context buffer. Every failing call throws
/// <see cref="OracleException"/> naming the call and Unicorn's error text.
/// </summary>
internal sealed unsafe class UnicornEngine : IDisposable
{
    private readonly UnicornLibrary library;
    private IntPtr handle;
    private IntPtr context;

    public UnicornEngine(UnicornLibrary library)
    {
        this.library = library;
        IntPtr uc;
        Check(library.Open(UnicornConstants.ArchX86, UnicornConstants.Mode64, &uc), "uc_open");
        handle = uc;

        // The CPU model must be chosen before anything else touches the engine (that creates the CPU).
        Check(library.CtlInt(uc, UnicornConstants.CtlWriteCpuModel, UnicornConstants.CpuModelEpycRome), "uc_ctl(cpu model)");
    }

    public IntPtr Handle => handle;

    public UnicornLibrary Library => library;

    public void Map(ulong address, ulong size) =>
        Check(library.MemMap(handle, address, (nuint)size, UnicornConstants.ProtAll), $"uc_mem_map(0x{address:X}, 0x{size:X})");

    public void Write(ulong address, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* source = bytes)
        {
            Check(library.MemWrite(handle, address, source, (nuint)bytes.Length), $"uc_mem_write(0x{address:X})");
        }
    }

    public void Read(ulong address, Span<byte> bytes)
    {
        fixed (byte* target = bytes)
        {
            Check(library.MemRead(handle, address, target, (nuint)bytes.Length), $"uc_mem_read(0x{address:X})");
        }
    }

    public ulong ReadUInt64(ulong address)
    {
        ulong value;
        Check(library.MemRead(handle, address, (byte*)&value, sizeof(ulong)), $"uc_mem_read(0x{address:X})");
        return value;
    }

    public ulong ReadRegister(int id)
    {
        ulong value = 0;
        Check(library.RegRead(handle, id, &value), $"uc_reg_read({id})");
        return value;
    }

    public void WriteRegister(int id, ulong value) => Check(library.RegWrite(handle, id, &value), $"uc_reg_write({id})");

    public ulong ReadMsr(uint msr)
    {
        var value = new MsrValue { Id = msr };
        Check(library.RegRead(handle, UnicornConstants.RegMsr, &value), $"uc_reg_read(MSR 0x{msr:X})");
        return value.Value;
    }

    public void WriteMsr(uint msr, ulong data)
    {
        var value = new MsrValue { Id = msr, Value = data };
        Check(library.RegWrite(handle, UnicornConstants.RegMsr, &value), $"uc_reg_write(MSR 0x{msr:X})");
    }

    public void AddHook(int type, IntPtr callback, IntPtr user, ulong begin, ulong end)
    {
        IntPtr hook;
        Check(library.HookAdd(handle, &hook, type, callback, user, begin, end), $"uc_hook_add({type})");
    }

    /// <summary>Runs; returns Unicorn's error code (0 when it stopped normally) rather than throwing.</summary>
    public int Start(ulong begin, ulong until, ulong count) => library.EmuStart(handle, begin, until, 0, (nuint)count);

    public void Stop() => library.EmuStop(handle);

    /// <summary>
    /// Saves the CPU state and returns the saved blob (header + CPUX86State) as a span over Unicorn's own buffer.
    /// Edit it, then call <see cref="RestoreContext"/>.
    /// </summary>
    public Span<byte> SaveContext()
    {
        if (context == IntPtr.Zero)
        {
            IntPtr allocated;
            Check(library.ContextAlloc(handle, &allocated), "uc_context_alloc");
            context = allocated;
        }

        Check(library.ContextSave(handle, context), "uc_context_save");
        return new Span<byte>((void*)context, checked((int)library.ContextSize(handle)));
    }

    public void RestoreContext() => Check(library.ContextRestore(handle, context), "uc_context_restore");

    public string Describe(int error) => library.Describe(error);

    public void Dispose()
    {
        if (context != IntPtr.Zero)
        {
            library.ContextFree(context);
            context = IntPtr.Zero;
        }

        if (handle != IntPtr.Zero)
        {
            library.Close(handle);
            handle = IntPtr.Zero;
        }
    }

    private void Check(int error, string call)
    {
        if (error != 0)
        {
            throw new OracleException($"Unicorn {call} failed: {library.Describe(error)} (uc_err {error}).");
        }
    }

    /// <summary>uc_x86_msr: the register id, padding, then the 64-bit value.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MsrValue
    {
        public uint Id;
        public ulong Value;
    }
}
