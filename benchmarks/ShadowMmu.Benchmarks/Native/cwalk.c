/*
 * Native C guest page walkers: the yardstick the generated C# walkers are measured against.
 *
 * Built with gcc -O2 by ShadowMmu.Benchmarks.csproj into libshadowmmu_cwalk.so and called through P/Invoke in
 * batches (cw_run), so that the managed-to-native transition is paid once per batch of thousands of walks.
 *
 * Every walker here has the semantics of the generated walker for the same paging mode (the specs/ files, the
 * emitted Legacy32Walker/PaeWalker/Long4Walker/Long5Walker): the bounds check of each entry against guest memory,
 * present bit, page-size bit, the reserved-bit mask of each level, U/W/X accumulation, KVM's permission bitmap and
 * PKRU mask, A/D flags (a locked compare-exchange when missing; the benchmarks set them, as a warm guest has) and
 * the same walk record (struct cw_walk mirrors ShadowMmu.GuestWalk). The EPT walkers (cw_ept4_unrolled,
 * cw_ept5_unrolled, cw_ept_loop) have the semantics of the generated Ept4Walker/Ept5Walker. Three flavours:
 *
 *   cw_*_unrolled   one block per level, every shift and mask a constant: what the generator emits, by hand.
 *   cw_loop         one loop over a per-mode level table, KVM's walk_addr_generic shape.
 *   cw_floor_*      the same dependent loads with no check at all: the machine's limit for this walk.
 *
 * Walkers are noipa: compiled without knowledge of their caller, as the JIT compiles WalkAddr, and called once per
 * walk from the batch loop, as the C# benchmark loop calls WalkAddr.
 */
#include <stdint.h>
#include <string.h>

#define NOIPA __attribute__((noipa))

/* The unrolled walkers keep each level's entry in a local for the A/D checks; gcc cannot see that a level below the
   leaf is never checked, and says so. */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* AccessKind, WalkFault and PageFaultErrorCode values of the runtime. */
enum { KIND_READ = 0, KIND_WRITE = 1, KIND_FETCH = 2 };
enum { FAULT_NONE = 0, FAULT_PF = 1, FAULT_GP = 2, FAULT_EPT_VIOLATION = 3, FAULT_EPT_MISCONFIG = 4 };
enum { EC_P = 1, EC_W = 2, EC_U = 4, EC_RSVD = 8, EC_I = 16, EC_PK = 32 };

typedef struct cw_level {
    uint64_t index_shift;   /* va bit where this level's index starts */
    uint64_t index_mask;    /* index width mask */
    uint64_t table_mask;    /* entry bits naming the next table */
    uint64_t frame_mask;    /* entry bits naming the page frame when the entry maps a page */
    uint64_t high_mask;     /* PSE-36: entry bits holding physical-address bits above 31 */
    uint64_t high_shift;    /* ... and how far to shift them */
    uint64_t page_size;     /* size of the page an entry of this level maps (0: never) */
    uint64_t rsvd;          /* reserved bits of an entry that references a table */
    uint64_t rsvd_page;     /* reserved bits of an entry that maps a page */
    uint64_t maps_pages;    /* 1 when the page-size bit (or level 1) makes a page here */
    uint64_t is_register;   /* PAE's PDPTE registers */
} cw_level;

/* The walker's context: KVM's struct kvm_mmu for one CPU state. Filled by the benchmark from the CPU state. */
typedef struct cw_ctx {
    uint8_t *base;          /* guest memory, guest-physical 0 */
    uint64_t size;          /* bytes of guest memory */
    uint64_t root;          /* CR3 masked to the root table */
    uint64_t xd;            /* execute-disable bit when EFER.NXE, else 0 */
    uint64_t pdpte[4];      /* PAE: the PDPTE registers as loaded with CR3 */
    const uint8_t *permissions; /* KVM's permission bitmap, 16 rows of 16 bytes */
    uint64_t perm_row;      /* 16 * (WP | SMEP << 1 | SMAP << 2 | NXE << 3) */
    uint64_t fetch_ec;      /* I/D bit reported for fetches (NXE or SMEP) */
    uint64_t pkru_mask;     /* KVM's pkru_mask, 0 when protection keys are off */
    uint64_t pkru;
    uint64_t pde_maps_pages;/* 32-bit paging: CR4.PSE */
    uint64_t register_fault;/* PAE: the PDPTE load raised #GP */
    /* The mode, for the looped walker. */
    uint64_t root_level;
    uint64_t entry_bytes;
    uint64_t linear_bits;
    uint64_t canonical;
    uint64_t has_pkeys;
    cw_level lv[5];         /* [level - 1] */
    /* Reserved masks for the unrolled walkers, [level - 1]. */
    uint64_t rsvd[5];
    uint64_t rsvd_page[5];
    /* EPT (ept4, ept5): rsvd and rsvd_page above hold each level's reserved bits (MAXPHYADDR included), lv the levels. */
    uint64_t ept_present;   /* 7, or 0x407 under mode-based execute control */
    uint64_t ept_user_exec; /* 8 under mode-based execute control (entry bit 10 -> ACC bit 3), else 0 */
    uint64_t ept_ux_index;  /* 1 under mode-based execute control: bit 10 picks the bad_mt_xwr word */
    uint64_t ept_bad_mt_xwr[2]; /* KVM's bad_mt_xwr for this CPU: bit (type << 3 | XWR); [bit 10 of the entry] */
    uint64_t ept_ad;        /* EPTP bit 6: A/D flags */
    uint64_t ept_gpa_mask;  /* the guest-physical bits translated: 47:0 or 56:0 */
    uint16_t ept_perm[8];   /* access kind | user-mode linear address << 2: bit v set when ACC rights v fault */
} cw_ctx;

typedef struct cw_update { uint64_t gpa, old_value, new_value; } cw_update;

