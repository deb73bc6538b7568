using System;
using System.Collections.Generic;
using System.Linq;
using ShadowMmu.Dumps;
using Xunit;

namespace ShadowMmu.Tests.Dumps;

/// <summary>
/// Real QEMU 7.2 output as the oracle (tests/fixtures/dumps/capture.sh): each capture read in every format holds
/// the same ranges and the same bytes, and each CPU note says what `info registers` said at capture time.
/// </summary>
public sealed class QemuCaptureTests
{
    public static TheoryData<string> Guests() => new(DumpFixtures.Guests);

    public static TheoryData<string, string> GuestsAndKdumpFormats()
    {
        var data = new TheoryData<string, string>();
        foreach (string guest in DumpFixtures.Guests)
        {
            foreach (string format in DumpFixtures.KdumpFormats)
            {
                data.Add(guest, format);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Guests))]
    public void TheElfHoldsWhatPmemsaveSaved(string guest)
    {
        using MemoryDump raw = MemoryDump.Open(DumpFixtures.Path(guest, "raw"));
        using MemoryDump elf = MemoryDump.Open(DumpFixtures.Path(guest, "elf"));

        Assert.Equal(DumpFormat.Raw, raw.Format);
        Assert.Equal(DumpFormat.Elf, elf.Format);
        Assert.Equal(new[] { new PhysicalRange(0, 16 << 20) }, raw.PresentRanges);
        // QEMU dumps RAM and the firmware ROM just below 4 GiB; the guest's 16 MiB then nothing up to the ROM.
        Assert.Equal(new PhysicalRange(0, 16 << 20), elf.PresentRanges[0]);
        Assert.Equal(0x1_0000_0000UL, elf.PresentRanges[^1].End);
        Assert.Equal(0x1_0000_0000UL, elf.Memory.Size);
        Assert.False(elf.IsPresent(16 << 20));
        Assert.Equal(DumpPageState.Absent, elf.GetPageState(0x8000_0000));
        AssertSameBytes(raw, elf, raw.PresentRanges);
    }

    [Theory]
    [MemberData(nameof(GuestsAndKdumpFormats))]
    public void EveryKdumpVariantHoldsTheElfsRangesAndBytes(string guest, string format)
    {
        using MemoryDump elf = MemoryDump.Open(DumpFixtures.Path(guest, "elf"));
        using MemoryDump kdump = MemoryDump.Open(DumpFixtures.Path(guest, format));

        Assert.Equal(DumpFormat.Kdump, kdump.Format);
        KdumpCompression expected = format.Contains("lzo", StringComparison.Ordinal) ? KdumpCompression.Lzo
            : format.Contains("snappy", StringComparison.Ordinal) ? KdumpCompression.Snappy : KdumpCompression.Zlib;
        Assert.Equal(expected, kdump.Compression);
        Assert.Contains(format.EndsWith("-flat", StringComparison.Ordinal) ? "flattened" : "plain", kdump.Description, StringComparison.Ordinal);
        Assert.Equal(elf.PresentRanges, kdump.PresentRanges);
        Assert.Equal(0, kdump.UnreadablePageCount);
        Assert.Empty(kdump.Warnings);
        Assert.Equal(elf.Memory.Size, kdump.Memory.Size);
        AssertSameBytes(elf, kdump, elf.PresentRanges);
    }

    [Theory]
    [MemberData(nameof(Guests))]
    public void CpuNotesHoldWhatInfoRegistersPrinted(string guest)
    {
        InfoRegisters[] expected = InfoRegisters.ParseAll(DumpFixtures.Registers(guest));
        foreach (string format in DumpFixtures.KdumpFormats.Prepend("elf"))
        {
            using MemoryDump dump = MemoryDump.Open(DumpFixtures.Path(guest, format));
            AssertCpus(expected, dump);
        }
    }

    [Theory]
    [MemberData(nameof(Guests))]
    public void TheMachineIsX86_64OnlyWhenCpu0WasInLongMode(string guest)
    {
        InfoRegisters cpu0 = InfoRegisters.ParseAll(DumpFixtures.Registers(guest))[0];
        DumpMachine expected = (cpu0.Efer & 0x400) != 0 ? DumpMachine.X86_64 : DumpMachine.I386;
        Assert.Equal(guest == "long4", expected == DumpMachine.X86_64);
        foreach (string format in DumpFixtures.KdumpFormats.Prepend("elf"))
        {
            using MemoryDump dump = MemoryDump.Open(DumpFixtures.Path(guest, format));
            Assert.Equal(expected, dump.Machine);
        }
    }

