using System;
using System.Globalization;
using System.IO;
using ShadowMmu.Dumps;
using ShadowMmu.Roots;

namespace ShadowMmu.Cli;

/// <summary>
/// <c>--root ADDR|best</c>: an address space named by a root <see cref="RootFinder"/> finds in the image, the best one
/// or the one at ADDR. Its registers are the ones that select the root's paging mode with CR3 = the root
/// (<see cref="RootCandidate.SelectingState"/>), each register the user gives replacing the root's.
/// </summary>
internal readonly record struct RootChoice(ulong? Address)
{
    /// <summary>"best", or a number; null when the text is neither.</summary>
    public static RootChoice? Parse(string text) =>
        text == "best" ? new RootChoice(null)
        : Numbers.TryParse(text, out ulong address) ? new RootChoice(address)
        : null;

    /// <summary>The registers of the chosen root; throws <see cref="CliUsageException"/> when the image has no such root.</summary>
    public CpuState Resolve(MemoryDump dump, in GivenRegisters given, Action<long, long>? progress)
    {
        RootSearch search = RootFinder.Find(dump, progress);
        string image = Path.GetFileName(dump.Path);
        RootCandidate? chosen = null;
        if (Address is not ulong address)
        {
            chosen = search.Best ?? throw new CliUsageException($"--root best: 'shadowmmu roots' finds no page tables in '{image}'; give the registers (--cr3 and the others)");
        }
        else
        {
            foreach (RootCandidate candidate in search.Candidates)
            {
                if (candidate.Root == address)
                {
                    chosen = candidate;
                    break;
                }
            }

            if (chosen == null)
            {
                string found = search.Candidates.Count == 0 ? $"finds no page tables in '{image}'"
                    : $"finds {search.Candidates.Count.ToString(CultureInfo.InvariantCulture)} roots in '{image}', and this is not one of them";
                throw new CliUsageException($"--root {Numbers.Hex(address)}: 'shadowmmu roots' {found}; give --cr3 to use it anyway");
            }
        }

        CpuState root = chosen.SelectingState();
        return new CpuState(given.Cr0 ?? root.Cr0, root.Cr3, given.Cr4 ?? root.Cr4, given.Efer ?? root.Efer, (uint)(given.Pkru ?? TranslateDefaults.Pkru),
            given.MaxPhysAddr ?? (int)TranslateDefaults.MaxPhysAddr, TranslateDefaults.Features);
    }
}