/* ShadowMmu.GuestWalk, field for field: the ending fields in three 8-byte words, the inherited rights packed in one. */
typedef struct cw_walk {
    uint64_t va;
    uint64_t pte_gpa[5];
    uint64_t ptes[5];
    uint64_t pa;
    uint64_t page_size;
    int32_t level;          /* word 1 */
    int32_t max_level;
    uint32_t pte_access;    /* word 2 */
    int32_t pkey;
    uint32_t error_code;    /* word 3 */
    uint8_t fault;
    uint8_t outside;
    uint8_t memory_type;    /* EPT: the leaf's memory type */
    uint8_t ignore_pat;     /* EPT: the leaf's ignore-PAT bit */
    uint64_t pt_access;     /* byte level - 1: the rights level inherits */
    int32_t update_count;
    cw_update updates[8];
} cw_walk;

/* ---- guest memory: GuestMemory.TryReadUInt64/32 and TryCompareExchange ---- */

static inline int read64(const cw_ctx *c, uint64_t gpa, uint64_t *out)
{
    if (UNLIKELY(!(gpa < c->size && 8 <= c->size - gpa)))
        return 0;
    if (LIKELY((gpa & 7) == 0))
        *out = __atomic_load_n((const uint64_t *)(c->base + gpa), __ATOMIC_RELAXED);
    else
        memcpy(out, c->base + gpa, 8);
    return 1;
}

static inline int read32(const cw_ctx *c, uint64_t gpa, uint64_t *out)
{
    uint32_t v;
    if (UNLIKELY(!(gpa < c->size && 4 <= c->size - gpa)))
        return 0;
    if (LIKELY((gpa & 3) == 0))
        v = __atomic_load_n((const uint32_t *)(c->base + gpa), __ATOMIC_RELAXED);
    else
        memcpy(&v, c->base + gpa, 4);
    *out = v;
    return 1;
}

