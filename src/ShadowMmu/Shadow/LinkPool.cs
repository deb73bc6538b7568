namespace ShadowMmu;

/// <summary>
/// Singly linked lists of (shadow page, entry index) pairs in preallocated arrays, so that adding and removing
/// links allocates nothing (KVM's pte_list_desc from a memory cache). Used for reverse maps: the leaf entries that
/// map a guest frame, the entries that link a shadow page, the shadow pages of a guest frame. Callers hold the mmu_lock.
/// </summary>
internal sealed class LinkPool
{
    public const int None = -1;

    // A node's fields side by side: following a list touches one cache line per node.
    [ShadowMmu.Annotations.GuardedByMmuLock]
    private readonly Link[] _links;
    [ShadowMmu.Annotations.GuardedByMmuLock]
    private int _free;
    [ShadowMmu.Annotations.GuardedByMmuLock]
    private int _freeCount;

    public LinkPool(int capacity)
    {
        _links = new Link[capacity];
        for (int i = 0; i < capacity; i++)
        {
            _links[i].Next = i + 1 < capacity ? i + 1 : None;
        }

        _free = capacity > 0 ? 0 : None;
        _freeCount = capacity;
    }

    /// <summary>True while at least <paramref name="count"/> more links can be added.</summary>
    public bool CanAdd(int count) => _freeCount >= count;

    /// <summary>Pushes (page, index) onto the list at <paramref name="head"/>; false when the pool is exhausted.</summary>
    public bool Add(ref int head, int page, int index)
    {
        int node = _free;
        if (node == None)
        {
            return false;
        }

        ref Link link = ref _links[node];
        _free = link.Next;
        _freeCount--;
        link = new Link(head, page, index);
        head = node;
        return true;
    }

    /// <summary>Removes the first (page, index) pair from the list at <paramref name="head"/>.</summary>
    public bool Remove(ref int head, int page, int index)
    {
        int previous = None;
        for (int node = head; node != None; previous = node, node = _links[node].Next)
        {
            ref Link link = ref _links[node];
            if (link.Page == page && link.Index == index)
            {
                if (previous == None)
                {
                    head = link.Next;
                }
                else
                {
                    _links[previous].Next = link.Next;
                }

                link.Next = _free;
                _free = node;
                _freeCount++;
                return true;
            }
        }

        return false;
    }

    public int Next(int node) => _links[node].Next;

    public int PageOf(int node) => _links[node].Page;

    public int IndexOf(int node) => _links[node].Index;

    private struct Link(int next, int page, int index)
    {
        public int Next = next;
        public int Page = page;
        public int Index = index;
    }
}
