namespace ShadowMmu.Dumps;

/// <summary>The container a memory dump was written in, as detected from its content.</summary>
public enum DumpFormat
{
    /// <summary>Guest-physical memory from address 0, byte for byte (QEMU's <c>pmemsave</c>); what nothing else matches.</summary>
    Raw,

    /// <summary>An ELF core file (<c>dump-guest-memory</c>, <c>virsh dump --memory-only</c>, <c>/proc/vmcore</c>).</summary>
    Elf,

    /// <summary>The kdump-compressed format (<c>dump-guest-memory -z|-l|-s</c>, makedumpfile), plain or flattened.</summary>
    Kdump,

    /// <summary>LiME ranges (LiME, AVML's uncompressed output).</summary>
    Lime,
}

/// <summary>The page compression a kdump-compressed file declares in its header (bits of its <c>status</c>).</summary>
[System.Flags]
public enum KdumpCompression
{
    /// <summary>Pages stored as they are.</summary>
    None = 0,

    /// <summary>zlib (<c>-z</c>).</summary>
    Zlib = 0x1,

    /// <summary>LZO1X (<c>-l</c>).</summary>
    Lzo = 0x2,

    /// <summary>snappy (<c>-s</c>).</summary>
    Snappy = 0x4,

    /// <summary>zstd (makedumpfile <c>-z</c>); not readable here.</summary>
    Zstd = 0x20,
}

/// <summary>What a page of guest-physical memory is in a dump.</summary>
public enum DumpPageState
{
    /// <summary>The dump does not hold the page (a hole, or past its end): zeros to the walker, not the guest's bytes.</summary>
    Absent,

    /// <summary>The dump holds the page.</summary>
    Present,

    /// <summary>The dump has an entry for the page, but it could not be read (it did not decompress).</summary>
    Unreadable,
}
