using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;

namespace ShadowMmu.Cli;

/// <summary>
/// The image names a batch's cases give, numbered in the order they are first read (by any thread), so that a case
/// carries a number instead of a string. A name is a file name as the case wrote it; two names for one file are two
/// entries here (their errors name the file as each case wrote it) and one dump in the <see cref="WalkSession"/>.
/// </summary>
internal sealed class BatchImages
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _names = new();
    private readonly Lock _lock = new();

    /// <summary>The name of image <paramref name="id"/>.</summary>
    public string Name(int id)
    {
        lock (_lock)
        {
            return _names[id];
        }
    }

    /// <summary>The number of <paramref name="name"/>, given it one if it has none.</summary>
    public int Id(string name)
    {
        lock (_lock)
        {
            if (!_ids.TryGetValue(name, out int id))
            {
                id = _names.Count;
                _names.Add(name);
                _ids[name] = id;
            }

            return id;
        }
    }

    /// <summary>
    /// One reader's memory of the last name it saw, so that a run of cases naming the same image costs a comparison of
    /// bytes and no string.
    /// </summary>
    public sealed class Cache
    {
        private readonly BatchImages _images;
        private byte[] _lastName = Array.Empty<byte>();
        private int _lastId = -1;

        public Cache(BatchImages images)
        {
            _images = images;
        }

        /// <summary>The number of the image named by the UTF-8 <paramref name="name"/>.</summary>
        public int Id(ReadOnlySpan<byte> name)
        {
            if (_lastId >= 0 && name.SequenceEqual(_lastName))
            {
                return _lastId;
            }

            _lastId = _images.Id(Encoding.UTF8.GetString(name));
            _lastName = name.ToArray();
            return _lastId;
        }

        /// <summary>The number of the image named <paramref name="name"/> (a name the JSON escaped).</summary>
        public int Id(string name)
        {
            _lastId = -1;
            return _images.Id(name);
        }
    }
}
