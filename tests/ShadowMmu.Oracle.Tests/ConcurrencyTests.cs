using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using ShadowMmu.Oracle;
using Xunit;
using static ShadowMmu.Oracle.Tests.GuestImage;

namespace ShadowMmu.Oracle.Tests;

/// <summary>Several threads running cases at once get the answers a sequential run gets.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public void ParallelRuns_MatchSequentialRuns()
    {
        (GuestImage Image, OracleCase Case)[] batch = Batch().ToArray();
        OracleResult[] sequential = batch.Select(b => Oracle.Run(b.Image, b.Case)).ToArray();

        const int threads = 4;
        var parallel = new OracleResult[threads][];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            // Each thread walks the batch from a different starting point, so different cases overlap.
            var results = new OracleResult[batch.Length];
            for (int i = 0; i < batch.Length; i++)
            {
                int k = (i + (t * 5)) % batch.Length;
                results[k] = QemuMmu.Run(batch[k].Image.Bytes, batch[k].Case);
            }

            parallel[t] = results;
        });

        foreach (OracleResult[] results in parallel)
        {
            Assert.Equal(sequential, results);
        }
    }

    private static IEnumerable<(GuestImage, OracleCase)> Batch()
    {
        const ulong va64 = 0x0000_0080_1234_5678;
        const ulong va32 = 0x4012_3678;
        foreach (OracleMode mode in new[] { OracleMode.Legacy32, OracleMode.Pae, OracleMode.Long4, OracleMode.Long5 })
        {
            ulong va = mode is OracleMode.Long4 or OracleMode.Long5 ? va64 : va32;
            var outside = new GuestImage(mode);
            outside.Map(va, 1, 0x4567_8000 | Open);
            var inside = new GuestImage(mode);
            inside.Map(va, 1, inside.AllocPage() | P | US);

            yield return (outside, Cases.For(outside, OracleAccess.Read, va));
            yield return (outside, Cases.For(outside, OracleAccess.Write, va, cpl: 3));
            yield return (outside, Cases.For(outside, OracleAccess.Fetch, va, extraCr4: Cases.Cr4Smep));
            yield return (inside, Cases.For(inside, OracleAccess.Read, va, cpl: 3));
            yield return (inside, Cases.For(inside, OracleAccess.Write, va, cpl: 3));
        }

        var gp = new GuestImage(OracleMode.Long4);
        yield return (gp, Cases.For(gp, OracleAccess.Read, 0x0000_8000_0000_0000));
    }
}