static int cmpxchg(const cw_ctx *c, uint64_t gpa, uint64_t old, uint64_t val, int bytes)
{
    if ((gpa & (uint64_t)(bytes - 1)) != 0 || !(gpa < c->size && (uint64_t)bytes <= c->size - gpa))
        return 0;
    if (bytes == 4) {
        uint32_t expected = (uint32_t)old;
        return __atomic_compare_exchange_n((uint32_t *)(c->base + gpa), &expected, (uint32_t)val, 0,
                                           __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    }
    return __atomic_compare_exchange_n((uint64_t *)(c->base + gpa), &old, val, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

/* ---- the walk record: GuestWalk's Record and End methods ---- */

#define COLD __attribute__((noinline, cold))

/* GuestWalk.SetEnding and the End methods: the translation (or zeros), the ending fields in three 8-byte stores and the
   inherited rights of every level in one. */
static inline void end_walk(cw_walk *w, int max_level, int level, uint64_t pa, uint64_t size, uint32_t access, int key,
                            uint32_t ec, uint32_t fault, uint32_t outside, uint32_t mt, uint32_t ipat, uint64_t pt_access)
{
    uint64_t words[3] = {
        (uint32_t)level | (uint64_t)(uint32_t)max_level << 32,
        access | (uint64_t)(uint32_t)key << 32,
        ec | (uint64_t)fault << 32 | (uint64_t)outside << 40 | (uint64_t)mt << 48 | (uint64_t)ipat << 56,
    };
    w->pa = pa;
    w->page_size = size;
    memcpy(&w->level, words, sizeof words);
    w->pt_access = pt_access;
}

#define RECORD(L, gpa, pte)                                                                                          \
    do {                                                                                                             \
        w->pte_gpa[(L) - 1] = (gpa);                                                                                 \
        w->ptes[(L) - 1] = (pte);                                                                                    \
    } while (0)

/* The rights level L inherits, in its byte of pt. */
#define INHERIT(L, acc) (pt |= (uint64_t)(acc) << (8 * ((L) - 1)))

COLD static int fail(cw_walk *w, int max_level, int level, uint32_t ec, uint32_t fault, uint64_t pt)
{
    end_walk(w, max_level, level, 0, 0, 0, 0, ec, fault, 0, 0, 0, pt);
    return 0;
}

COLD static int outside(cw_walk *w, int max_level, int level, uint64_t gpa, uint32_t ec, uint32_t fault, uint64_t pt)
{
    RECORD(level, gpa, 0);
    end_walk(w, max_level, level, 0, 0, 0, 0, ec, fault, 1, 0, 0, pt);
    return 0;
}

COLD static int general_protection(cw_walk *w)
{
    end_walk(w, 0, 0, 0, 0, 0, 0, 0, FAULT_GP, 0, 0, 0, 0);
    return 0;
}

static inline int translated(cw_walk *w, int max_level, int level, uint64_t pa, uint64_t size, uint32_t access, int key,
                             uint64_t pt)
{
    end_walk(w, max_level, level, pa, size, access, key, 0, FAULT_NONE, 0, 0, 0, pt);
    return 1;
}

/* GuestWalk.TrySetFlags: the locked compare-exchange of an entry that lacks A (or D); 0 when it changed. */
static int set_flags(const cw_ctx *c, cw_walk *w, int level, uint64_t flags, int bytes)
{
    uint64_t old = w->ptes[level - 1];
    if ((old & flags) == flags)
        return 1;
    uint64_t gpa = w->pte_gpa[level - 1], val = old | flags;
    if (!cmpxchg(c, gpa, old, val, bytes))
        return 0;
    w->ptes[level - 1] = val;
    for (int i = 0; i < w->update_count; i++) {
        if (w->updates[i].gpa == gpa) {
            w->updates[i].new_value = val;
            return 1;
        }
    }
    if (w->update_count < 8) {
        w->updates[w->update_count].gpa = gpa;
        w->updates[w->update_count].old_value = old;
        w->updates[w->update_count].new_value = val;
        w->update_count++;
    }
    return 1;
}

/* The generated TrySetAccessedDirty: A in every entry read from max_level down to the leaf, D in the leaf for a write;
   0 when an entry changed (the walk runs again). Out of line, as a walk whose flags are set never calls it. */
COLD static int set_accessed_dirty(const cw_ctx *c, cw_walk *w, int leaf, uint64_t a, uint64_t d, int bytes)
{
    for (int l = w->max_level; l >= leaf; l--)
        if (!set_flags(c, w, l, l == leaf ? a | d : a, bytes))
            return 0;
    return 1;
}

/* The request as the generated Request computes it: the permission bitmap's index (row | W | U | SMAP override << 2 |
   F << 3), and the error-code bits a fault reports for it. */
#define REQUEST()                                                                                                    \
    int write = kind == KIND_WRITE, fetch = kind == KIND_FETCH, user = cpl == 3;                                    \
    uint32_t request = (uint32_t)c->perm_row | (write ? 1u : 0u) | (user ? 2u : 0u) | (ac && !user ? 4u : 0u) |       \
                       (fetch ? 8u : 0u);                                                                            \
    uint32_t fault_bits = (write ? EC_W : 0u) | (user ? EC_U : 0u) | (fetch ? (uint32_t)c->fetch_ec : 0u)

#define RIGHTS(pte) ((((uint32_t)(pte) & 6u) | 1u) & ~(uint32_t)(((pte) & c->xd) >> 63))
#define ADDR_51_12 0x000FFFFFFFFFF000ull
#define ADDR_51_21 0x000FFFFFFFE00000ull
#define ADDR_51_30 0x000FFFFFC0000000ull

/* The generated Leaf for 4- and 8-byte x86 entries: rights, protection keys, the translation, then the A/D test (the AND
   of the entries read). Inlined with the level's constants; 0 fault, 1 translated, 2 flags missing. */
static inline __attribute__((always_inline)) int leaf_x86(const cw_ctx *c, cw_walk *w, uint64_t va, uint32_t request,
    uint32_t fault_bits, int write, int user, int fetch, uint64_t pte, uint32_t access, uint64_t pt, uint64_t accessed,
    int pkeys, int max_level, int level, uint64_t page_size, uint64_t frame)
{
    uint32_t fault = ((uint32_t)c->permissions[request] >> access) & 1u;
    int key = 0;
    uint32_t pk_fault = 0;
    if (pkeys) {
        key = c->pkru_mask != 0 ? (int)((pte >> 59) & 0xF) : 0;
        int pk_off = (write ? 2 : 0) | (user ? 4 : 0) | (fetch ? 16 : 0) | ((access & 4u) ? 8 : 0);
        uint32_t pk_bits = ((uint32_t)c->pkru >> (key * 2)) & 3u & ((uint32_t)c->pkru_mask >> pk_off);
        pk_fault = pk_bits ? EC_PK : 0u;
    }
    if (UNLIKELY(fault | pk_fault))
        return fail(w, max_level, level, fault_bits | EC_P | pk_fault, FAULT_PF, pt);
    translated(w, max_level, level, frame | (va & (page_size - 1)), page_size, access, key, pt);
    return LIKELY((accessed & 0x20u) && (!write || (pte & 0x40u))) ? 1 : 2;
}

/* One 8-byte table level of the unrolled walkers: read, record, rights, present, then page (the leaf) or table. */
#define LEVEL8(L, SHIFT, PAGE_SIZE, PAGE_MASK)                                                                       \
    gpa = table + ((va >> (SHIFT)) & 0xFF8u);                                                                        \
    INHERIT((L), access);                                                                                            \
    if (UNLIKELY(!read64(c, gpa, &pte)))                                                                             \
        return outside(w, MAX, (L), gpa, fault_bits, FAULT_PF, pt);                                                  \
    accessed &= pte;                                                                                                 \
    RECORD((L), gpa, pte);                                                                                           \
    access &= RIGHTS(pte);                                                                                           \
    if (UNLIKELY((pte & 1) == 0))                                                                                    \
        return fail(w, MAX, (L), fault_bits, FAULT_PF, pt);                                                          \
    if (PAGE_SIZE && (pte & 0x80u)) {                                                                                \
        if (UNLIKELY(pte & c->rsvd_page[(L) - 1]))                                                                   \
            return fail(w, MAX, (L), fault_bits | EC_P | EC_RSVD, FAULT_PF, pt);                                     \
        LEAF((L), (PAGE_SIZE), pte & (PAGE_MASK));                                                                   \
    }                                                                                                                \
    if (UNLIKELY(pte & c->rsvd[(L) - 1]))                                                                            \
        return fail(w, MAX, (L), fault_bits | EC_P | EC_RSVD, FAULT_PF, pt);                                         \
    table = pte & ADDR_51_12;

/* The leaf's outcome: done, a fault, or the A/D flags set with a walk again when an entry changed. */
#define LEAF_X86(PKEYS, BYTES, L, PAGE_SIZE, FRAME)                                                                  \
    do {                                                                                                             \
        int r = leaf_x86(c, w, va, request, fault_bits, write, user, fetch, pte, access, pt, accessed, (PKEYS), MAX,  \
                         (L), (PAGE_SIZE), (FRAME));                                                                 \
        if (LIKELY(r != 2))                                                                                          \
            return r;                                                                                                \
        if (set_accessed_dirty(c, w, (L), 0x20u, write ? 0x40u : 0, (BYTES)))                                        \
            return 1;                                                                                                \
        goto retry;                                                                                                  \
    } while (0)

/* ---- unrolled walkers, one per mode ---- */

#define LEAF(L, PAGE_SIZE, FRAME) LEAF_X86(1, 8, L, PAGE_SIZE, FRAME)
#define MAX 4
NOIPA int cw_long4_unrolled(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    w->va = va;
    w->update_count = 0;
    if (UNLIKELY(((int64_t)(va << 16) >> 16) != (int64_t)va))
        return general_protection(w);
    REQUEST();
    uint64_t table, gpa, pte, pt, accessed;
    uint32_t access;
retry:
    access = 7;
    pt = 0;
    accessed = ~0ull;
    table = c->root;
    LEVEL8(4, 36, 0, 0)
    LEVEL8(3, 27, 0x40000000ull, ADDR_51_30)
    LEVEL8(2, 18, 0x200000ull, ADDR_51_21)
    LEVEL8(1, 9, 0, 0)
    LEAF(1, 0x1000, pte & ADDR_51_12);
}
#undef MAX

#define MAX 5
NOIPA int cw_long5_unrolled(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    w->va = va;
    w->update_count = 0;
    if (UNLIKELY(((int64_t)(va << 7) >> 7) != (int64_t)va))
        return general_protection(w);
    REQUEST();
    uint64_t table, gpa, pte, pt, accessed;
    uint32_t access;
retry:
    access = 7;
    pt = 0;
    accessed = ~0ull;
    table = c->root;
    LEVEL8(5, 45, 0, 0)
    LEVEL8(4, 36, 0, 0)
    LEVEL8(3, 27, 0x40000000ull, ADDR_51_30)
    LEVEL8(2, 18, 0x200000ull, ADDR_51_21)
    LEVEL8(1, 9, 0, 0)
    LEAF(1, 0x1000, pte & ADDR_51_12);
}
#undef MAX
#undef LEAF

#define LEAF(L, PAGE_SIZE, FRAME) LEAF_X86(0, 8, L, PAGE_SIZE, FRAME)
#define MAX 2
NOIPA int cw_pae_unrolled(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    va &= 0xFFFFFFFFu;
    w->va = va;
    w->update_count = 0;
    if (UNLIKELY(c->register_fault))
        return general_protection(w);
    REQUEST();
    uint64_t table, gpa, pte, pt, accessed;
    uint32_t access;
retry:
    access = 7;
    pt = 0;
    accessed = ~0ull;
    table = c->root;
    /* Level 3: the PDPTE register; it carries no rights and no accessed flag. */
    gpa = table + (((va >> 30) & 3) << 3);
    pte = c->pdpte[(va >> 30) & 3];
    RECORD(3, gpa, pte);
    INHERIT(3, access);
    if (UNLIKELY((pte & 1) == 0))
        return fail(w, MAX, 3, fault_bits, FAULT_PF, pt);
    table = pte & ADDR_51_12;
    LEVEL8(2, 18, 0x200000ull, ADDR_51_21)
    LEVEL8(1, 9, 0, 0)
    LEAF(1, 0x1000, pte & ADDR_51_12);
}
#undef MAX
#undef LEAF

#define LEAF(L, PAGE_SIZE, FRAME) LEAF_X86(0, 4, L, PAGE_SIZE, FRAME)
#define MAX 2
NOIPA int cw_legacy32_unrolled(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    va &= 0xFFFFFFFFu;
    w->va = va;
    w->update_count = 0;
    REQUEST();
    uint64_t table, gpa, pte, pt, accessed;
    uint32_t access;
retry:
    access = 7;
    pt = 0;
    table = c->root;
    /* Level 2: the PDE. */
    gpa = table + ((va >> 20) & 0xFFCu);
    INHERIT(2, access);
    if (UNLIKELY(!read32(c, gpa, &pte)))
        return outside(w, MAX, 2, gpa, fault_bits, FAULT_PF, pt);
    accessed = pte;
    RECORD(2, gpa, pte);
    access &= ((uint32_t)pte & 6u) | 1u;
    if (UNLIKELY((pte & 1) == 0))
        return fail(w, MAX, 2, fault_bits, FAULT_PF, pt);
    if ((pte & 0x80u) && c->pde_maps_pages) {
        if (UNLIKELY(pte & c->rsvd_page[1]))
            return fail(w, MAX, 2, fault_bits | EC_P | EC_RSVD, FAULT_PF, pt);
        LEAF(2, 0x400000, (pte & 0xFFC00000u) | ((pte & 0x1FE000u) << 19));
    }
    if (UNLIKELY(pte & c->rsvd[1]))
        return fail(w, MAX, 2, fault_bits | EC_P | EC_RSVD, FAULT_PF, pt);
    table = pte & 0xFFFFF000u;
    /* Level 1: the PTE. */
    gpa = table + ((va >> 10) & 0xFFCu);
    INHERIT(1, access);
    if (UNLIKELY(!read32(c, gpa, &pte)))
        return outside(w, MAX, 1, gpa, fault_bits, FAULT_PF, pt);
    accessed &= pte;
    RECORD(1, gpa, pte);
    access &= ((uint32_t)pte & 6u) | 1u;
    if (UNLIKELY((pte & 1) == 0))
        return fail(w, MAX, 1, fault_bits, FAULT_PF, pt);
    if (UNLIKELY(pte & c->rsvd[0]))
        return fail(w, MAX, 1, fault_bits | EC_P | EC_RSVD, FAULT_PF, pt);
    LEAF(1, 0x1000, pte & 0xFFFFF000u);
}
#undef MAX
#undef LEAF

/* ---- EPT walkers: guest-physical to host-physical (the generated Ept4Walker/Ept5Walker's WalkAddr) ----
 *
 * Present when any of R W X (or user-execute under MBEC) is set; then KVM's is_bad_mt_xwr (a bitmap lookup on the
 * memory type and XWR) and the level's reserved bits, both misconfigurations; rights accumulate in KVM's ACC order
 * (X = 1, W = 2, R = 4 in the place of U, user-execute = 8); at the leaf the permission check (a violation whose
 * qualification carries the access, bits 7-9 of the request and the rights), then A/D with a locked compare-exchange
 * when missing, and the leaf's memory type and ignore-PAT bit. WalkAddr's cpl 3 is a user-mode linear address. */

/* The qualification's bits 3-6 for ACC rights: R (4) -> 3, W (2) -> 4, X (1) -> 5, user-execute (8) -> 6. */
static inline uint32_t ept_rights_qualification(uint32_t r)
{
    return ((r & 4u) << 1) | ((r & 2u) << 3) | ((r & 1u) << 5) | ((r & 8u) << 3);
}

/* Entry bits 0 (R), 1 (W), 2 (X), 10 (user-execute) as ACC rights. */
#define EPT_RIGHTS(pte) ((((uint32_t)(pte) & 1u) << 2) | ((uint32_t)(pte) & 2u) | (((uint32_t)(pte) >> 2) & 1u) |       \
                         ((uint32_t)((pte) >> 7) & ux))
#define EPT_BAD_MT_XWR(pte) ((c->ept_bad_mt_xwr[((pte) >> 10) & c->ept_ux_index] >> ((pte) & 0x3F)) & 1)

#define EPT_REQUEST()                                                                                                \
    int write = kind == KIND_WRITE, user = cpl == 3;                                                                 \
    (void)ac;                                                                                                        \
    uint32_t request = (uint32_t)kind | (user ? 4u : 0u);                                                            \
    uint32_t qualification = (1u << kind) | 0x180u | (user ? 0x200u : 0u);                                          \
    uint32_t present = (uint32_t)c->ept_present, ux = (uint32_t)c->ept_user_exec

/* The generated EPT Leaf: rights (a violation), the translation with the memory type, then the A/D test. */
static inline __attribute__((always_inline)) int leaf_ept(const cw_ctx *c, cw_walk *w, uint64_t va, uint32_t request,
    uint32_t qualification, int write, uint64_t pte, uint32_t rights, uint64_t pt, uint64_t accessed, int max_level,
    int level, uint64_t page_size, uint64_t frame)
{
    if (UNLIKELY(((uint32_t)c->ept_perm[request] >> rights) & 1u))
        return fail(w, max_level, level, qualification | ept_rights_qualification(rights), FAULT_EPT_VIOLATION, pt);
    end_walk(w, max_level, level, frame | (va & (page_size - 1)), page_size, rights, 0, 0, FAULT_NONE, 0,
             (uint32_t)((pte >> 3) & 7), (uint32_t)((pte >> 6) & 1), pt);
    return LIKELY(!c->ept_ad || ((accessed & 0x100u) && (!write || (pte & 0x200u)))) ? 1 : 2;
}

#define EPT_LEAF(L, PAGE_SIZE, FRAME)                                                                                \
    do {                                                                                                             \
        int r = leaf_ept(c, w, va, request, qualification, write, pte, rights, pt, accessed, MAX, (L), (PAGE_SIZE),   \
                         (FRAME));                                                                                   \
        if (LIKELY(r != 2))                                                                                          \
            return r;                                                                                                \
        if (set_accessed_dirty(c, w, (L), 0x100u, write ? 0x200u : 0, 8))                                            \
            return 1;                                                                                                \
        goto retry;                                                                                                  \
    } while (0)

/* One level of the unrolled EPT walkers. */
#define EPT_LEVEL(L, SHIFT, PAGE_SIZE, PAGE_MASK)                                                                    \
    gpa = table + ((va >> (SHIFT)) & 0xFF8u);                                                                        \
    INHERIT((L), rights);                                                                                            \
    if (UNLIKELY(!read64(c, gpa, &pte)))                                                                             \
        return outside(w, MAX, (L), gpa, qualification, FAULT_EPT_VIOLATION, pt);                                    \
    accessed &= pte;                                                                                                 \
    RECORD((L), gpa, pte);                                                                                           \
    rights &= EPT_RIGHTS(pte);                                                                                       \
    if (UNLIKELY((pte & present) == 0))                                                                              \
        return fail(w, MAX, (L), qualification, FAULT_EPT_VIOLATION, pt);                                            \
    if (UNLIKELY(EPT_BAD_MT_XWR(pte)))                                                                               \
        return fail(w, MAX, (L), 0, FAULT_EPT_MISCONFIG, pt);                                                        \
    if (PAGE_SIZE && (pte & 0x80u)) {                                                                                \
        if (UNLIKELY(pte & c->rsvd_page[(L) - 1]))                                                                   \
            return fail(w, MAX, (L), 0, FAULT_EPT_MISCONFIG, pt);                                                    \
        EPT_LEAF((L), (PAGE_SIZE), pte & (PAGE_MASK));                                                               \
    }                                                                                                                \
    if (UNLIKELY(pte & c->rsvd[(L) - 1]))                                                                            \
        return fail(w, MAX, (L), 0, FAULT_EPT_MISCONFIG, pt);                                                        \
    table = pte & ADDR_51_12;

#define MAX 4
NOIPA int cw_ept4_unrolled(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    va &= 0xFFFFFFFFFFFFull;
    w->va = va;
    w->update_count = 0;
    EPT_REQUEST();
    uint64_t table, gpa, pte, pt, accessed;
    uint32_t rights;
retry:
    rights = 15;
    pt = 0;
    accessed = ~0ull;
    table = c->root;
    EPT_LEVEL(4, 36, 0, 0)
    EPT_LEVEL(3, 27, 0x40000000ull, ADDR_51_30)
    EPT_LEVEL(2, 18, 0x200000ull, ADDR_51_21)
    EPT_LEVEL(1, 9, 0, 0)
    EPT_LEAF(1, 0x1000, pte & ADDR_51_12);
}
#undef MAX

#define MAX 5
NOIPA int cw_ept5_unrolled(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    va &= 0x1FFFFFFFFFFFFFFull;
    w->va = va;
    w->update_count = 0;
    EPT_REQUEST();
    uint64_t table, gpa, pte, pt, accessed;
    uint32_t rights;
retry:
    rights = 15;
    pt = 0;
    accessed = ~0ull;
    table = c->root;
    EPT_LEVEL(5, 45, 0, 0)
    EPT_LEVEL(4, 36, 0, 0)
    EPT_LEVEL(3, 27, 0x40000000ull, ADDR_51_30)
    EPT_LEVEL(2, 18, 0x200000ull, ADDR_51_21)
    EPT_LEVEL(1, 9, 0, 0)
    EPT_LEAF(1, 0x1000, pte & ADDR_51_12);
}
#undef MAX

/* The looped EPT walker: either level count, from the level table (walk_addr_generic with PTTYPE_EPT). */
NOIPA int cw_ept_loop(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    va &= c->ept_gpa_mask;
    w->va = va;
    w->update_count = 0;
    EPT_REQUEST();
    int max = (int)c->root_level;
    uint64_t table, gpa, pte = 0, pt, accessed;
    uint32_t rights;
    int level;
    const cw_level *lv;
retry:
    rights = 15;
    pt = 0;
    accessed = ~0ull;
    table = c->root;
    for (level = max;; level--) {
        lv = &c->lv[level - 1];
        gpa = table + ((va >> lv->index_shift) & lv->index_mask) * 8u;
        INHERIT(level, rights);
        if (UNLIKELY(!read64(c, gpa, &pte)))
            return outside(w, max, level, gpa, qualification, FAULT_EPT_VIOLATION, pt);
        accessed &= pte;
        RECORD(level, gpa, pte);
        rights &= EPT_RIGHTS(pte);
        if (UNLIKELY((pte & present) == 0))
            return fail(w, max, level, qualification, FAULT_EPT_VIOLATION, pt);
        if (UNLIKELY(EPT_BAD_MT_XWR(pte)))
            return fail(w, max, level, 0, FAULT_EPT_MISCONFIG, pt);
        int is_page = level == 1 || (lv->maps_pages && (pte & 0x80u));
        if (UNLIKELY(pte & (is_page ? lv->rsvd_page : lv->rsvd)))
            return fail(w, max, level, 0, FAULT_EPT_MISCONFIG, pt);
        if (is_page)
            break;
        table = pte & lv->table_mask;
    }
    int r = leaf_ept(c, w, va, request, qualification, write, pte, rights, pt, accessed, max, level, lv->page_size,
                     pte & lv->frame_mask);
    if (LIKELY(r != 2))
        return r;
    if (set_accessed_dirty(c, w, level, 0x100u, write ? 0x200u : 0, 8))
        return 1;
    goto retry;
}

/* ---- the looped walker: any mode, from the level table (KVM's walk_addr_generic) ---- */

NOIPA int cw_loop(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    int bytes = (int)c->entry_bytes;
    if (!c->canonical && c->linear_bits < 64)
        va &= (1ull << c->linear_bits) - 1;
    w->va = va;
    w->update_count = 0;
    if (UNLIKELY(c->register_fault))
        return general_protection(w);
    if (c->canonical) {
        int sh = 64 - (int)c->linear_bits;
        if (UNLIKELY(((int64_t)(va << sh) >> sh) != (int64_t)va))
            return general_protection(w);
    }
    REQUEST();
    int max = (int)c->root_level - (c->lv[c->root_level - 1].is_register ? 1 : 0);
    uint64_t table, gpa, pte = 0, pt, accessed;
    uint32_t access;
    int level;
    const cw_level *lv;
retry:
    access = 7;
    pt = 0;
    accessed = ~0ull;
    table = c->root;
    for (level = (int)c->root_level;; level--) {
        lv = &c->lv[level - 1];
        uint64_t index = (va >> lv->index_shift) & lv->index_mask;
        gpa = table + index * (uint64_t)bytes;
        INHERIT(level, access);
        if (lv->is_register) {
            pte = c->pdpte[index];
            RECORD(level, gpa, pte);
            if (UNLIKELY((pte & 1) == 0))
                return fail(w, max, level, fault_bits, FAULT_PF, pt);
            table = pte & lv->table_mask;
            continue;
        }
        int ok = bytes == 4 ? read32(c, gpa, &pte) : read64(c, gpa, &pte);
        if (UNLIKELY(!ok))
            return outside(w, max, level, gpa, fault_bits, FAULT_PF, pt);
        accessed &= pte;
        RECORD(level, gpa, pte);
        access &= RIGHTS(pte);
        if (UNLIKELY((pte & 1) == 0))
            return fail(w, max, level, fault_bits, FAULT_PF, pt);
        int is_page = level == 1 || (lv->maps_pages && (pte & 0x80u));
        if (UNLIKELY(pte & (is_page ? lv->rsvd_page : lv->rsvd)))
            return fail(w, max, level, fault_bits | EC_P | EC_RSVD, FAULT_PF, pt);
        if (is_page)
            break;
        table = pte & lv->table_mask;
    }
    uint64_t frame = (pte & lv->frame_mask) | ((pte & lv->high_mask) << lv->high_shift);
    int r = leaf_x86(c, w, va, request, fault_bits, write, user, fetch, pte, access, pt, accessed, (int)c->has_pkeys, max,
                     level, lv->page_size, frame);
    if (LIKELY(r != 2))
        return r;
    if (set_accessed_dirty(c, w, level, 0x20u, write ? 0x40u : 0, bytes))
        return 1;
    goto retry;
}

/* ---- the floor: the dependent loads alone, no check of any kind ---- */

#define LD64(t, SHIFT) t = *(const uint64_t *)(b + (t) + ((va >> (SHIFT)) & 0xFF8u)) & ADDR_51_12
#define LD64_LEAF(t, SHIFT) t = *(const uint64_t *)(b + (t) + ((va >> (SHIFT)) & 0xFF8u))

NOIPA uint64_t cw_floor_long5_4k(const cw_ctx *c, uint64_t va)
{
    const uint8_t *b = c->base;
    uint64_t t = c->root;
    LD64(t, 45); LD64(t, 36); LD64(t, 27); LD64(t, 18); LD64_LEAF(t, 9);
    return (t & ADDR_51_12) | (va & 0xFFF);
}
NOIPA uint64_t cw_floor_long5_2m(const cw_ctx *c, uint64_t va)
{
    const uint8_t *b = c->base;
    uint64_t t = c->root;
    LD64(t, 45); LD64(t, 36); LD64(t, 27); LD64_LEAF(t, 18);
    return (t & ADDR_51_21) | (va & 0x1FFFFF);
}
NOIPA uint64_t cw_floor_long5_1g(const cw_ctx *c, uint64_t va)
{
    const uint8_t *b = c->base;
    uint64_t t = c->root;
    LD64(t, 45); LD64(t, 36); LD64_LEAF(t, 27);
    return (t & ADDR_51_30) | (va & 0x3FFFFFFF);
}
NOIPA uint64_t cw_floor_long4_4k(const cw_ctx *c, uint64_t va)
{
    const uint8_t *b = c->base;
    uint64_t t = c->root;
    LD64(t, 36); LD64(t, 27); LD64(t, 18); LD64_LEAF(t, 9);
    return (t & ADDR_51_12) | (va & 0xFFF);
}
NOIPA uint64_t cw_floor_long4_2m(const cw_ctx *c, uint64_t va)
{
    const uint8_t *b = c->base;
    uint64_t t = c->root;
    LD64(t, 36); LD64(t, 27); LD64_LEAF(t, 18);
    return (t & ADDR_51_21) | (va & 0x1FFFFF);
}
NOIPA uint64_t cw_floor_long4_1g(const cw_ctx *c, uint64_t va)
{
    const uint8_t *b = c->base;
    uint64_t t = c->root;
    LD64(t, 36); LD64_LEAF(t, 27);
    return (t & ADDR_51_30) | (va & 0x3FFFFFFF);
}
NOIPA uint64_t cw_floor_pae_4k(const cw_ctx *c, uint64_t va)
{
    const uint8_t *b = c->base;
    uint64_t t = c->pdpte[(va >> 30) & 3] & ADDR_51_12;
    LD64(t, 18); LD64_LEAF(t, 9);
    return (t & ADDR_51_12) | (va & 0xFFF);
}
NOIPA uint64_t cw_floor_pae_2m(const cw_ctx *c, uint64_t va)
{
    const uint8_t *b = c->base;
    uint64_t t = c->pdpte[(va >> 30) & 3] & ADDR_51_12;
    LD64_LEAF(t, 18);
    return (t & ADDR_51_21) | (va & 0x1FFFFF);
}
NOIPA uint64_t cw_floor_legacy32_4k(const cw_ctx *c, uint64_t va)
{
    const uint8_t *b = c->base;
    uint64_t t = c->root;
    t = *(const uint32_t *)(b + t + ((va >> 20) & 0xFFCu)) & 0xFFFFF000u;
    t = *(const uint32_t *)(b + t + ((va >> 10) & 0xFFCu));
    return (t & 0xFFFFF000u) | (va & 0xFFF);
}
NOIPA uint64_t cw_floor_legacy32_4m(const cw_ctx *c, uint64_t va)
{
    const uint8_t *b = c->base;
    uint64_t t = *(const uint32_t *)(b + c->root + ((va >> 20) & 0xFFCu));
    return (t & 0xFFC00000u) | (va & 0x3FFFFF);
}

/* ---- batches: the benchmark loops, identical in shape to the C# ones ---- */

/* Implementation ids shared with NativeWalkers.cs. */
enum {
    CW_LEGACY32_UNROLLED = 0, CW_PAE_UNROLLED = 1, CW_LONG4_UNROLLED = 2, CW_LONG5_UNROLLED = 3, CW_LOOP = 4,
    CW_EPT4_UNROLLED = 5, CW_EPT5_UNROLLED = 6, CW_EPT_LOOP = 7,
    CW_FLOOR_LEGACY32_4K = 10, CW_FLOOR_LEGACY32_4M, CW_FLOOR_PAE_4K, CW_FLOOR_PAE_2M, CW_FLOOR_LONG4_4K,
    CW_FLOOR_LONG4_2M, CW_FLOOR_LONG4_1G, CW_FLOOR_LONG5_4K, CW_FLOOR_LONG5_2M, CW_FLOOR_LONG5_1G,
};

typedef int (*walker_fn)(const cw_ctx *, cw_walk *, uint64_t, int, int, int);
typedef uint64_t (*floor_fn)(const cw_ctx *, uint64_t);

/*
 * Serialized: the next address depends on this walk's result (va ^ (pa & zero), zero being 0 at run time but
 * unknown to the compiler), so walks cannot overlap: latency. Independent: addresses straight from the array:
 * throughput. The cursor goes on where the previous batch stopped, so a sweep covers the whole region.
 */
#define BATCHES(NAME, CALL)                                                                                          \
    static uint64_t NAME##_serial(const cw_ctx *c, cw_walk *w, const uint64_t *vas, uint32_t mask, uint32_t *cursor, \
                                  int32_t n, uint64_t zero, int kind, int cpl, int ac)                               \
    {                                                                                                                \
        uint64_t pa = 0, sum = 0;                                                                                    \
        uint32_t i = *cursor;                                                                                        \
        (void)w; (void)kind; (void)cpl; (void)ac;                                                                    \
        for (int32_t k = 0; k < n; k++) {                                                                            \
            uint64_t va = vas[i] ^ (pa & zero);                                                                      \
            CALL;                                                                                                    \
            sum += pa;                                                                                               \
            i = (i + 1) & mask;                                                                                      \
        }                                                                                                            \
        *cursor = i;                                                                                                 \
        return sum;                                                                                                  \
    }                                                                                                                \
    static uint64_t NAME##_independent(const cw_ctx *c, cw_walk *w, const uint64_t *vas, uint32_t mask,              \
                                       uint32_t *cursor, int32_t n, uint64_t zero, int kind, int cpl, int ac)        \
    {                                                                                                                \
        (void)zero; (void)w; (void)kind; (void)cpl; (void)ac;                                                        \
        uint64_t pa, sum = 0;                                                                                        \
        uint32_t i = *cursor;                                                                                        \
        for (int32_t k = 0; k < n; k++) {                                                                            \
            uint64_t va = vas[i];                                                                                    \
            CALL;                                                                                                    \
            sum += pa;                                                                                               \
            i = (i + 1) & mask;                                                                                      \
        }                                                                                                            \
        *cursor = i;                                                                                                 \
        return sum;                                                                                                  \
    }

