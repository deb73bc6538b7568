using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Text;

namespace ShadowMmu.Dumps;

/// <summary>
/// The notes of an ELF core or of a kdump file's note area: per CPU an NT_PRSTATUS note ("CORE") and QEMU's
/// "QEMU" note (QEMUCPUState, target/i386/arch_dump.c), and the kernel's "VMCOREINFO". QEMU writes every CPU's
/// NT_PRSTATUS first, then every CPU's QEMU note, in CPU order, so the n-th of each kind is CPU n.
/// </summary>
internal static class ElfNotes
{
    private const uint NtPrStatus = 1;
    private const int QemuStateMinimum = 432;     // version 1 without kernel_gs_base
    private const int QemuStateWithKernelGs = 440;
    private const int PrStatus64Size = 336;       // x86-64 elf_prstatus (QEMU's x86_64_elf_prstatus, the kernel's)
    private const int PrStatus32Size = 144;       // i386 elf_prstatus

    public sealed class Result
    {
        public List<DumpCpuState> Cpus { get; } = new();
        public VmcoreInfo? VmcoreInfo { get; set; }

        /// <summary>The machine the NT_PRSTATUS layout implies (its size), or Unknown.</summary>
        public DumpMachine PrStatusMachine { get; set; }
    }

    /// <summary>Reads the notes in <paramref name="notes"/>; a note that runs past the area is an error.</summary>
    public static Result Parse(DumpSource source, ReadOnlySpan<byte> notes, string where)
    {
        var prStatus = new List<byte[]>();
        var qemu = new List<byte[]>();
        var result = new Result();
        int position = 0;
        int index = 0;
        while (notes.Length - position >= 12)
        {
            uint nameSize = BinaryPrimitives.ReadUInt32LittleEndian(notes[position..]);
            uint descSize = BinaryPrimitives.ReadUInt32LittleEndian(notes[(position + 4)..]);
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(notes[(position + 8)..]);
            if (nameSize == 0 && descSize == 0 && type == 0)
            {
                break;   // zero padding after the last note (kdump's note area is padded to its block)
            }

            long nameStart = position + 12;
            long descStart = nameStart + Align4(nameSize);
            long next = descStart + Align4(descSize);
            if (next > notes.Length)
            {
                throw source.Problem($"note {index} in {where} (name size {nameSize}, desc size {descSize}) runs past the end of the notes (0x{notes.Length:x} bytes)");
            }

            ReadOnlySpan<byte> name = notes.Slice((int)nameStart, (int)nameSize);
            int nul = name.IndexOf((byte)0);
            string noteName = Encoding.ASCII.GetString(nul < 0 ? name : name[..nul]);
            ReadOnlySpan<byte> desc = notes.Slice((int)descStart, (int)descSize);
            switch (noteName)
            {
                case "CORE" when type == NtPrStatus:
                    prStatus.Add(desc.ToArray());
                    break;
                case "QEMU":
                    qemu.Add(desc.ToArray());
                    break;
                case "VMCOREINFO":
                    result.VmcoreInfo = VmcoreInfo.Parse(desc);
                    break;
            }

            position = (int)next;
            index++;
        }

        if (prStatus.Count > 0 && qemu.Count > 0 && prStatus.Count != qemu.Count)
        {
            throw source.Problem($"{where} has {prStatus.Count} NT_PRSTATUS notes but {qemu.Count} QEMU notes: a CPU's note is missing");
        }

        int cpus = Math.Max(prStatus.Count, qemu.Count);
        for (int cpu = 0; cpu < cpus; cpu++)
        {
            byte[]? status = cpu < prStatus.Count ? prStatus[cpu] : null;
            byte[]? state = cpu < qemu.Count ? qemu[cpu] : null;
            result.Cpus.Add(Decode(source, cpu, status, state, where));
        }

        if (prStatus.Count > 0)
        {
            result.PrStatusMachine = prStatus[0].Length switch
            {
                PrStatus64Size => DumpMachine.X86_64,
                PrStatus32Size => DumpMachine.I386,
                _ => DumpMachine.Unknown,
            };
        }

        return result;
    }

    private static long Align4(uint size) => ((long)size + 3) & ~3L;

    private static DumpCpuState Decode(DumpSource source, int cpu, byte[]? status, byte[]? state, string where)
    {
        var registers = new Registers();
        DumpCpuSources sources = DumpCpuSources.None;
        int? pid = null;
        if (status != null)
        {
            if (status.Length == PrStatus64Size)
            {
                pid = BinaryPrimitives.ReadInt32LittleEndian(status.AsSpan(32));
                registers.FromPrStatus64(status.AsSpan(112));
                sources |= DumpCpuSources.PrStatus;
            }
            else if (status.Length == PrStatus32Size)
            {
                pid = BinaryPrimitives.ReadInt32LittleEndian(status.AsSpan(24));
                registers.FromPrStatus32(status.AsSpan(72));
                sources |= DumpCpuSources.PrStatus;
            }
        }

        uint version = 0;
        ulong? kernelGsBase = null;
        if (state != null)
        {
            if (state.Length < 8)
            {
                throw source.Problem($"CPU {cpu}'s QEMU note in {where} holds {state.Length} bytes, too few for QEMUCPUState");
            }

            version = BinaryPrimitives.ReadUInt32LittleEndian(state);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(state.AsSpan(4));
            if (version == 0 || size < QemuStateMinimum || size > state.Length)
            {
                throw source.Problem($"CPU {cpu}'s QEMU note in {where} has version {version} and size {size} in a {state.Length}-byte note; QEMUCPUState version 1 is at least {QemuStateMinimum} bytes");
            }

            registers.FromQemuState(state);
            if (size >= QemuStateWithKernelGs)
            {
                kernelGsBase = BinaryPrimitives.ReadUInt64LittleEndian(state.AsSpan(QemuStateMinimum));
            }

            sources |= DumpCpuSources.QemuNote;
        }

        return registers.ToState(cpu, sources, version, pid, kernelGsBase);
    }

