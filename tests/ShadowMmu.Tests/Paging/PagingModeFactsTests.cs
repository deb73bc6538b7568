using System.Linq;
using Xunit;

namespace ShadowMmu.Tests.Paging;

/// <summary><see cref="PagingModeFacts"/>: what each spec says, read from the spec and not written again.</summary>
public class PagingModeFactsTests
{
    public static TheoryData<string> AllModes => new(PagingModes.All.Select(m => m.Name));

    [Theory]
    [MemberData(nameof(AllModes))]
    public void The_selecting_state_selects_the_mode_with_its_root(string name)
    {
        PagingModeInfo mode = PagingModes.All.Single(m => m.Name == name);

        CpuState cpu = PagingModeFacts.Of(mode).SelectingState(0x5000);

        if (mode.IsEpt)
        {
            Assert.Null(EptPointer.Validate(cpu.Eptp, cpu.MaxPhysAddr));
            Assert.Equal(mode.RootLevel, EptPointer.Levels(cpu.Eptp));
            Assert.Equal(0x5000UL, cpu.Eptp & ~0xFFFUL);
            Assert.True(cpu.Test(PagingCondition.EptpAccessedDirty));
        }
        else
        {
            Assert.Null(cpu.Validate());
            Assert.Same(mode, PagingModes.Select(cpu));
            Assert.Equal(0x5000UL, cpu.Cr3);
            Assert.True(cpu.Test(PagingCondition.Cr0Wp));
        }
    }

    [Fact]
    public void Features_the_spec_names_are_switched_on()
    {
        CpuState legacy32 = PagingModeFacts.Of(Mode("legacy32")).SelectingState(0);
        CpuState pae = PagingModeFacts.Of(Mode("pae")).SelectingState(0);
        CpuState long5 = PagingModeFacts.Of(Mode("long5")).SelectingState(0);

        Assert.True(legacy32.Test(PagingCondition.Cr4Pse));
        Assert.False(legacy32.Test(PagingCondition.EferNxe));
        Assert.True(pae.Test(PagingCondition.EferNxe));
        Assert.False(pae.LongModeActive);
        Assert.Equal(Efer.LME | Efer.LMA | Efer.NXE, long5.Efer);
        Assert.Equal(Cr4.PAE | Cr4.LA57, long5.Cr4);
    }

    [Fact]
    public void Level_names_flags_and_canonical_addresses_come_from_the_spec()
    {
        PagingModeFacts long4 = PagingModeFacts.Of(Mode("long4"));
        PagingModeFacts ept4 = PagingModeFacts.Of(Mode("ept4"));
        PagingModeFacts pae = PagingModeFacts.Of(Mode("pae"));

        Assert.Equal(new[] { "PTE", "PDE", "PDPTE", "PML4E" }, Enumerable.Range(1, 4).Select(long4.LevelName));
        Assert.Equal("level 5", long4.LevelName(5));
        Assert.Equal((1UL << 5, 1UL << 6), (long4.AccessedFlag, long4.DirtyFlag));
        Assert.Equal((1UL << 8, 1UL << 9), (ept4.AccessedFlag, ept4.DirtyFlag));
        Assert.True(long4.Canonical);
        Assert.True(long4.Fits(0xFFFF_8000_0000_0000));
        Assert.False(pae.Canonical);
        Assert.False(pae.Fits(0x1_0000_0000));
        Assert.Same(long4, PagingModeFacts.Of(Mode("long4")));
    }

    private static PagingModeInfo Mode(string name) => PagingModes.All.Single(m => m.Name == name);
}