#define WALKER_CALL(FN) FN(c, w, va, kind, cpl, ac); pa = w->pa
#define FLOOR_CALL(FN) pa = FN(c, va)

BATCHES(b_legacy32, WALKER_CALL(cw_legacy32_unrolled))
BATCHES(b_pae, WALKER_CALL(cw_pae_unrolled))
BATCHES(b_long4, WALKER_CALL(cw_long4_unrolled))
BATCHES(b_long5, WALKER_CALL(cw_long5_unrolled))
BATCHES(b_loop, WALKER_CALL(cw_loop))
BATCHES(b_ept4, WALKER_CALL(cw_ept4_unrolled))
BATCHES(b_ept5, WALKER_CALL(cw_ept5_unrolled))
BATCHES(b_ept_loop, WALKER_CALL(cw_ept_loop))
BATCHES(f_legacy32_4k, FLOOR_CALL(cw_floor_legacy32_4k))
BATCHES(f_legacy32_4m, FLOOR_CALL(cw_floor_legacy32_4m))
BATCHES(f_pae_4k, FLOOR_CALL(cw_floor_pae_4k))
BATCHES(f_pae_2m, FLOOR_CALL(cw_floor_pae_2m))
BATCHES(f_long4_4k, FLOOR_CALL(cw_floor_long4_4k))
BATCHES(f_long4_2m, FLOOR_CALL(cw_floor_long4_2m))
BATCHES(f_long4_1g, FLOOR_CALL(cw_floor_long4_1g))
BATCHES(f_long5_4k, FLOOR_CALL(cw_floor_long5_4k))
BATCHES(f_long5_2m, FLOOR_CALL(cw_floor_long5_2m))
BATCHES(f_long5_1g, FLOOR_CALL(cw_floor_long5_1g))

