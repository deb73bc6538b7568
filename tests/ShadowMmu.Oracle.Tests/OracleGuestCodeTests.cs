using System.Collections.Generic;
using System.Linq;
using ShadowMmu.Oracle;
using Xunit;
using static ShadowMmu.Oracle.Tests.GuestImage;

namespace ShadowMmu.Oracle.Tests;

public sealed class OracleGuestCodeTests
{
    [Theory]
    [InlineData(OracleMode.Legacy32, 3)] // PDE + 2 PTEs
    [InlineData(OracleMode.Pae, 4)]      // PDPTE + PDE + 2 PTEs
    [InlineData(OracleMode.Long4, 5)]
    [InlineData(OracleMode.Long5, 6)]
    public void MapCodePages_ReturnsEveryEntryOfBothPaths(OracleMode mode, int count)
    {
        var image = new GuestImage(mode);

        Assert.Equal(count, image.CodeEntries.Count);
        Assert.Equal(count, image.CodeEntries.Distinct().Count());
        ulong supervisorPte = image.CodeEntries[^2];
        ulong userPte = image.CodeEntries[^1];
        Assert.Equal(QemuMmu.SupervisorCodeVa | P | RW | A | D, image.Read(supervisorPte));
        Assert.Equal(QemuMmu.UserCodeVa | P | RW | US | A | D, image.Read(userPte));
    }

    [Fact]
    public void MapCodePages_ReusesPresentEntriesAndSetsTheirAccessedFlag()
    {
        var bytes = new byte[1 << 20];
        ulong next = 0x2000;
        ulong Alloc() => (next += 0x1000) - 0x1000;
        bytes[0x1000] = (byte)(P | RW | US); // PML4E 0 -> PDPT at 0
        bytes[0x1001] = 0x80;                // ... at 0x8000

        IReadOnlyList<ulong> touched = OracleGuestCode.MapCodePages(bytes, OracleMode.Long4, 0x1000, Alloc);

        Assert.Equal(0x1000UL, touched[0]);
        Assert.Equal(0x8000UL | P | RW | US | A, System.BitConverter.ToUInt64(bytes, 0x1000));
        Assert.Equal(0x8000UL + (3 * 8), touched[1]); // PDPTE 3 inside the reused table
    }

    [Fact]
    public void MapCodePages_RejectsASupervisorOnlyUpperEntry()
    {
        var bytes = new byte[1 << 20];
        System.BitConverter.GetBytes(0x8000UL | P | RW).CopyTo(bytes, 0x1000);
        ulong next = 0x2000;

        Assert.Throws<OracleException>(() => OracleGuestCode.MapCodePages(bytes, OracleMode.Long4, 0x1000, () => (next += 0x1000) - 0x1000));
    }

    [Fact]
    public void MapCodePages_IsIdempotent()
    {
        var image = new GuestImage(OracleMode.Pae);
        byte[] before = image.Bytes.ToArray();

        OracleGuestCode.MapCodePages(image.Bytes, OracleMode.Pae, image.Cr3, () => throw new System.InvalidOperationException("no new table expected"));

        Assert.Equal(before, image.Bytes);
    }
}
