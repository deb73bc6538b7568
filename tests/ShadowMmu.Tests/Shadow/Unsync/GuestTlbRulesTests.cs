using System.Collections.Generic;
using Xunit;

namespace ShadowMmu.Tests.Shadow.Unsync;

/// <summary>
/// The audit's TLB rules (<see cref="GuestTlb"/>) against the Intel SDM's text, Vol. 3A, "Invalidation of TLBs and
/// Paging-Structure Caches", and Vol. 3C, "Invalidation of Cached EPT Translations" (section numbers vary between
/// editions; the titles do not). Each test quotes the sentence it checks.
/// </summary>
public class GuestTlbRulesTests
{
    private const ulong A = 1, B = 2;          // two address spaces
    private const ulong Page = 0x40_0000, Other = 0x40_1000;
    private const ulong Entry = 0x4000;

    /// <summary>Whether the TLB may still hold <paramref name="old"/>, which the entry held before its latest write.</summary>
    private static bool MayStillHold(GuestTlb tlb, ulong context, ulong va, bool global, ulong old)
    {
        var values = new List<(ulong Value, long Until)>();
        tlb.ValuesSince(Entry, tlb.LastFlush(context, va, global), values);
        return values.Exists(v => v.Value == old);
    }

    /// <summary>
    /// "Delayed Invalidation": "between the modification of a paging-structure entry and execution of the invalidation
    /// instruction recommended in Section 4.10.4.2, the processor may use translations based on either the old value or
    /// the new value of the paging-structure entry."
    /// </summary>
    [Fact]
    public void Until_the_guest_flushes_the_old_value_and_every_value_since_may_be_used()
    {
        var tlb = new GuestTlb();
        tlb.RecordWrite(Entry, 0x111);
        tlb.RecordWrite(Entry, 0x222);

        Assert.True(MayStillHold(tlb, A, Page, global: false, 0x111));
        Assert.True(MayStillHold(tlb, A, Page, global: false, 0x222));
        Assert.False(MayStillHold(tlb, A, Page, global: false, 0x333));
    }

    /// <summary>
    /// INVLPG: "The instruction invalidates any TLB entries that are for a page number corresponding to the linear address
    /// and that are associated with the current PCID. It also invalidates any global TLB entries with that page number,
    /// regardless of PCID."
    /// </summary>
    [Fact]
    public void Invlpg_flushes_that_page_in_the_current_address_space_and_its_global_entries_in_every_one()
    {
        var tlb = new GuestTlb();
        tlb.RecordWrite(Entry, 0x111);
        tlb.Invlpg(A, Page);

        Assert.False(MayStillHold(tlb, A, Page, global: false, 0x111));
        Assert.False(MayStillHold(tlb, A, Page, global: true, 0x111));
        // Another page of A, and the same page of B (non-global), are not invalidated.
        Assert.True(MayStillHold(tlb, A, Other, global: false, 0x111));
        Assert.True(MayStillHold(tlb, B, Page, global: false, 0x111));
        // A global entry for that page is invalidated whatever the address space.
        Assert.False(MayStillHold(tlb, B, Page, global: true, 0x111));

        // A write after the flush may be pending again.
        tlb.RecordWrite(Entry, 0x222);
        Assert.True(MayStillHold(tlb, A, Page, global: false, 0x222));
    }

    /// <summary>
    /// MOV to CR3, CR4.PCIDE = 0: "the instruction invalidates all TLB entries associated with PCID 000H except those for
    /// global pages." Global pages: with CR4.PGE = 1 a global entry is not invalidated by it.
    /// </summary>
    [Fact]
    public void Mov_to_cr3_flushes_the_address_space_but_global_pages_survive_under_pge()
    {
        var tlb = new GuestTlb();
        tlb.RecordWrite(Entry, 0x111);
        tlb.FlushContext(A, globalPagesSurvive: true);

        Assert.False(MayStillHold(tlb, A, Page, global: false, 0x111));
        Assert.True(MayStillHold(tlb, A, Page, global: true, 0x111));
        Assert.True(MayStillHold(tlb, B, Page, global: false, 0x111));
    }

    /// <summary>With CR4.PGE = 0 no translation is global ("Global Pages"): MOV to CR3 removes them all.</summary>
    [Fact]
    public void Without_pge_mov_to_cr3_flushes_entries_with_g_set_too()
    {
        var tlb = new GuestTlb();
        tlb.RecordWrite(Entry, 0x111);
        tlb.FlushContext(A, globalPagesSurvive: false);

        Assert.False(MayStillHold(tlb, A, Page, global: true, 0x111));
    }

    /// <summary>
    /// MOV to CR4: "The instruction invalidates all TLB entries (including global entries) and all entries in all
    /// paging-structure caches (for all PCIDs) if (1) it changes the value of CR4.PGE; or (2) it changes the value of the
    /// CR4.PCIDE from 1 to 0." INVEPT, all-context: "the logical processor invalidates guest-physical mappings and combined
    /// mappings associated with all EP4TAs".
    /// </summary>
    [Fact]
    public void A_pge_change_or_invept_all_context_flushes_everything()
    {
        var tlb = new GuestTlb();
        tlb.RecordWrite(Entry, 0x111);
        tlb.FlushAll();

        Assert.False(MayStillHold(tlb, A, Page, global: true, 0x111));
        Assert.False(MayStillHold(tlb, B, Other, global: false, 0x111));
    }

    /// <summary>
    /// MOV to CR3, CR4.PCIDE = 1 and bit 63 of the source operand 1: "the instruction is not required to invalidate any
    /// TLB entries". INVEPT single-context: "the logical processor invalidates all guest-physical mappings and combined
    /// mappings associated with the EP4TA specified in the INVEPT descriptor" (one context, as a flushing MOV to CR3 is).
    /// </summary>
    [Fact]
    public void A_no_flush_cr3_load_records_nothing_and_single_context_invept_flushes_its_context()
    {
        var tlb = new GuestTlb();
        tlb.RecordWrite(Entry, 0x111);
        long before = tlb.LastFlush(A, Page, global: false);

        // The no-flush load is no call at all: nothing changes.
        Assert.Equal(before, tlb.LastFlush(A, Page, global: false));
        Assert.True(MayStillHold(tlb, A, Page, global: false, 0x111));

        tlb.FlushContext(A, globalPagesSurvive: false);
        Assert.False(MayStillHold(tlb, A, Page, global: false, 0x111));
        Assert.True(MayStillHold(tlb, B, Page, global: false, 0x111));
    }

    [Fact]
    public void A_frame_forgotten_once_exact_holds_no_values()
    {
        var tlb = new GuestTlb();
        tlb.RecordWrite(Entry, 0x111);
        tlb.ForgetFrame(Entry >> 12);

        Assert.False(MayStillHold(tlb, A, Page, global: false, 0x111));
    }
}