typedef uint64_t (*batch_fn)(const cw_ctx *, cw_walk *, const uint64_t *, uint32_t, uint32_t *, int32_t, uint64_t, int,
                             int, int);

static batch_fn batch_for(int impl, int serial)
{
#define PICK(NAME) return serial ? NAME##_serial : NAME##_independent
    switch (impl) {
    case CW_LEGACY32_UNROLLED: PICK(b_legacy32);
    case CW_PAE_UNROLLED: PICK(b_pae);
    case CW_LONG4_UNROLLED: PICK(b_long4);
    case CW_LONG5_UNROLLED: PICK(b_long5);
    case CW_LOOP: PICK(b_loop);
    case CW_EPT4_UNROLLED: PICK(b_ept4);
    case CW_EPT5_UNROLLED: PICK(b_ept5);
    case CW_EPT_LOOP: PICK(b_ept_loop);
    case CW_FLOOR_LEGACY32_4K: PICK(f_legacy32_4k);
    case CW_FLOOR_LEGACY32_4M: PICK(f_legacy32_4m);
    case CW_FLOOR_PAE_4K: PICK(f_pae_4k);
    case CW_FLOOR_PAE_2M: PICK(f_pae_2m);
    case CW_FLOOR_LONG4_4K: PICK(f_long4_4k);
    case CW_FLOOR_LONG4_2M: PICK(f_long4_2m);
    case CW_FLOOR_LONG4_1G: PICK(f_long4_1g);
    case CW_FLOOR_LONG5_4K: PICK(f_long5_4k);
    case CW_FLOOR_LONG5_2M: PICK(f_long5_2m);
    case CW_FLOOR_LONG5_1G: PICK(f_long5_1g);
    default: return 0;
    }
#undef PICK
}

