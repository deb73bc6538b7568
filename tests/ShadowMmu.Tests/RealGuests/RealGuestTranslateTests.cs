using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Xunit;

namespace ShadowMmu.Tests.RealGuests;

/// <summary>
/// Real guests as the oracle: every address sampled with QEMU's <c>gva2gpa</c> at every stop, on both vCPUs, in all
/// four paging modes, goes through <c>shadowmmu translate --batch</c> on the raw image (pmemsave) with the registers
/// <c>info registers</c> printed, and must land where QEMU says, or fault where QEMU says "Unmapped".
/// </summary>
/// <remarks>
/// What the cases assume, and why:
/// <list type="bullet">
/// <item>gva2gpa is QEMU's debug walk of the vCPU's current CR3: present entries only, no rights checked. So each case
/// is a data read at CPL 0 with EFLAGS.AC=1 (SMAP, which CR4 enables in every guest here, does not refuse an explicit
/// access with AC set) and PKRU=0 (protection keys apply to supervisor reads of user pages too; mmtest's PKRU is not
/// what the debug walk uses). A supervisor read of a present page is then refused by nothing but a reserved bit.</item>
/// <item>CR3 as the paging structures see it (<see cref="QemuRegisters.PagingCr3"/>): with CR4.PCIDE its bits 11:0
/// are the PCID and are cleared; bit 63 (a MOV's "no flush" bit) is never part of CR3. TCG in QEMU 7.2 offers no PCID,
/// so these guests run with PCIDE clear; the PAE CR3 is 32-byte aligned and is passed as it is.</item>
/// <item>EFER as <c>info registers</c> prints it; MAXPHYADDR 40, QEMU TCG's physical-address width.</item>
/// <item>"Unmapped" matches any fault: #PF, or #GP for a non-canonical address (QEMU's debug walk calls those
/// unmapped).</item>
/// </list>
/// </remarks>
public sealed class RealGuestTranslateTests
{
    public static TheoryData<string, int, int> Vcpus()
    {
        var data = new TheoryData<string, int, int>();
        foreach (ModeEntry mode in RealGuestFixtures.Manifest.Modes)
        {
            foreach (StopEntry stop in mode.Stops)
            {
                foreach (CpuEntry cpu in stop.Cpus)
                {
                    data.Add(mode.Mode, stop.Stop, cpu.Cpu);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Vcpus))]
    public void EverySampledAddressTranslatesAsQemusGva2GpaSays(string mode, int stop, int cpu)
    {
        GuestStop guestStop = RealGuestFixtures.Stop(mode, stop);
        AssertSamplesTranslate(guestStop.Cpus[cpu], guestStop.RawPath);
    }

    /// <summary>
    /// Isolates issue 15's cause in the PAE guest: on a copy of the image whose four PDPTEs have bit 5 (the accessed
    /// flag QEMU's TCG wrote, reserved by the SDM) cleared, every sample already translates as QEMU says.
    /// </summary>
    [Theory]
    [InlineData(1, 0)]
    [InlineData(1, 1)]
    [InlineData(2, 0)]
    [InlineData(2, 1)]
    public void PaeSamplesTranslateOnceTheAccessedFlagsInThePdptesAreCleared(int stop, int cpu)
    {
        GuestStop guestStop = RealGuestFixtures.Stop("pae", stop);
        VcpuRecord vcpu = guestStop.Cpus[cpu];
        string copy = Path.Combine(Path.GetTempPath(), $"shadowmmu-pae-pdpte-{Environment.ProcessId}-{stop}-{cpu}.raw");
        try
        {
            File.Copy(guestStop.RawPath, copy, overwrite: true);
            using (FileStream image = File.Open(copy, FileMode.Open, FileAccess.ReadWrite))
            {
                var pdpt = new byte[32];
                image.Position = (long)(vcpu.Registers.Cr3 & 0xFFFF_FFE0);
                image.ReadExactly(pdpt);
                int accessed = 0;
                for (int i = 0; i < 4; i++)
                {
                    accessed += (pdpt[8 * i] >> 5) & 1;
                    pdpt[8 * i] &= unchecked((byte)~(1 << 5));
                }

                Assert.True(accessed > 0, "no PDPTE has the accessed flag: this image does not show issue 15");
                image.Position = (long)(vcpu.Registers.Cr3 & 0xFFFF_FFE0);
                image.Write(pdpt);
            }

            AssertSamplesTranslate(vcpu, copy);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    private static void AssertSamplesTranslate(VcpuRecord vcpu, string image)
    {
        IReadOnlyList<Gva2GpaSample> samples = vcpu.Gva2Gpa;
        Assert.True(samples.Count(s => s.Gpa != null) >= 500, $"{vcpu}: too few mapped samples");
        Assert.True(samples.Count(s => s.Gpa == null) >= 100, $"{vcpu}: too few unmapped samples");

        string[] answers = Translate(image, vcpu.Registers, samples);

        var wrong = new List<string>();
        for (int i = 0; i < samples.Count; i++)
        {
            string? problem = Compare(samples[i], answers[i]);
            if (problem != null)
            {
                wrong.Add(problem);
            }
        }

        Assert.True(
            wrong.Count == 0,
            $"{vcpu} (CR0={vcpu.Registers.Cr0:x} CR3={vcpu.Registers.Cr3:x} CR4={vcpu.Registers.Cr4:x} EFER={vcpu.Registers.Efer:x}): "
            + $"{wrong.Count} of {samples.Count} addresses differ from QEMU's gva2gpa, e.g.\n" + string.Join("\n", wrong.Take(8)));
    }

    private static string[] Translate(string image, QemuRegisters registers, IReadOnlyList<Gva2GpaSample> samples)
    {
        var input = new StringBuilder();
        string common = string.Create(
            CultureInfo.InvariantCulture,
            $"\"image\": {JsonSerializer.Serialize(image)}, \"cr0\": \"0x{registers.Cr0:x}\", \"cr3\": \"0x{registers.PagingCr3:x}\", "
            + $"\"cr4\": \"0x{registers.Cr4:x}\", \"efer\": \"0x{registers.Efer:x}\", \"pkru\": 0, \"cpl\": 0, \"ac\": true, \"access\": \"read\", \"maxphyaddr\": 40");
        foreach (Gva2GpaSample sample in samples)
        {
            input.Append("{").Append(common).Append(CultureInfo.InvariantCulture, $", \"va\": \"0x{sample.Va:x}\"}}").Append('\n');
        }

        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        int exit = global::ShadowMmu.Cli.Program.Run(new[] { "translate", "--batch", "-" }, stdout, stderr, new StringReader(input.ToString()));
        Assert.True(exit == 0, $"translate --batch exited {exit}: {stderr}");
        string[] answers = stdout.ToString().TrimEnd('\n').Split('\n');
        Assert.Equal(samples.Count, answers.Length);
        return answers;
    }

    private static string? Compare(Gva2GpaSample sample, string answer)
    {
        using JsonDocument document = JsonDocument.Parse(answer);
        JsonElement root = document.RootElement;
        string qemu = sample.Gpa is ulong gpa ? $"gpa 0x{gpa:x}" : "Unmapped";
        if (root.TryGetProperty("error", out JsonElement error))
        {
            return $"  0x{sample.Va:x}: QEMU {qemu}, the tool: error {error.GetString()}";
        }

        bool fault = root.GetProperty("fault").GetBoolean();
        if (sample.Gpa is ulong expected)
        {
            if (fault)
            {
                return $"  0x{sample.Va:x}: QEMU {qemu}, the tool: #{root.GetProperty("exception").GetString()} error code {root.GetProperty("error_code").GetString()}";
            }

            ulong pa = QemuTlbEntry.ParseHex(root.GetProperty("pa").GetString()!);
            return pa == expected ? null : $"  0x{sample.Va:x}: QEMU {qemu}, the tool: 0x{pa:x}";
        }

        return fault ? null : $"  0x{sample.Va:x}: QEMU {qemu}, the tool: {root.GetProperty("pa").GetString()}";
    }
}
