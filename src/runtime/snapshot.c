/* snapshot.c: the runtime side of proto-faaslet snapshots and fibers (see
 * snapshot.h): mapping a memory image copy-on-write over a linear memory or
 * copying its pages in, pools of memory slots, instance clones that skip
 * instantiation, thread-independent execution contexts and the current-exec
 * switch. */
#define _GNU_SOURCE
#include "runtime/snapshot.h"
#include "runtime/runtime_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* As memory.c's guarded reservation: base + u32 address + u32 offset never
 * leaves it. */
#define GUARDED_SLOT ((8ull << 30) + (64ull << 10))
#define SNAPSHOT_PAGE 4096u
#define RUNTIME_POOL_WARM 256u /* free slots that keep their pages */
#ifdef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE_COMPAT MADV_POPULATE_WRITE
#else
#define MADV_POPULATE_WRITE_COMPAT 23 /* Linux 5.14; older kernels say EINVAL, harmlessly */
#endif

int runtime_memory_map_cow(struct runtime_memory *memory, int fd, uint64_t bytes,
                           struct fl_error *err)
{
    if (bytes % WASM_PAGE_SIZE || bytes > memory->reserved ||
        bytes / WASM_PAGE_SIZE > memory->max_pages)
        return fl_error_set(err, FL_ERR_ARG, "memory: snapshot of %llu bytes does not fit",
                            (unsigned long long)bytes);
    pthread_mutex_lock(&memory->grow_lock);
    uint64_t old = atomic_load(&memory->size);
    int rc = FL_OK;
    if (bytes && mmap(memory->base, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
                      0) == MAP_FAILED) {
        rc = fl_error_set(err, FL_ERR_NOMEM, "memory: cannot map the snapshot (%s)",
                          strerror(errno));
        goto out;
    }
    /* Pages above the snapshot go back to the untouched reservation state,
     * so a later grow sees zeroes and nothing of the previous call. */
    if (old > bytes &&
        mmap(memory->base + bytes, old - bytes, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED) {
        rc = fl_error_set(err, FL_ERR_NOMEM, "memory: cannot drop pages above the snapshot (%s)",
                          strerror(errno));
        goto out;
    }
    atomic_store(&memory->size, bytes);
out:
    pthread_mutex_unlock(&memory->grow_lock);
    return rc;
}

int runtime_thread_attach(struct fl_error *err)
{
    runtime_signals_install();
    return runtime_altstack_acquire(err);
}

void runtime_thread_detach(void)
{
    runtime_altstack_release();
}

int runtime_exec_init_unbound(struct runtime_exec *exec, struct runtime_store *store,
                              uint32_t stack_cells, struct fl_error *err)
{
    /* As runtime_exec_init, without the thread's signal stack and native
     * stack bounds: pthread_getattr_np reads /proc/self/maps on the main
     * thread, which costs milliseconds once there are many mappings. */
    memset(exec, 0, sizeof *exec);
    exec->store = store;
    exec->max_depth = 10000;
    if (stack_cells == 0)
        stack_cells = 1u << 20;
    exec->stack = calloc(stack_cells, sizeof *exec->stack);
    if (!exec->stack)
        return fl_error_set(err, FL_ERR_NOMEM, "exec: cannot allocate a value stack of %u cells",
                            stack_cells);
    exec->stack_end = exec->stack + stack_cells;
    runtime_signals_install();
    return FL_OK;
}

void runtime_exec_fini_unbound(struct runtime_exec *exec)
{
    free(exec->stack);
    exec->stack = exec->stack_end = NULL;
}

struct runtime_exec *runtime_exec_swap_current(struct runtime_exec *exec)
{
    struct runtime_exec *old = runtime_current_exec();
    runtime_set_current_exec(exec);
    return old;
}

static bool page_is_zero(const uint8_t *p)
{
    uint64_t acc = 0;
    for (size_t k = 0; k < SNAPSHOT_PAGE; k += sizeof(uint64_t)) {
        uint64_t v;
        memcpy(&v, p + k, sizeof v);
        acc |= v;
    }
    return acc == 0;
}

int runtime_memory_restore_pages(struct runtime_memory *memory, uint64_t bytes,
                                 const uint64_t *offsets, const uint8_t *pages, uint32_t count,
                                 struct fl_error *err)
{
    if (bytes % WASM_PAGE_SIZE || bytes > memory->reserved ||
        bytes / WASM_PAGE_SIZE > memory->max_pages)
        return fl_error_set(err, FL_ERR_ARG, "memory: snapshot of %llu bytes does not fit",
                            (unsigned long long)bytes);
    pthread_mutex_lock(&memory->grow_lock);
    uint64_t old = atomic_load(&memory->size);
    int rc = FL_OK;
    /* Unmapping or write-protecting pages makes the kernel flush every CPU
     * that runs a thread of this process, which costs far more than the
     * call itself on a busy or virtualised host. So the pages stay mapped:
     * only those the last call touched (resident ones) are put back, by
     * writing, and only if they differ. Pages above the image (memory the
     * call grew) are dropped wholesale. */
    if (old > bytes) {
        if (madvise(memory->base + bytes, old - bytes, MADV_DONTNEED) != 0 ||
            (memory->guarded &&
             mprotect(memory->base + bytes, old - bytes, PROT_NONE) != 0)) {
            rc = fl_error_set(err, FL_ERR_NOMEM, "memory: cannot drop pages (%s)",
                              strerror(errno));
            goto out;
        }
    } else if (old < bytes && memory->guarded &&
               mprotect(memory->base + old, bytes - old, PROT_READ | PROT_WRITE) != 0) {
        rc = fl_error_set(err, FL_ERR_NOMEM, "memory: cannot map %llu bytes (%s)",
                          (unsigned long long)bytes, strerror(errno));
        goto out;
    }
    uint64_t scan = old < bytes ? old : bytes;
    /* Image pages never touched before fault in one by one on first write;
     * populating each run of them in one call is several times cheaper. */
    for (uint32_t a = 0, b; a < count; a = b) {
        for (b = a + 1; b < count && offsets[b] == offsets[b - 1] + SNAPSHOT_PAGE; b++)
            ;
        if (offsets[a] >= scan && offsets[b - 1] + SNAPSHOT_PAGE <= bytes)
            madvise(memory->base + offsets[a], (size_t)(b - a) * SNAPSHOT_PAGE,
                    MADV_POPULATE_WRITE_COMPAT);
    }
    uint32_t k = 0; /* next image page; offsets ascend */
    unsigned char resident[1024];
    for (uint64_t chunk = 0; chunk < bytes; chunk += sizeof resident * SNAPSHOT_PAGE) {
        uint64_t len = bytes - chunk < sizeof resident * SNAPSHOT_PAGE
                           ? bytes - chunk
                           : sizeof resident * SNAPSHOT_PAGE;
        size_t n = len / SNAPSHOT_PAGE;
        if (chunk >= scan)
            memset(resident, 0, n);
        else if (mincore(memory->base + chunk, len, resident) != 0)
            memset(resident, 1, n); /* cannot tell: treat every page as touched */
        for (size_t i = 0; i < n; i++) {
            uint64_t off = chunk + i * SNAPSHOT_PAGE;
            uint8_t *dst = memory->base + off;
            while (k < count && offsets[k] < off)
                k++;
            if (k < count && offsets[k] == off) {
                const uint8_t *src = pages + (size_t)k * SNAPSHOT_PAGE;
                if (!(resident[i] & 1) || memcmp(dst, src, SNAPSHOT_PAGE) != 0)
                    memcpy(dst, src, SNAPSHOT_PAGE);
            } else if ((resident[i] & 1) && !page_is_zero(dst)) {
                memset(dst, 0, SNAPSHOT_PAGE);
            }
        }
    }
    atomic_store(&memory->size, bytes);
out:
    pthread_mutex_unlock(&memory->grow_lock);
    return rc;
}

/* ---- memory pools ---------------------------------------------------------- */

struct pool_chunk {
    struct pool_chunk *next;
    uint8_t *base;
    uint64_t bytes;
    uint32_t used;                     /* slots carved so far */
    struct runtime_memory *mems;       /* one per slot */
};

struct runtime_memory_pool {
    struct runtime_store *store;
    uint64_t max_pages;
    bool shared, has_max, guarded;
    uint64_t slot_bytes;
    uint32_t slots_per_chunk;
    pthread_mutex_t lock;              /* guards everything below */
    struct pool_chunk *chunks;         /* newest first */
    struct runtime_memory **free;      /* given back, ready to take */
    bool *pristine;                    /* per free slot: the giver says it is restored */
    uint32_t free_count, free_cap;
};

struct runtime_memory_pool *runtime_memory_pool_create(struct runtime_store *store,
                                                       const struct wasm_limits *limits,
                                                       bool guarded, struct fl_error *err)
{
    uint64_t max_pages = limits->has_max ? limits->max : WASM_MAX_PAGES;
    if (max_pages > WASM_MAX_PAGES || limits->min > max_pages) {
        fl_error_set(err, FL_ERR_LIMIT, "memory pool: size %llu..%llu pages is beyond 4 GiB",
                     (unsigned long long)limits->min, (unsigned long long)max_pages);
        return NULL;
    }
    struct runtime_memory_pool *p = calloc(1, sizeof *p);
    if (!p) {
        fl_error_set(err, FL_ERR_NOMEM, "memory pool: out of memory");
        return NULL;
    }
    p->store = store;
    p->max_pages = max_pages;
    p->shared = limits->shared;
    p->has_max = limits->has_max;
    p->guarded = guarded;
    if (guarded) {
        p->slot_bytes = GUARDED_SLOT;
        p->slots_per_chunk = 8;
    } else {
        p->slot_bytes = max_pages ? max_pages * WASM_PAGE_SIZE : WASM_PAGE_SIZE;
        /* Chunks of up to 16 GiB: few reservations, few kernel mappings. */
        uint64_t n = (16ull << 30) / p->slot_bytes;
        p->slots_per_chunk = n < 1 ? 1 : n > 8192 ? 8192 : (uint32_t)n;
    }
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

void runtime_memory_pool_destroy(struct runtime_memory_pool *p)
{
    if (!p)
        return;
    while (p->chunks) {
        struct pool_chunk *c = p->chunks;
        p->chunks = c->next;
        for (uint32_t i = 0; i < c->used; i++)
            pthread_mutex_destroy(&c->mems[i].grow_lock);
        munmap(c->base, c->bytes);
        free(c->mems);
        free(c);
    }
    free(p->free);
    free(p->pristine);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* A new chunk of slots (p->lock held). */
static struct pool_chunk *pool_grow(struct runtime_memory_pool *p, struct fl_error *err)
{
    struct pool_chunk *c = calloc(1, sizeof *c);
    struct runtime_memory *mems = calloc(p->slots_per_chunk, sizeof *mems);
    if (!c || !mems) {
        free(c);
        free(mems);
        fl_error_set(err, FL_ERR_NOMEM, "memory pool: out of memory");
        return NULL;
    }
    uint64_t bytes = p->slot_bytes * p->slots_per_chunk;
    /* Bounds-checked slots are read/write from the start: untouched pages
     * cost nothing, and no protection change ever splits the mapping. */
    int prot = p->guarded ? PROT_NONE : PROT_READ | PROT_WRITE;
    void *base = mmap(NULL, bytes, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        free(c);
        free(mems);
        fl_error_set(err, FL_ERR_NOMEM,
                     "memory pool: cannot reserve %llu MiB of address space (%s)",
                     (unsigned long long)(bytes >> 20), strerror(errno));
        return NULL;
    }
    if (!runtime_store_add_reservation(p->store, (uintptr_t)base, (uintptr_t)base + bytes)) {
        munmap(base, bytes);
        free(c);
        free(mems);
        fl_error_set(err, FL_ERR_NOMEM, "memory pool: out of memory");
        return NULL;
    }
    c->base = base;
    c->bytes = bytes;
    c->mems = mems;
    c->next = p->chunks;
    p->chunks = c;
    return c;
}

struct runtime_memory *runtime_memory_pool_take(struct runtime_memory_pool *p, bool *pristine,
                                                struct fl_error *err)
{
    pthread_mutex_lock(&p->lock);
    struct runtime_memory *m = NULL;
    *pristine = false;
    if (p->free_count) {
        m = p->free[--p->free_count];
        *pristine = p->pristine[p->free_count];
        goto out;
    }
    struct pool_chunk *c = p->chunks;
    if (!c || c->used == p->slots_per_chunk)
        c = pool_grow(p, err);
    if (!c)
        goto out;
    m = &c->mems[c->used];
    m->base = c->base + (uint64_t)c->used * p->slot_bytes;
    c->used++;
    atomic_init(&m->size, 0);
    m->max_pages = p->max_pages;
    m->reserved = p->slot_bytes;
    m->shared = p->shared;
    m->has_max = p->has_max;
    m->guarded = p->guarded;
    pthread_mutex_init(&m->grow_lock, NULL);
out:
    pthread_mutex_unlock(&p->lock);
    return m;
}

void runtime_memory_pool_give(struct runtime_memory_pool *p, struct runtime_memory *m,
                              bool pristine)
{
    if (!m)
        return;
    pthread_mutex_lock(&p->lock);
    bool warm = p->free_count < RUNTIME_POOL_WARM;
    pthread_mutex_unlock(&p->lock);
    /* A warm slot keeps its pages: the next restore rewrites the ones that
     * were touched (runtime_memory_restore_pages), and reusing them spares
     * page faults, which are the dearest part of a restore on a VM. Beyond
     * a few, slots go back to untouched reservation, whatever was mapped. */
    if (!warm) {
        int prot = p->guarded ? PROT_NONE : PROT_READ | PROT_WRITE;
        if (mmap(m->base, m->reserved, prot,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) == MAP_FAILED)
            return; /* leak the slot rather than hand out its pages */
        atomic_store(&m->size, 0);
        pristine = false;
    }
    pthread_mutex_lock(&p->lock);
    if (p->free_count == p->free_cap) {
        uint32_t cap = p->free_cap ? p->free_cap * 2 : 64;
        struct runtime_memory **f = realloc(p->free, cap * sizeof *f);
        bool *b = f ? realloc(p->pristine, cap * sizeof *b) : NULL;
        if (f)
            p->free = f;
        if (!b) {
            pthread_mutex_unlock(&p->lock);
            return;
        }
        p->pristine = b;
        p->free_cap = cap;
    }
    p->pristine[p->free_count] = pristine;
    p->free[p->free_count++] = m;
    pthread_mutex_unlock(&p->lock);
}

/* ---- instance clones --------------------------------------------------------- */

static size_t align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

struct runtime_instance *runtime_instance_replica(struct runtime_instance *tmpl,
                                                struct runtime_func *const *import_funcs,
                                                struct runtime_memory *memory,
                                                struct fl_error *err)
{
    const struct wasm_module *m = tmpl->module;
    if (m->import_table_count || m->import_memory_count || m->import_global_count ||
        m->memory_count > 1 || (m->memory_count && !memory)) {
        fl_error_set(err, FL_ERR_ARG, "clone: module imports tables, memories or globals");
        return NULL;
    }
    struct runtime_instance_impl *ti = (struct runtime_instance_impl *)tmpl;
    uint32_t defined = m->func_count - m->import_func_count;
    /* One block for everything but table contents (those move on grow). */
    size_t off_funcs = align16(sizeof(struct runtime_instance_impl));
    size_t off_tables = off_funcs + align16((m->func_count + 1) * sizeof(void *));
    size_t off_mems = off_tables + align16((m->table_count + 1) * sizeof(void *));
    size_t off_globals = off_mems + align16((m->memory_count + 1) * sizeof(void *));
    size_t off_tstructs = off_globals + align16((m->global_count + 1) * sizeof(void *));
    size_t off_gstructs = off_tstructs + align16(m->table_count * sizeof(struct runtime_table));
    size_t off_dfuncs = off_gstructs + align16(m->global_count * sizeof(struct runtime_global));
    size_t off_elem = off_dfuncs + align16(defined * sizeof(struct runtime_func));
    size_t off_data = off_elem + align16(m->elem_count + 1);
    size_t total = off_data + align16(m->data_count + 1);
    uint8_t *block = calloc(1, total);
    if (!block) {
        fl_error_set(err, FL_ERR_NOMEM, "clone: out of memory");
        return NULL;
    }
    struct runtime_instance_impl *impl = (struct runtime_instance_impl *)block;
    struct runtime_instance *in = &impl->pub;
    in->store = tmpl->store;
    in->module = m;
    in->funcs = (struct runtime_func **)(block + off_funcs);
    in->tables = (struct runtime_table **)(block + off_tables);
    in->memories = (struct runtime_memory **)(block + off_mems);
    in->globals = (struct runtime_global **)(block + off_globals);
    in->elem_dropped = block + off_elem;
    in->data_dropped = block + off_data;
    in->tier_module = tmpl->tier_module;
    in->tier_instance = tmpl->tier_instance;
    impl->tier = ti->tier;
    impl->defined_funcs = (struct runtime_func *)(block + off_dfuncs);
    for (uint32_t i = 0; i < m->import_func_count; i++)
        in->funcs[i] = import_funcs[i];
    if (defined)
        memcpy(impl->defined_funcs, ti->defined_funcs, defined * sizeof(struct runtime_func));
    for (uint32_t i = 0; i < defined; i++) {
        impl->defined_funcs[i].instance = in;
        in->funcs[m->import_func_count + i] = &impl->defined_funcs[i];
    }
    struct runtime_table *tables = (struct runtime_table *)(block + off_tstructs);
    for (uint32_t t = 0; t < m->table_count; t++) {
        tables[t] = *tmpl->tables[t];
        tables[t].elems = calloc(tables[t].size ? tables[t].size : 1, sizeof(uintptr_t));
        in->tables[t] = &tables[t];
        if (!tables[t].elems) {
            for (uint32_t k = 0; k < t; k++)
                free(tables[k].elems);
            free(block);
            fl_error_set(err, FL_ERR_NOMEM, "clone: out of memory");
            return NULL;
        }
    }
    struct runtime_global *globals = (struct runtime_global *)(block + off_gstructs);
    for (uint32_t g = 0; g < m->global_count; g++) {
        globals[g].type = m->globals[g].type.type;
        globals[g].is_mutable = m->globals[g].type.is_mutable;
        in->globals[g] = &globals[g];
    }
    if (m->memory_count)
        in->memories[0] = memory;
    memcpy(in->elem_dropped, tmpl->elem_dropped, m->elem_count);
    memcpy(in->data_dropped, tmpl->data_dropped, m->data_count);
    return in;
}

int runtime_instance_replica_tier_init(struct runtime_instance *clone, struct fl_error *err)
{
    struct runtime_instance_impl *impl = (struct runtime_instance_impl *)clone;
    if (impl->tier_initialised || !impl->tier || !impl->tier->instance_init)
        return FL_OK;
    void *shared = clone->tier_instance;
    clone->tier_instance = NULL;
    int rc = impl->tier->instance_init(clone, err);
    if (rc) {
        clone->tier_instance = shared;
        return rc;
    }
    impl->tier_initialised = true;
    return FL_OK;
}

void runtime_instance_replica_free(struct runtime_instance *clone)
{
    if (!clone)
        return;
    struct runtime_instance_impl *impl = (struct runtime_instance_impl *)clone;
    if (impl->tier_initialised && impl->tier->instance_fini)
        impl->tier->instance_fini(clone);
    for (uint32_t t = 0; t < clone->module->table_count; t++)
        free(clone->tables[t]->elems);
    free(clone);
}
