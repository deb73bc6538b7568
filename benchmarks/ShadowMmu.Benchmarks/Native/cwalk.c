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

/* ShadowMmu.GuestWalk, field for field. */
typedef struct cw_walk {
    uint64_t va;
    int32_t level;
    int32_t max_level;
    uint64_t table_gfn[5];
    uint64_t pte_gpa[5];
    uint64_t ptes[5];
    uint8_t pt_access[5];
    uint32_t pte_access;
    uint64_t pa;
    uint64_t page_size;
    int32_t pkey;
    uint8_t fault;
    uint32_t error_code;
    uint8_t outside;
    int32_t update_count;
    cw_update updates[8];
    uint8_t memory_type;    /* EPT: the leaf's memory type */
    uint8_t ignore_pat;     /* EPT: the leaf's ignore-PAT bit */
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

/* ---- the walk record: GuestWalk's Begin/Restart/Record/PageFault/Translated ---- */

static inline void restart(cw_walk *w, int max_level)
{
    w->level = max_level;
    w->max_level = max_level;
    w->pte_access = 0;
    w->pa = 0;
    w->page_size = 0;
    w->pkey = 0;
    w->fault = FAULT_NONE;
    w->error_code = 0;
    w->outside = 0;
}

static inline void begin(cw_walk *w, uint64_t va)
{
    w->va = va;
    w->update_count = 0;
    restart(w, 0);
}

#define RECORD(L, table, gpa, pte, acc)                                                                              \
    do {                                                                                                             \
        w->level = (L);                                                                                              \
        w->table_gfn[(L) - 1] = (table) >> 12;                                                                       \
        w->pte_gpa[(L) - 1] = (gpa);                                                                                 \
        w->ptes[(L) - 1] = (pte);                                                                                    \
        w->pt_access[(L) - 1] = (uint8_t)(acc);                                                                      \
    } while (0)

static int page_fault(cw_walk *w, int level, uint32_t ec)
{
    w->level = level;
    w->fault = FAULT_PF;
    w->error_code = ec;
    return 0;
}

static int outside(cw_walk *w, int level, uint64_t table, uint64_t gpa, uint32_t ec)
{
    w->table_gfn[level - 1] = table >> 12;
    w->pte_gpa[level - 1] = gpa;
    w->ptes[level - 1] = 0;
    w->outside = 1;
    return page_fault(w, level, ec);
}

static int general_protection(cw_walk *w)
{
    w->fault = FAULT_GP;
    w->error_code = 0;
    return 0;
}

static inline int translated(cw_walk *w, int level, uint64_t pa, uint64_t size, uint32_t access, int key)
{
    w->level = level;
    w->pa = pa;
    w->page_size = size;
    w->pte_access = access;
    w->pkey = key;
    return 1;
}

/* GuestWalk.TrySetFlagsSlow: the locked compare-exchange of an entry that lacks A (or D); 0 when it changed. */
static int set_flags_slow(const cw_ctx *c, cw_walk *w, int level, uint64_t old, uint64_t flags, int bytes)
{
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

#define SET_FLAGS(L, pte, flags, bytes)                                                                              \
    (LIKELY(((pte) & (flags)) == (flags)) || set_flags_slow(c, w, (L), (pte), (flags), (bytes)))

/* The request's byte in the permission bitmap and its error-code bits, as the generated prologue computes them. */
#define REQUEST()                                                                                                    \
    int write = kind == KIND_WRITE, fetch = kind == KIND_FETCH, user = cpl == 3;                                    \
    uint32_t request = (uint32_t)c->perm_row | (write ? 1u : 0u) | (user ? 2u : 0u) | (ac && !user ? 4u : 0u) |       \
                       (fetch ? 8u : 0u);                                                                            \
    uint32_t fault_bits = (write ? EC_W : 0u) | (user ? EC_U : 0u) | (fetch ? (uint32_t)c->fetch_ec : 0u)

#define RIGHTS(pte) ((((uint32_t)(pte) & 6u) | 1u) & ~(uint32_t)(((pte) & c->xd) >> 63))
#define ADDR_51_12 0x000FFFFFFFFFF000ull
#define ADDR_51_21 0x000FFFFFFFE00000ull
#define ADDR_51_30 0x000FFFFFC0000000ull

/* One 8-byte table level of the unrolled walkers: read, record, rights, present, then page or table. */
#define LEVEL8(L, SHIFT, PAGE_LABEL, PAGE_SIZE, PAGE_MASK)                                                           \
    gpa = table + ((va >> (SHIFT)) & 0xFF8u);                                                                        \
    if (UNLIKELY(!read64(c, gpa, &pte)))                                                                             \
        return outside(w, (L), table, gpa, fault_bits);                                                              \
    RECORD((L), table, gpa, pte, access);                                                                            \
    access &= RIGHTS(pte);                                                                                           \
    if (UNLIKELY((pte & 1) == 0))                                                                                    \
        return page_fault(w, (L), fault_bits);                                                                       \
    if (PAGE_SIZE && (pte & 0x80u)) {                                                                                \
        if (UNLIKELY(pte & c->rsvd_page[(L) - 1]))                                                                   \
            return page_fault(w, (L), fault_bits | EC_P | EC_RSVD);                                                  \
        level = (L);                                                                                                 \
        page_size = PAGE_SIZE;                                                                                       \
        frame = pte & (PAGE_MASK);                                                                                   \
        goto PAGE_LABEL;                                                                                             \
    }                                                                                                                \
    if (UNLIKELY(pte & c->rsvd[(L) - 1]))                                                                            \
        return page_fault(w, (L), fault_bits | EC_P | EC_RSVD);                                                      \
    table = pte & ADDR_51_12;

/* Rights, protection keys, A/D, translation: the generated Leaf block. */
#define AD(L)                                                                                                        \
    if (level <= (L) && UNLIKELY(!SET_FLAGS((L), ptes[(L) - 1], (level == (L) && write) ? 0x60u : 0x20u, 8)))          \
        goto retry;

#define LEAF_64(PKEYS, AD_ALL)                                                                                       \
    {                                                                                                                \
        uint32_t fault = ((uint32_t)c->permissions[request] >> access) & 1u;                                         \
        int key = 0;                                                                                                 \
        uint32_t pk_fault = 0;                                                                                       \
        if (PKEYS) {                                                                                                 \
            key = c->pkru_mask != 0 ? (int)((pte >> 59) & 0xF) : 0;                                                  \
            int pk_off = (write ? 2 : 0) | (user ? 4 : 0) | (fetch ? 16 : 0) | ((access & 4u) ? 8 : 0);             \
            uint32_t pk_bits = ((uint32_t)c->pkru >> (key * 2)) & 3u & ((uint32_t)c->pkru_mask >> pk_off);         \
            pk_fault = pk_bits ? EC_PK : 0u;                                                                         \
        }                                                                                                            \
        if (UNLIKELY(fault | pk_fault))                                                                              \
            return page_fault(w, level, fault_bits | EC_P | pk_fault);                                               \
        AD_ALL                                                                                                       \
        return translated(w, level, frame | (va & (page_size - 1)), page_size, access, key);                        \
    }

/* ---- unrolled walkers, one per mode ---- */

NOIPA int cw_long4_unrolled(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    begin(w, va);
    if (UNLIKELY(((int64_t)(va << 16) >> 16) != (int64_t)va))
        return general_protection(w);
    REQUEST();
    uint64_t table, gpa, pte, frame, page_size, ptes[5];
    uint32_t access;
    int level;
retry:
    restart(w, 4);
    access = 7;
    table = c->root;
    LEVEL8(4, 36, leaf, 0, 0)
    ptes[3] = pte;
    LEVEL8(3, 27, leaf, 0x40000000ull, ADDR_51_30)
    ptes[2] = pte;
    LEVEL8(2, 18, leaf2, 0x200000ull, ADDR_51_21)
    ptes[1] = pte;
    LEVEL8(1, 9, leaf1, 0, 0)
    level = 1;
    page_size = 0x1000;
    frame = pte & ADDR_51_12;
leaf1:
    ptes[0] = pte;
    goto leaf_all;
leaf2:
    ptes[1] = pte;
    goto leaf_all;
leaf:
    ptes[2] = pte;
leaf_all:
    LEAF_64(1, AD(4) AD(3) AD(2) AD(1))
}

NOIPA int cw_long5_unrolled(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    begin(w, va);
    if (UNLIKELY(((int64_t)(va << 7) >> 7) != (int64_t)va))
        return general_protection(w);
    REQUEST();
    uint64_t table, gpa, pte, frame, page_size, ptes[5];
    uint32_t access;
    int level;
retry:
    restart(w, 5);
    access = 7;
    table = c->root;
    LEVEL8(5, 45, leaf, 0, 0)
    ptes[4] = pte;
    LEVEL8(4, 36, leaf, 0, 0)
    ptes[3] = pte;
    LEVEL8(3, 27, leaf, 0x40000000ull, ADDR_51_30)
    ptes[2] = pte;
    LEVEL8(2, 18, leaf2, 0x200000ull, ADDR_51_21)
    ptes[1] = pte;
    LEVEL8(1, 9, leaf1, 0, 0)
    level = 1;
    page_size = 0x1000;
    frame = pte & ADDR_51_12;
leaf1:
    ptes[0] = pte;
    goto leaf_all;
leaf2:
    ptes[1] = pte;
    goto leaf_all;
leaf:
    ptes[2] = pte;
leaf_all:
    LEAF_64(1, AD(5) AD(4) AD(3) AD(2) AD(1))
}

NOIPA int cw_pae_unrolled(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    va &= 0xFFFFFFFFu;
    begin(w, va);
    if (UNLIKELY(c->register_fault))
        return general_protection(w);
    REQUEST();
    uint64_t table, gpa, pte, frame, page_size, ptes[5];
    uint32_t access;
    int level;
retry:
    restart(w, 2);
    access = 7;
    table = c->root;
    /* Level 3: the PDPTE register; it carries no rights and no accessed flag. */
    gpa = table + (((va >> 30) & 3) << 3);
    pte = c->pdpte[(va >> 30) & 3];
    RECORD(3, table, gpa, pte, access);
    if (UNLIKELY((pte & 1) == 0))
        return page_fault(w, 3, fault_bits);
    table = pte & ADDR_51_12;
    LEVEL8(2, 18, leaf2, 0x200000ull, ADDR_51_21)
    ptes[1] = pte;
    LEVEL8(1, 9, leaf1, 0, 0)
    level = 1;
    page_size = 0x1000;
    frame = pte & ADDR_51_12;
leaf1:
    ptes[0] = pte;
    goto leaf_all;
leaf2:
    ptes[1] = pte;
leaf_all:
    LEAF_64(0, AD(2) AD(1))
}

NOIPA int cw_legacy32_unrolled(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    va &= 0xFFFFFFFFu;
    begin(w, va);
    REQUEST();
    uint64_t table, gpa, pte, frame, page_size, ptes[5];
    uint32_t access;
    int level;
retry:
    restart(w, 2);
    access = 7;
    table = c->root;
    /* Level 2: the PDE. */
    gpa = table + ((va >> 20) & 0xFFCu);
    if (UNLIKELY(!read32(c, gpa, &pte)))
        return outside(w, 2, table, gpa, fault_bits);
    RECORD(2, table, gpa, pte, access);
    access &= ((uint32_t)pte & 6u) | 1u;
    if (UNLIKELY((pte & 1) == 0))
        return page_fault(w, 2, fault_bits);
    ptes[1] = pte;
    if ((pte & 0x80u) && c->pde_maps_pages) {
        if (UNLIKELY(pte & c->rsvd_page[1]))
            return page_fault(w, 2, fault_bits | EC_P | EC_RSVD);
        level = 2;
        page_size = 0x400000;
        frame = (pte & 0xFFC00000u) | ((pte & 0x1FE000u) << 19);
        goto leaf;
    }
    if (UNLIKELY(pte & c->rsvd[1]))
        return page_fault(w, 2, fault_bits | EC_P | EC_RSVD);
    table = pte & 0xFFFFF000u;
    /* Level 1: the PTE. */
    gpa = table + ((va >> 10) & 0xFFCu);
    if (UNLIKELY(!read32(c, gpa, &pte)))
        return outside(w, 1, table, gpa, fault_bits);
    RECORD(1, table, gpa, pte, access);
    access &= ((uint32_t)pte & 6u) | 1u;
    if (UNLIKELY((pte & 1) == 0))
        return page_fault(w, 1, fault_bits);
    if (UNLIKELY(pte & c->rsvd[0]))
        return page_fault(w, 1, fault_bits | EC_P | EC_RSVD);
    ptes[0] = pte;
    level = 1;
    page_size = 0x1000;
    frame = pte & 0xFFFFF000u;
leaf: {
        uint32_t fault = ((uint32_t)c->permissions[request] >> access) & 1u;
        if (UNLIKELY(fault))
            return page_fault(w, level, fault_bits | EC_P);
        if (UNLIKELY(!SET_FLAGS(2, ptes[1], (level == 2 && write) ? 0x60u : 0x20u, 4)))
            goto retry;
        if (level == 1 && UNLIKELY(!SET_FLAGS(1, ptes[0], write ? 0x60u : 0x20u, 4)))
            goto retry;
        return translated(w, level, frame | (va & (page_size - 1)), page_size, access, 0);
    }
}

/* ---- EPT walkers: guest-physical to host-physical (the generated Ept4Walker/Ept5Walker's WalkAddr) ----
 *
 * Present when any of R W X (or user-execute under MBEC) is set; then KVM's is_bad_mt_xwr (a bitmap lookup on the
 * memory type and XWR) and the level's reserved bits, both misconfigurations; rights accumulate in KVM's ACC order
 * (X = 1, W = 2, R = 4 in the place of U, user-execute = 8); at the leaf the permission check (a violation whose
 * qualification carries the access, bits 7-9 of the request and the rights), then A/D with a locked compare-exchange
 * when missing, and the leaf's memory type and ignore-PAT bit. WalkAddr's cpl 3 is a user-mode linear address. */

static int ept_violation(cw_walk *w, int level, uint32_t qualification)
{
    page_fault(w, level, qualification);
    w->fault = FAULT_EPT_VIOLATION;
    return 0;
}

static int ept_outside(cw_walk *w, int level, uint64_t table, uint64_t gpa, uint32_t rights, uint32_t qualification)
{
    outside(w, level, table, gpa, qualification);
    w->pt_access[level - 1] = (uint8_t)rights;
    w->fault = FAULT_EPT_VIOLATION;
    return 0;
}

static int ept_misconfig(cw_walk *w, int level)
{
    page_fault(w, level, 0);
    w->fault = FAULT_EPT_MISCONFIG;
    return 0;
}

static inline int translated_ept(cw_walk *w, int level, uint64_t pa, uint64_t size, uint32_t rights, uint64_t leaf)
{
    w->memory_type = (uint8_t)((leaf >> 3) & 7);
    w->ignore_pat = (uint8_t)((leaf >> 6) & 1);
    return translated(w, level, pa, size, rights, 0);
}

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

/* One level of the unrolled EPT walkers. */
#define EPT_LEVEL(L, SHIFT, PAGE_LABEL, PAGE_SIZE, PAGE_MASK)                                                        \
    gpa = table + ((va >> (SHIFT)) & 0xFF8u);                                                                        \
    if (UNLIKELY(!read64(c, gpa, &pte)))                                                                             \
        return ept_outside(w, (L), table, gpa, rights, qualification);                                               \
    RECORD((L), table, gpa, pte, rights);                                                                            \
    rights &= EPT_RIGHTS(pte);                                                                                       \
    if (UNLIKELY((pte & present) == 0))                                                                              \
        return ept_violation(w, (L), qualification);                                                                 \
    if (UNLIKELY(EPT_BAD_MT_XWR(pte)))                                                                               \
        return ept_misconfig(w, (L));                                                                                \
    if (PAGE_SIZE && (pte & 0x80u)) {                                                                                \
        if (UNLIKELY(pte & c->rsvd_page[(L) - 1]))                                                                   \
            return ept_misconfig(w, (L));                                                                            \
        level = (L);                                                                                                 \
        page_size = PAGE_SIZE;                                                                                       \
        frame = pte & (PAGE_MASK);                                                                                   \
        goto PAGE_LABEL;                                                                                             \
    }                                                                                                                \
    if (UNLIKELY(pte & c->rsvd[(L) - 1]))                                                                            \
        return ept_misconfig(w, (L));                                                                                \
    table = pte & ADDR_51_12;

#define EPT_AD(L)                                                                                                    \
    if (level <= (L) && UNLIKELY(!SET_FLAGS((L), ptes[(L) - 1], level == (L) ? leaf_flags : 0x100u, 8)))            \
        goto retry;

#define EPT_LEAF(AD_ALL)                                                                                             \
    {                                                                                                                \
        if (UNLIKELY(((uint32_t)c->ept_perm[request] >> rights) & 1u))                                               \
            return ept_violation(w, level, qualification | ept_rights_qualification(rights));                       \
        if (c->ept_ad) {                                                                                             \
            uint64_t leaf_flags = write ? 0x300u : 0x100u;                                                           \
            AD_ALL                                                                                                   \
        }                                                                                                            \
        return translated_ept(w, level, frame | (va & (page_size - 1)), page_size, rights, pte);                    \
    }

NOIPA int cw_ept4_unrolled(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    va &= 0xFFFFFFFFFFFFull;
    begin(w, va);
    EPT_REQUEST();
    uint64_t table, gpa, pte, frame, page_size, ptes[5];
    uint32_t rights;
    int level;
retry:
    restart(w, 4);
    rights = 15;
    table = c->root;
    EPT_LEVEL(4, 36, leaf, 0, 0)
    ptes[3] = pte;
    EPT_LEVEL(3, 27, leaf, 0x40000000ull, ADDR_51_30)
    ptes[2] = pte;
    EPT_LEVEL(2, 18, leaf2, 0x200000ull, ADDR_51_21)
    ptes[1] = pte;
    EPT_LEVEL(1, 9, leaf1, 0, 0)
    level = 1;
    page_size = 0x1000;
    frame = pte & ADDR_51_12;
leaf1:
    ptes[0] = pte;
    goto leaf_all;
leaf2:
    ptes[1] = pte;
    goto leaf_all;
leaf:
    ptes[2] = pte;
leaf_all:
    EPT_LEAF(EPT_AD(4) EPT_AD(3) EPT_AD(2) EPT_AD(1))
}

NOIPA int cw_ept5_unrolled(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    va &= 0x1FFFFFFFFFFFFFFull;
    begin(w, va);
    EPT_REQUEST();
    uint64_t table, gpa, pte, frame, page_size, ptes[5];
    uint32_t rights;
    int level;
retry:
    restart(w, 5);
    rights = 15;
    table = c->root;
    EPT_LEVEL(5, 45, leaf, 0, 0)
    ptes[4] = pte;
    EPT_LEVEL(4, 36, leaf, 0, 0)
    ptes[3] = pte;
    EPT_LEVEL(3, 27, leaf, 0x40000000ull, ADDR_51_30)
    ptes[2] = pte;
    EPT_LEVEL(2, 18, leaf2, 0x200000ull, ADDR_51_21)
    ptes[1] = pte;
    EPT_LEVEL(1, 9, leaf1, 0, 0)
    level = 1;
    page_size = 0x1000;
    frame = pte & ADDR_51_12;
leaf1:
    ptes[0] = pte;
    goto leaf_all;
leaf2:
    ptes[1] = pte;
    goto leaf_all;
leaf:
    ptes[2] = pte;
leaf_all:
    EPT_LEAF(EPT_AD(5) EPT_AD(4) EPT_AD(3) EPT_AD(2) EPT_AD(1))
}

/* The looped EPT walker: either level count, from the level table (walk_addr_generic with PTTYPE_EPT). */
NOIPA int cw_ept_loop(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    va &= c->ept_gpa_mask;
    begin(w, va);
    EPT_REQUEST();
    uint64_t table, gpa, pte = 0;
    uint32_t rights;
    int level;
    const cw_level *lv;
retry:
    restart(w, (int)c->root_level);
    rights = 15;
    table = c->root;
    for (level = (int)c->root_level;; level--) {
        lv = &c->lv[level - 1];
        gpa = table + ((va >> lv->index_shift) & lv->index_mask) * 8u;
        if (UNLIKELY(!read64(c, gpa, &pte)))
            return ept_outside(w, level, table, gpa, rights, qualification);
        RECORD(level, table, gpa, pte, rights);
        rights &= EPT_RIGHTS(pte);
        if (UNLIKELY((pte & present) == 0))
            return ept_violation(w, level, qualification);
        if (UNLIKELY(EPT_BAD_MT_XWR(pte)))
            return ept_misconfig(w, level);
        int is_page = level == 1 || (lv->maps_pages && (pte & 0x80u));
        if (UNLIKELY(pte & (is_page ? lv->rsvd_page : lv->rsvd)))
            return ept_misconfig(w, level);
        if (is_page)
            break;
        table = pte & lv->table_mask;
    }
    uint64_t frame = pte & lv->frame_mask, page_size = lv->page_size;
    if (UNLIKELY(((uint32_t)c->ept_perm[request] >> rights) & 1u))
        return ept_violation(w, level, qualification | ept_rights_qualification(rights));
    if (c->ept_ad) {
        for (int l = w->max_level; l >= level; l--) {
            uint64_t flags = (l == level && write) ? 0x300u : 0x100u;
            if (UNLIKELY(!SET_FLAGS(l, w->ptes[l - 1], flags, 8)))
                goto retry;
        }
    }
    return translated_ept(w, level, frame | (va & (page_size - 1)), page_size, rights, pte);
}

/* ---- the looped walker: any mode, from the level table (KVM's walk_addr_generic) ---- */

NOIPA int cw_loop(const cw_ctx *c, cw_walk *w, uint64_t va, int kind, int cpl, int ac)
{
    int bytes = (int)c->entry_bytes;
    if (!c->canonical && c->linear_bits < 64)
        va &= (1ull << c->linear_bits) - 1;
    begin(w, va);
    if (UNLIKELY(c->register_fault))
        return general_protection(w);
    if (c->canonical) {
        int sh = 64 - (int)c->linear_bits;
        if (UNLIKELY(((int64_t)(va << sh) >> sh) != (int64_t)va))
            return general_protection(w);
    }
    REQUEST();
    uint64_t table, gpa, pte = 0;
    uint32_t access;
    int level;
    const cw_level *lv;
retry:
    restart(w, (int)c->root_level - (c->lv[c->root_level - 1].is_register ? 1 : 0));
    access = 7;
    table = c->root;
    for (level = (int)c->root_level;; level--) {
        lv = &c->lv[level - 1];
        uint64_t index = (va >> lv->index_shift) & lv->index_mask;
        gpa = table + index * (uint64_t)bytes;
        if (lv->is_register) {
            pte = c->pdpte[index];
            RECORD(level, table, gpa, pte, access);
            if (UNLIKELY((pte & 1) == 0))
                return page_fault(w, level, fault_bits);
            table = pte & lv->table_mask;
            continue;
        }
        int ok = bytes == 4 ? read32(c, gpa, &pte) : read64(c, gpa, &pte);
        if (UNLIKELY(!ok))
            return outside(w, level, table, gpa, fault_bits);
        RECORD(level, table, gpa, pte, access);
        access &= RIGHTS(pte);
        if (UNLIKELY((pte & 1) == 0))
            return page_fault(w, level, fault_bits);
        int is_page = level == 1 || (lv->maps_pages && (pte & 0x80u));
        if (UNLIKELY(pte & (is_page ? lv->rsvd_page : lv->rsvd)))
            return page_fault(w, level, fault_bits | EC_P | EC_RSVD);
        if (is_page)
            break;
        table = pte & lv->table_mask;
    }
    uint64_t frame = (pte & lv->frame_mask) | ((pte & lv->high_mask) << lv->high_shift);
    uint64_t page_size = lv->page_size;
    uint32_t fault = ((uint32_t)c->permissions[request] >> access) & 1u;
    int key = 0;
    uint32_t pk_fault = 0;
    if (c->has_pkeys) {
        key = c->pkru_mask != 0 ? (int)((pte >> 59) & 0xF) : 0;
        int pk_off = (write ? 2 : 0) | (user ? 4 : 0) | (fetch ? 16 : 0) | ((access & 4u) ? 8 : 0);
        uint32_t pk_bits = ((uint32_t)c->pkru >> (key * 2)) & 3u & ((uint32_t)c->pkru_mask >> pk_off);
        pk_fault = pk_bits ? EC_PK : 0u;
    }
    if (UNLIKELY(fault | pk_fault))
        return page_fault(w, level, fault_bits | EC_P | pk_fault);
    for (int l = w->max_level; l >= level; l--) {
        uint64_t flags = (l == level && write) ? 0x60u : 0x20u;
        if (UNLIKELY(!SET_FLAGS(l, w->ptes[l - 1], flags, bytes)))
            goto retry;
    }
    return translated(w, level, frame | (va & (page_size - 1)), page_size, access, key);
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
    default: return -1;
    }
}
