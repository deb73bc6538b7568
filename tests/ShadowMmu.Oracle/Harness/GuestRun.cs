using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ShadowMmu.Oracle.Native;

namespace ShadowMmu.Oracle.Harness;

/// <summary>
/// Runs a case once as an SVM guest with nested paging, in a fresh engine:
/// stage 1 executes VMRUN on the host and stops at the guest entry; the context is patched (CR4 as asked,
/// HF_SMAP, old_exception); stage 2 runs the guest's access up to the first interrupt or VM exit.
/// </summary>
internal static unsafe class GuestRun
{
    private const ulong HostStageCount = 10;
    private const ulong GuestStageCount = 4;

    private static readonly byte[] Int3Page = CreateInt3Page();

    public static RunObservation Execute(
        UnicornLibrary library, ContextOffsets offsets, ReadOnlySpan<byte> image, GuestSetup guest, RunOptions options)
    {
        using var engine = new UnicornEngine(library);
        var state = new HookState(engine, offsets, options.CaptureContexts);
        GCHandle pin = GCHandle.Alloc(state);
        try
        {
            engine.Map(0, (ulong)image.Length);
            engine.Write(0, image);
            engine.Map(HarnessLayout.Base, HarnessLayout.Size);
            engine.Write(HarnessLayout.Base, HarnessImage.Build(image.Length, options.NestedMappedImagePages, guest));

            // Unicorn 2.0.1 maps the VA onto the physical page of the same number after its walk, and refuses
            // the access before walking if that page is unmapped: give it a page of INT3 (the fetch target).
            engine.Map(guest.VaPage, 4096);
            engine.Write(guest.VaPage, Int3Page);

            PrepareHost(engine, offsets, guest.Case.Va);
            IntPtr user = GCHandle.ToIntPtr(pin);
            engine.AddHook(UnicornConstants.HookIntr, (IntPtr)(delegate* unmanaged[Cdecl]<IntPtr, uint, IntPtr, void>)&OnInterrupt, user, 1, 0);
            engine.AddHook(UnicornConstants.HookCode, (IntPtr)(delegate* unmanaged[Cdecl]<IntPtr, ulong, uint, IntPtr, void>)&OnCode, user, guest.Entry, guest.Entry);

            var observation = new RunObservation();
            int error = engine.Start(HarnessLayout.HostCode, guest.Until, HostStageCount);
            observation.Rip = engine.ReadRegister(UnicornConstants.RegRip);
            if (state.Vector is not null || !state.EntryHit || observation.Rip != guest.Entry)
            {
                Finish(engine, state, observation, error, options, image.Length);
                return observation;
            }

            observation.ReachedGuest = true;
            if (options.StageOneOnly)
            {
                observation.GuestEntryContext = engine.SaveContext().ToArray();
                return observation;
            }

            PrepareGuest(engine, offsets, guest.Case.Cr4, options.OldExceptionAtEntry);
            if (options.CaptureContexts)
            {
                observation.GuestEntryContext = engine.SaveContext().ToArray();
            }

            state.StageOne = false;
            error = engine.Start(guest.Entry, guest.Until, GuestStageCount);
            observation.Rip = engine.ReadRegister(UnicornConstants.RegRip);
            Finish(engine, state, observation, error, options, image.Length);
            return observation;
        }
        finally
        {
            pin.Free();
        }
    }

    /// <summary>
    /// Host state for VMRUN, patched in the context because the MSR path masks EFER by the CPU model's
    /// features: EFER.LME|LMA|NXE|SVME and HF_SVME (VMRUN is #UD without it). Then the host-save area,
    /// CR4.PAE (4-level nested tables), RAX = VMCB, RBX = the VA, ECX = EDX = 0 (the written data, and the
    /// zeros WRPKRU requires).
    /// </summary>
    private static void PrepareHost(UnicornEngine engine, ContextOffsets offsets, ulong va)
    {
        Span<byte> blob = engine.SaveContext();
        ulong efer = BinaryPrimitives.ReadUInt64LittleEndian(blob[offsets.Efer..]);
        BinaryPrimitives.WriteUInt64LittleEndian(
            blob[offsets.Efer..], efer | X86Bits.EferLme | X86Bits.EferLma | X86Bits.EferNxe | X86Bits.EferSvme);
        uint hflags = BinaryPrimitives.ReadUInt32LittleEndian(blob[offsets.Hflags..]);
        BinaryPrimitives.WriteUInt32LittleEndian(blob[offsets.Hflags..], hflags | X86Bits.HflagsSvme);
        engine.RestoreContext();

        engine.WriteMsr(UnicornConstants.MsrVmHsavePa, HarnessLayout.HostSave);
        engine.WriteRegister(UnicornConstants.RegCr4, X86Bits.Cr4Pae);
        engine.WriteRegister(UnicornConstants.RegRax, HarnessLayout.Vmcb);
        engine.WriteRegister(UnicornConstants.RegRbx, va);
        engine.WriteRegister(UnicornConstants.RegRcx, 0);
        engine.WriteRegister(UnicornConstants.RegRdx, 0);
    }

