/* memory.c: linear memories. Each one is a fixed reservation of address
 * space (8 GiB + a guard by default, so base + u32 address + u32 offset never
 * leaves it) of which the first `size` bytes are read/write; growing only
 * changes protections, so base never moves. */
#include "runtime/runtime_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define GUARDED_RESERVATION ((8ull << 30) + (64ull << 10))

struct runtime_memory *runtime_memory_create(struct runtime_store *store,
                                             const struct wasm_limits *limits,
                                             struct fl_error *err)
{
    uint64_t max_pages = limits->has_max ? limits->max : WASM_MAX_PAGES;
    if (limits->min > WASM_MAX_PAGES || max_pages > WASM_MAX_PAGES || limits->min > max_pages) {
        fl_error_set(err, FL_ERR_LIMIT, "memory: size %llu..%llu pages is beyond 4 GiB",
                     (unsigned long long)limits->min, (unsigned long long)max_pages);
        return NULL;
    }
    if (limits->shared && !limits->has_max) {
        fl_error_set(err, FL_ERR_INVALID, "memory: shared memory must have a maximum");
        return NULL;
    }
    pthread_mutex_lock(&store->lock);
    bool guarded = store->guard_pages;
    pthread_mutex_unlock(&store->lock);

    struct runtime_memory *m = calloc(1, sizeof *m);
    if (!m) {
        fl_error_set(err, FL_ERR_NOMEM, "memory: out of memory");
        return NULL;
    }
    uint64_t reserved = guarded ? GUARDED_RESERVATION : max_pages * WASM_PAGE_SIZE;
    if (reserved == 0)
        reserved = WASM_PAGE_SIZE; /* mmap refuses empty mappings */
    void *base = mmap(NULL, reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                      0);
    if (base == MAP_FAILED) {
        int e = errno;
        free(m);
        fl_error_set(err, FL_ERR_NOMEM,
                     "memory: cannot reserve %llu MiB of address space (%s); too many live "
                     "memories for guarded mode?",
                     (unsigned long long)(reserved >> 20), strerror(e));
        return NULL;
    }
    uint64_t bytes = limits->min * WASM_PAGE_SIZE;
    if (bytes && mprotect(base, bytes, PROT_READ | PROT_WRITE) != 0) {
        int e = errno;
        munmap(base, reserved);
        free(m);
        fl_error_set(err, FL_ERR_NOMEM, "memory: cannot map %llu pages (%s)",
                     (unsigned long long)limits->min, strerror(e));
        return NULL;
    }
    m->base = base;
    atomic_init(&m->size, bytes);
    m->max_pages = max_pages;
    m->reserved = reserved;
    m->shared = limits->shared;
    m->has_max = limits->has_max;
    m->guarded = guarded;
    pthread_mutex_init(&m->grow_lock, NULL);

    pthread_mutex_lock(&store->lock);
    bool ok = runtime_ptrs_push(&store->memories, m);
    pthread_mutex_unlock(&store->lock);
    if (!ok || !runtime_store_add_reservation(store, (uintptr_t)base, (uintptr_t)base + reserved)) {
        if (!ok) {
            runtime_memory_free(m);
        } /* else the store frees it; it only misses fault recovery, so fail anyway */
        fl_error_set(err, FL_ERR_NOMEM, "memory: out of memory");
        return NULL;
    }
    return m;
}

void runtime_memory_free(struct runtime_memory *memory)
{
    munmap(memory->base, memory->reserved);
    pthread_mutex_destroy(&memory->grow_lock);
    free(memory);
}

int64_t runtime_memory_grow(struct runtime_memory *memory, uint64_t delta_pages)
{
    pthread_mutex_lock(&memory->grow_lock);
    uint64_t old_bytes = atomic_load(&memory->size);
    uint64_t old_pages = old_bytes / WASM_PAGE_SIZE;
    int64_t result = (int64_t)old_pages;
    if (delta_pages == 0)
        goto out;
    if (delta_pages > memory->max_pages || old_pages + delta_pages > memory->max_pages ||
        (old_pages + delta_pages) * WASM_PAGE_SIZE > memory->reserved) {
        result = -1;
        goto out;
    }
    uint64_t add = delta_pages * WASM_PAGE_SIZE;
    if (mprotect(memory->base + old_bytes, add, PROT_READ | PROT_WRITE) != 0) {
        result = -1;
        goto out;
    }
    atomic_store(&memory->size, old_bytes + add);
out:
    pthread_mutex_unlock(&memory->grow_lock);
    return result;
}

void *runtime_memory_ptr(struct runtime_memory *memory, uint64_t addr, uint64_t len)
{
    uint64_t size = atomic_load_explicit(&memory->size, memory_order_acquire);
    if (addr > size || len > size - addr)
        return NULL;
    return memory->base + addr;
}
