namespace ShadowMmu;

/// <summary>
/// Singly linked lists of (shadow page, entry index) pairs in preallocated arrays, so that adding and removing
/// links allocates nothing (KVM's pte_list_desc from a memory cache). Used for reverse maps: the leaf entries that
/// map a guest frame, the entries that link a shadow page, the shadow pages of a guest frame. Callers hold the mmu_lock.
/// </summary>
internal sealed class LinkPool
{
    public const int None = -1;

    private readonly int[] _next;
    private readonly int[] _page;
    private readonly int[] _index;
    private int _free;

    public LinkPool(int capacity)
    {
        _next = new int[capacity];
        _page = new int[capacity];
        _index = new int[capacity];
        for (int i = 0; i < capacity; i++)
        {
            _next[i] = i + 1 < capacity ? i + 1 : None;
        }

        _free = capacity > 0 ? 0 : None;
    }

    /// <summary>True while at least <paramref name="count"/> more links can be added.</summary>
    public bool CanAdd(int count)
    {
        int node = _free;
        for (int i = 0; i < count; i++)
        {
            if (node == None)
            {
                return false;
            }

            node = _next[node];
        }

        return true;
    }

    /// <summary>Pushes (page, index) onto the list at <paramref name="head"/>; false when the pool is exhausted.</summary>
    public bool Add(ref int head, int page, int index)
    {
        int node = _free;
        if (node == None)
        {
            return false;
        }

        _free = _next[node];
        _page[node] = page;
        _index[node] = index;
        _next[node] = head;
        head = node;
        return true;
    }

    /// <summary>Removes the first (page, index) pair from the list at <paramref name="head"/>.</summary>
    public bool Remove(ref int head, int page, int index)
    {
        int previous = None;
        for (int node = head; node != None; previous = node, node = _next[node])
        {
            if (_page[node] == page && _index[node] == index)
            {
                if (previous == None)
                {
                    head = _next[node];
                }
                else
                {
                    _next[previous] = _next[node];
                }

                _next[node] = _free;
                _free = node;
                return true;
            }
        }

        return false;
    }

    public int Next(int node) => _next[node];

    public int PageOf(int node) => _page[node];

    public int IndexOf(int node) => _index[node];
}
