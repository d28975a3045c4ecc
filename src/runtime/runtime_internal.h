/* runtime_internal.h: what the runtime's own files share and nobody else
 * sees: the store's layout, its registry of memory reservations (read by the
 * signal handler without locks) and the per-thread current exec. */
#ifndef FL_RUNTIME_RUNTIME_INTERNAL_H
#define FL_RUNTIME_RUNTIME_INTERNAL_H

#include "runtime/runtime.h"

#include <stddef.h>

/* A growable array of pointers the store frees at destroy. */
struct runtime_ptrs {
    void **items;
    size_t count, cap;
};

/* One interned signature; ids are indices into store->types. */
struct runtime_type_entry {
    struct wasm_functype type; /* owned copy */
    uint64_t hash;
};

/* Address ranges of memory reservations, appended under store->lock and read
 * by the signal handler without any lock: a chunk's entries are written
 * before its count is published (release), and chunks are never freed or
 * moved until the store is destroyed. */
#define RUNTIME_RESERVATION_CHUNK 32
struct runtime_reservation_chunk {
    uintptr_t lo[RUNTIME_RESERVATION_CHUNK];
    uintptr_t hi[RUNTIME_RESERVATION_CHUNK];
    _Atomic uint32_t count;
    struct runtime_reservation_chunk *_Atomic next;
};

struct runtime_store {
    pthread_mutex_t lock; /* guards every field below except reservations' readers */
    struct runtime_ptrs funcs;     /* host functions (struct runtime_func *) */
    struct runtime_ptrs memories;  /* struct runtime_memory * */
    struct runtime_ptrs tables;    /* struct runtime_table * */
    struct runtime_ptrs globals;   /* struct runtime_global * */
    struct runtime_ptrs instances; /* struct runtime_instance_impl * */
    struct runtime_type_entry *types;
    uint32_t type_count, type_cap;
    uint32_t *type_slots; /* open-addressing hash: type id + 1, 0 = empty */
    uint32_t type_slot_count;
    bool guard_pages;     /* new memories get guard regions (default true) */
    struct runtime_reservation_chunk *_Atomic reservations;
};

/* An instance plus what the store needs to free it. */
struct runtime_instance_impl {
    struct runtime_instance pub;
    struct runtime_func *defined_funcs; /* one block for all defined functions */
    const struct runtime_tier *tier;
    bool tier_initialised;
};

/* Appends p to a store list; caller holds store->lock. False on OOM. */
bool runtime_ptrs_push(struct runtime_ptrs *list, void *p);

/* Records [lo, hi) as a reservation of store. Takes store->lock. */
bool runtime_store_add_reservation(struct runtime_store *store, uintptr_t lo, uintptr_t hi);

/* True if addr lies in a reservation of store. Async-signal-safe. */
bool runtime_store_owns_address(struct runtime_store *store, uintptr_t addr);

/* Frees a memory's mapping and lock (store destroy only). */
void runtime_memory_free(struct runtime_memory *memory);

/* Frees an instance and what it owns (store destroy only). */
void runtime_instance_free(struct runtime_instance_impl *impl);

/* The exec running wasm on this thread (set by runtime_call), or NULL. */
struct runtime_exec *runtime_current_exec(void);
void runtime_set_current_exec(struct runtime_exec *exec);

/* Installs the process-wide fault handler once. */
void runtime_signals_install(void);

/* Sets up this thread's alternate signal stack (counted per thread). */
int runtime_altstack_acquire(struct fl_error *err);
void runtime_altstack_release(void);

/* Invoke entry of host functions: calls func->host_fn. */
int runtime_host_invoke(struct runtime_exec *exec, struct runtime_instance *caller,
                        struct runtime_func *func, uint64_t *cells);

#endif