    [Fact]
    public void APciHoleGuestsElfAndKdumpAgreeAndLeaveTheHoleAbsent()
    {
        using MemoryDump elf = MemoryDump.Open(DumpFixtures.Path("hole4200", "elf"));
        using MemoryDump kdump = MemoryDump.Open(DumpFixtures.Path("hole4200", "kdump-zlib-flat"));

        // 4200 MiB on QEMU's pc machine: 3 GiB below the PCI hole, the rest from 4 GiB; the 64 KiB ROM below 4 GiB.
        var expected = new[] { new PhysicalRange(0, 0xC000_0000), new PhysicalRange(0xFFFF_0000, 0x1_0000_0000 + (4200UL << 20) - 0xC000_0000) };
        Assert.Equal(expected, elf.PresentRanges);
        Assert.Equal(expected, kdump.PresentRanges);
        Assert.Equal(expected[1].End, elf.Memory.Size);
        Assert.Equal(DumpPageState.Absent, elf.GetPageState(0xD000_0000));
        Assert.Equal(DumpPageState.Absent, kdump.GetPageState(0xD000_0000));
        AssertSameBytes(elf, kdump, expected);
        AssertCpus(InfoRegisters.ParseAll(DumpFixtures.Registers("hole4200")), elf);
        AssertCpus(InfoRegisters.ParseAll(DumpFixtures.Registers("hole4200")), kdump);
    }

    internal static void AssertSameBytes(MemoryDump expected, MemoryDump actual, IEnumerable<PhysicalRange> ranges)
    {
        var a = new byte[1 << 20];
        var b = new byte[1 << 20];
        foreach (PhysicalRange range in ranges)
        {
            for (ulong gpa = range.Start; gpa < range.End; gpa += (ulong)a.Length)
            {
                int length = (int)Math.Min((ulong)a.Length, range.End - gpa);
                expected.Memory.Read(gpa, a.AsSpan(0, length));
                actual.Memory.Read(gpa, b.AsSpan(0, length));
                if (!a.AsSpan(0, length).SequenceEqual(b.AsSpan(0, length)))
                {
                    int at = a.AsSpan(0, length).CommonPrefixLength(b.AsSpan(0, length));
                    Assert.Fail($"{actual.Path} differs from {expected.Path} at gpa 0x{gpa + (ulong)at:x}");
                }

                Assert.True(actual.IsPresent(gpa) && actual.IsPresent(gpa + (ulong)length - 1));
            }
        }
    }

    private static void AssertCpus(InfoRegisters[] expected, MemoryDump dump)
    {
        Assert.Equal(expected.Length, dump.Cpus.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            DumpCpuState cpu = dump.Cpus[i];
            InfoRegisters qemu = expected[i];
            string where = $"{dump.Path} CPU {i}";
            Assert.True(cpu.HasControlRegisters, where);
            Assert.Equal(DumpCpuSources.QemuNote | DumpCpuSources.PrStatus, cpu.Sources);
            Assert.Equal(i + 1, cpu.PrStatusPid);
            Assert.Equal(1u, cpu.QemuStateVersion);
            ulong[] gpr = { cpu.Rax, cpu.Rbx, cpu.Rcx, cpu.Rdx, cpu.Rsi, cpu.Rdi, cpu.Rsp, cpu.Rbp, cpu.R8, cpu.R9, cpu.R10,
                cpu.R11, cpu.R12, cpu.R13, cpu.R14, cpu.R15, cpu.Rip, cpu.Rflags };
            Assert.Equal(qemu.Gpr, gpr);
            DumpSegment[] segments = { cpu.Cs, cpu.Ds, cpu.Es, cpu.Fs, cpu.Gs, cpu.Ss, cpu.Ldt, cpu.Tr, cpu.Gdt, cpu.Idt };
            for (int s = 0; s < segments.Length; s++)
            {
                (uint selector, ulong @base, uint limit, uint flags) = qemu.Segments[s];
                DumpSegment segment = segments[s];
                Assert.Equal((selector, @base, limit, flags), s >= 8
                    ? (0u, segment.Base, segment.Limit, 0u)
                    : (segment.Selector, segment.Base, segment.Limit, segment.Flags));
            }

            Assert.Equal((qemu.Cr0, qemu.Cr2, qemu.Cr3, qemu.Cr4), (cpu.Cr0, cpu.Cr2, cpu.Cr3, cpu.Cr4));
            // No note holds EFER: a CPU that was in long mode (EFER.LMA) shows it in CS's L bit (these guests halt in 64-bit code).
            Assert.Equal((qemu.Efer & 0x400) != 0, cpu.Cs.Long);
            Assert.NotNull(cpu.KernelGsBase);   // QEMU 7.2 writes the 440-byte state
        }
    }
}
