using System.Threading;
using ShadowMmu.Annotations;

namespace AnalyzerConsumer
{
    /// <summary>A guest walk's record: the entries it read, without the mmu_lock.</summary>
    public struct Walk
    {
        [UnlockedGuestPte] public ulong[] Ptes;
        public ulong[] PteGpas;
    }

    /// <summary>A tiny shadow MMU that follows (and, on purpose, breaks) the locking rules.</summary>
    public sealed class Mmu
    {
        [MmuLock] private readonly object _mmuLock = new object();
        private readonly ulong[] _memory = new ulong[512];

        [GuestPteRead]
        public ulong ReadGuest(ulong gpa) => Volatile.Read(ref _memory[gpa / 8]);

        [RequiresMmuLock]
        public bool Unchanged(ulong pteGpa, [RevalidatesGuestPte] ulong pte) => ReadGuest(pteGpa) == pte;

        [RequiresMmuLock]
        public void Link(ulong pte)
        {
        }

        public bool FetchFixed(Walk walk)
        {
            lock (_mmuLock)
            {
                if (!Unchanged(walk.PteGpas[1], walk.Ptes[1]))
                {
                    return false;
                }

                Link(walk.Ptes[1]);
                if (!Unchanged(walk.PteGpas[0], walk.Ptes[0]))
                {
                    return false;
                }

                Link(walk.Ptes[0]);
                return true;
            }
        }

        public bool FetchPreFix(Walk walk)
        {
            lock (_mmuLock)
            {
                Link(walk.Ptes[1]);
                if (!Unchanged(walk.PteGpas[0], walk.Ptes[0]))
                {
                    return false;
                }

                Link(walk.Ptes[0]);
                return true;
            }
        }

        public void LinkWithoutLock(Walk walk)
        {
            Link(walk.Ptes[0]);
        }

        public void Leak()
        {
            Monitor.Enter(_mmuLock);
            Monitor.Exit(_mmuLock);
        }
    }
}