    /// <summary>
    /// After VMRUN: cpu_x86_update_cr4 dropped CR4 bits the CPU model lacks (PKE on EPYC-Rome), but the
    /// walker reads env->cr[4] directly, so put the case's CR4 back; HF_SMAP must agree with CR4.SMAP because
    /// the SMAP check goes through the MMU index computed from hflags.
    /// </summary>
    private static void PrepareGuest(UnicornEngine engine, ContextOffsets offsets, ulong cr4, int oldException)
    {
        Span<byte> blob = engine.SaveContext();
        if (offsets.OldException is int old)
        {
            BinaryPrimitives.WriteInt32LittleEndian(blob[old..], oldException);
        }

        BinaryPrimitives.WriteUInt64LittleEndian(blob[offsets.Cr4..], cr4);
        uint hflags = BinaryPrimitives.ReadUInt32LittleEndian(blob[offsets.Hflags..]) & ~X86Bits.HflagsSmap;
        if ((cr4 & X86Bits.Cr4Smap) != 0)
        {
            hflags |= X86Bits.HflagsSmap;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(blob[offsets.Hflags..], hflags);
        engine.RestoreContext();

        ulong actual = engine.ReadRegister(UnicornConstants.RegCr4);
        if (actual != cr4)
        {
            throw new OracleException($"Patching CR4 to 0x{cr4:X} after VMRUN did not take (reads 0x{actual:X}).");
        }
    }

    private static void Finish(
        UnicornEngine engine, HookState state, RunObservation observation, int error, RunOptions options, int imageBytes)
    {
        if (state.Failure is Exception failure)
        {
            throw new OracleException($"Interrupt hook failed: {failure.Message}", failure);
        }

        observation.Vector = state.Vector;
        observation.Cr2 = state.Cr2;
        observation.ErrorCode = state.ErrorCode;
        observation.InterruptContext = state.InterruptContext;
        observation.StartError = error;
        observation.StartErrorText = error != 0 ? engine.Describe(error) : null;
        observation.ExitInfo2 = engine.ReadUInt64(HarnessLayout.Vmcb + VmcbLayout.ExitInfo2);
        if (options.CaptureImage && observation.ReachedGuest)
        {
            var after = new byte[imageBytes];
            engine.Read(0, after);
            observation.ImageAfter = after;
        }
    }

    // Unicorn never delivers the exception to the guest's IDT: it reports the vector here and, unless stopped,
    // re-executes the faulting instruction forever. Only the first vector is kept.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnInterrupt(IntPtr uc, uint vector, IntPtr user)
    {
        var state = (HookState)GCHandle.FromIntPtr(user).Target!;
        try
        {
            if (state.Vector is null)
            {
                state.Vector = (int)vector;
                state.Cr2 = state.Engine.ReadRegister(UnicornConstants.RegCr2);
                Span<byte> blob = state.Engine.SaveContext();
                if (state.Offsets.ErrorCode is int errorCode)
                {
                    state.ErrorCode = BinaryPrimitives.ReadUInt32LittleEndian(blob[errorCode..]);
                }

                if (state.CaptureContexts)
                {
                    state.InterruptContext = blob.ToArray();
                }
            }
        }
        catch (Exception e)
        {
            // An exception must not cross into native code.
            state.Failure ??= e;
        }

        state.Engine.Stop();
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnCode(IntPtr uc, ulong address, uint size, IntPtr user)
    {
        var state = (HookState)GCHandle.FromIntPtr(user).Target!;
        if (state.StageOne && !state.EntryHit)
        {
            state.EntryHit = true;
            state.Engine.Stop();
        }
    }

    private static byte[] CreateInt3Page()
    {
        var page = new byte[4096];
        page.AsSpan().Fill(0xCC);
        return page;
    }

    private sealed class HookState(UnicornEngine engine, ContextOffsets offsets, bool captureContexts)
    {
        public UnicornEngine Engine { get; } = engine;

        public ContextOffsets Offsets { get; } = offsets;

        public bool CaptureContexts { get; } = captureContexts;

        public bool StageOne { get; set; } = true;

        public bool EntryHit { get; set; }

        public int? Vector { get; set; }

        public ulong Cr2 { get; set; }

        public uint ErrorCode { get; set; }

        public byte[]? InterruptContext { get; set; }

        public Exception? Failure { get; set; }
    }
}