    /// <summary>The values being gathered for one CPU, in the processor's register order.</summary>
    private sealed class Registers
    {
        // rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags
        private readonly ulong[] _gpr = new ulong[18];
        private readonly DumpSegment[] _segments = new DumpSegment[10];   // cs ds es fs gs ss ldt tr gdt idt
        private readonly ulong[] _cr = new ulong[5];

        public void FromQemuState(ReadOnlySpan<byte> s)
        {
            for (int i = 0; i < 18; i++)
            {
                _gpr[i] = BinaryPrimitives.ReadUInt64LittleEndian(s[(8 + 8 * i)..]);
            }

            for (int i = 0; i < 10; i++)
            {
                ReadOnlySpan<byte> segment = s[(152 + 24 * i)..];
                _segments[i] = new DumpSegment(
                    BinaryPrimitives.ReadUInt32LittleEndian(segment),
                    BinaryPrimitives.ReadUInt64LittleEndian(segment[16..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(segment[4..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(segment[8..]));
            }

            for (int i = 0; i < 5; i++)
            {
                _cr[i] = BinaryPrimitives.ReadUInt64LittleEndian(s[(392 + 8 * i)..]);
            }
        }

        /// <summary>x86-64 user_regs_struct: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs.</summary>
        public void FromPrStatus64(ReadOnlySpan<byte> r)
        {
            var q = new ulong[27];
            for (int i = 0; i < q.Length; i++)
            {
                q[i] = BinaryPrimitives.ReadUInt64LittleEndian(r[(8 * i)..]);
            }

            ulong Q(int i) => q[i];
            (_gpr[15], _gpr[14], _gpr[13], _gpr[12], _gpr[7], _gpr[1], _gpr[11], _gpr[10]) = (Q(0), Q(1), Q(2), Q(3), Q(4), Q(5), Q(6), Q(7));
            (_gpr[9], _gpr[8], _gpr[0], _gpr[2], _gpr[3], _gpr[4], _gpr[5]) = (Q(8), Q(9), Q(10), Q(11), Q(12), Q(13), Q(14));
            (_gpr[16], _gpr[17], _gpr[6]) = (Q(16), Q(18), Q(19));
            _segments[0] = new DumpSegment((uint)Q(17), 0, 0, 0);
            _segments[5] = new DumpSegment((uint)Q(20), 0, 0, 0);
            _segments[3] = new DumpSegment((uint)Q(25), Q(21), 0, 0);
            _segments[4] = new DumpSegment((uint)Q(26), Q(22), 0, 0);
            _segments[1] = new DumpSegment((uint)Q(23), 0, 0, 0);
            _segments[2] = new DumpSegment((uint)Q(24), 0, 0, 0);
        }

        /// <summary>i386 user_regs_struct: ebx ecx edx esi edi ebp eax, ds es fs gs (16-bit each in 32), orig_eax eip cs eflags esp ss.</summary>
        public void FromPrStatus32(ReadOnlySpan<byte> r)
        {
            var d = new uint[17];
            for (int i = 0; i < d.Length; i++)
            {
                d[i] = BinaryPrimitives.ReadUInt32LittleEndian(r[(4 * i)..]);
            }

            uint D(int i) => d[i];
            (_gpr[1], _gpr[2], _gpr[3], _gpr[4], _gpr[5], _gpr[7], _gpr[0]) = (D(0), D(1), D(2), D(3), D(4), D(5), D(6));
            _segments[1] = new DumpSegment(D(7) & 0xffff, 0, 0, 0);
            _segments[2] = new DumpSegment(D(8) & 0xffff, 0, 0, 0);
            _segments[3] = new DumpSegment(D(9) & 0xffff, 0, 0, 0);
            _segments[4] = new DumpSegment(D(10) & 0xffff, 0, 0, 0);
            _gpr[16] = D(12);
            _segments[0] = new DumpSegment(D(13) & 0xffff, 0, 0, 0);
            _gpr[17] = D(14);
            _gpr[6] = D(15);
            _segments[5] = new DumpSegment(D(16) & 0xffff, 0, 0, 0);
        }

        public DumpCpuState ToState(int index, DumpCpuSources sources, uint version, int? pid, ulong? kernelGsBase) => new()
        {
            Index = index,
            Sources = sources,
            QemuStateVersion = version,
            PrStatusPid = pid,
            Rax = _gpr[0], Rbx = _gpr[1], Rcx = _gpr[2], Rdx = _gpr[3],
            Rsi = _gpr[4], Rdi = _gpr[5], Rsp = _gpr[6], Rbp = _gpr[7],
            R8 = _gpr[8], R9 = _gpr[9], R10 = _gpr[10], R11 = _gpr[11],
            R12 = _gpr[12], R13 = _gpr[13], R14 = _gpr[14], R15 = _gpr[15],
            Rip = _gpr[16], Rflags = _gpr[17],
            Cs = _segments[0], Ds = _segments[1], Es = _segments[2], Fs = _segments[3], Gs = _segments[4],
            Ss = _segments[5], Ldt = _segments[6], Tr = _segments[7], Gdt = _segments[8], Idt = _segments[9],
            Cr0 = _cr[0], Cr2 = _cr[2], Cr3 = _cr[3], Cr4 = _cr[4],
            KernelGsBase = kernelGsBase,
        };
    }
}