/* Runs n walks of implementation impl; returns the sum of the physical addresses (UINT64_MAX for a bad impl). */
uint64_t cw_run(int32_t impl, int32_t serial, const cw_ctx *c, cw_walk *w, const uint64_t *vas, uint32_t mask,
                uint32_t *cursor, int32_t n, uint64_t zero, int32_t kind, int32_t cpl, int32_t ac)
{
    batch_fn fn = batch_for(impl, serial);
    if (!fn)
        return UINT64_MAX;
    return fn(c, w, vas, mask, cursor, n, zero, kind, cpl, ac);
}

/* One walk, for checking that every implementation gives the same result. Floors fill only pa. */
int32_t cw_walk_one(int32_t impl, const cw_ctx *c, cw_walk *w, uint64_t va, int32_t kind, int32_t cpl, int32_t ac)
{
    switch (impl) {
    case CW_LEGACY32_UNROLLED: return cw_legacy32_unrolled(c, w, va, kind, cpl, ac);
    case CW_PAE_UNROLLED: return cw_pae_unrolled(c, w, va, kind, cpl, ac);
    case CW_LONG4_UNROLLED: return cw_long4_unrolled(c, w, va, kind, cpl, ac);
    case CW_LONG5_UNROLLED: return cw_long5_unrolled(c, w, va, kind, cpl, ac);
    case CW_LOOP: return cw_loop(c, w, va, kind, cpl, ac);
    case CW_EPT4_UNROLLED: return cw_ept4_unrolled(c, w, va, kind, cpl, ac);
    case CW_EPT5_UNROLLED: return cw_ept5_unrolled(c, w, va, kind, cpl, ac);
    case CW_EPT_LOOP: return cw_ept_loop(c, w, va, kind, cpl, ac);
    default: {
        uint32_t cursor = 0;
        uint64_t one = va;
        batch_fn fn = batch_for(impl, 1);
        if (!fn)
            return -1;
        w->pa = fn(c, w, &one, 0, &cursor, 1, 0, kind, cpl, ac);
        return 1;
    }
    }
}

/* Layout check: the managed side compares these with its own struct sizes and offsets. */
int64_t cw_layout(int32_t what)
{
    switch (what) {
    case 0: return (int64_t)sizeof(cw_ctx);
    case 1: return (int64_t)sizeof(cw_walk);
    case 2: return (int64_t)__builtin_offsetof(cw_walk, pa);
    case 3: return (int64_t)__builtin_offsetof(cw_ctx, lv);
    case 4: return (int64_t)__builtin_offsetof(cw_walk, update_count);
    case 5: return (int64_t)sizeof(cw_level);
    case 6: return (int64_t)__builtin_offsetof(cw_ctx, ept_present);
    case 7: return (int64_t)__builtin_offsetof(cw_walk, memory_type);
    case 8: return (int64_t)__builtin_offsetof(cw_walk, pt_access);
    default: return -1;
    }
}
