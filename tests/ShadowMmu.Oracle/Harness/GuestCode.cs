using System;

namespace ShadowMmu.Oracle.Harness;

/// <summary>
/// The guest's instructions. Each code page holds all six snippets; the same bytes decode identically in
/// 32-bit and 64-bit code. Every snippet ends in INT3, which Unicorn reports as vector 3 and which
/// (unlike HLT) is legal at CPL 3.
/// </summary>
internal static class GuestCode
{
    private static readonly byte[] Wrpkru = [0x0F, 0x01, 0xEF];
    private static readonly byte[] ReadBody = [0x8B, 0x03, 0xCC];  // mov eax, [rbx]; int3
    private static readonly byte[] WriteBody = [0x89, 0x0B, 0xCC]; // mov [rbx], ecx; int3
    private static readonly byte[] FetchBody = [0xFF, 0xE3];       // jmp rbx (the page at the VA is all INT3)

    /// <summary>Offset of a snippet inside a code page.</summary>
    public static ulong EntryOffset(OracleAccess access, bool loadPkru) => ((ulong)access * 0x10) + (loadPkru ? 0x30UL : 0);

    /// <summary>Writes every snippet into a code page.</summary>
    public static void WriteInto(Span<byte> page)
    {
        foreach (OracleAccess access in Enum.GetValues<OracleAccess>())
        {
            ReadOnlySpan<byte> body = Body(access);
            body.CopyTo(page[(int)EntryOffset(access, loadPkru: false)..]);

            // WRPKRU takes EAX (PKRU, from the VMCB's RAX), ECX = EDX = 0 (set by the host before VMRUN).
            Span<byte> withPkru = page[(int)EntryOffset(access, loadPkru: true)..];
            Wrpkru.CopyTo(withPkru);
            body.CopyTo(withPkru[Wrpkru.Length..]);
        }
    }

    private static ReadOnlySpan<byte> Body(OracleAccess access) => access switch
    {
        OracleAccess.Read => ReadBody,
        OracleAccess.Write => WriteBody,
        _ => FetchBody,
    };
}
