/* store.c: the store owns every runtime object (host functions, memories,
 * tables, globals, instances) and frees them all at once; it also interns
 * function signatures so call_indirect compares one integer. */
#include "runtime/runtime_internal.h"

#include <stdlib.h>
#include <string.h>

bool runtime_ptrs_push(struct runtime_ptrs *list, void *p)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        void **items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return false;
        list->items = items;
        list->cap = cap;
    }
    list->items[list->count++] = p;
    return true;
}

struct runtime_store *runtime_store_create(void)
{
    struct runtime_store *store = calloc(1, sizeof *store);
    if (!store)
        return NULL;
    if (pthread_mutex_init(&store->lock, NULL) != 0) {
        free(store);
        return NULL;
    }
    store->guard_pages = true;
    return store;
}

void runtime_store_destroy(struct runtime_store *store)
{
    if (!store)
        return;
    /* Instances first: a tier's instance_fini may still look at its objects. */
    for (size_t i = 0; i < store->instances.count; i++)
        runtime_instance_free(store->instances.items[i]);
    for (size_t i = 0; i < store->funcs.count; i++)
        free(store->funcs.items[i]);
    for (size_t i = 0; i < store->memories.count; i++)
        runtime_memory_free(store->memories.items[i]);
    for (size_t i = 0; i < store->tables.count; i++) {
        struct runtime_table *t = store->tables.items[i];
        free(t->elems);
        free(t);
    }
    for (size_t i = 0; i < store->globals.count; i++)
        free(store->globals.items[i]);
    free(store->instances.items);
    free(store->funcs.items);
    free(store->memories.items);
    free(store->tables.items);
    free(store->globals.items);
    for (uint32_t i = 0; i < store->type_count; i++)
        free(store->types[i].type.types);
    free(store->types);
    free(store->type_slots);
    struct runtime_reservation_chunk *c = atomic_load(&store->reservations);
    while (c) {
        struct runtime_reservation_chunk *next = atomic_load(&c->next);
        free(c);
        c = next;
    }
    pthread_mutex_destroy(&store->lock);
    free(store);
}

void runtime_store_set_guard_pages(struct runtime_store *store, bool guard_pages)
{
    pthread_mutex_lock(&store->lock);
    store->guard_pages = guard_pages;
    pthread_mutex_unlock(&store->lock);
}

static uint64_t functype_hash(const struct wasm_functype *t)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    uint32_t n = t->param_count + t->result_count;
    h = (h ^ t->param_count) * 1099511628211ull;
    h = (h ^ t->result_count) * 1099511628211ull;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ t->types[i]) * 1099511628211ull;
    return h;
}

/* Rebuilds the hash index at twice the size; caller holds the lock. */
static bool type_slots_grow(struct runtime_store *store)
{
    uint32_t n = store->type_slot_count ? store->type_slot_count * 2 : 64;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return false;
    for (uint32_t id = 0; id < store->type_count; id++) {
        uint32_t s = (uint32_t)store->types[id].hash & (n - 1);
        while (slots[s])
            s = (s + 1) & (n - 1);
        slots[s] = id + 1;
    }
    free(store->type_slots);
    store->type_slots = slots;
    store->type_slot_count = n;
    return true;
}

uint32_t runtime_store_type_id(struct runtime_store *store, const struct wasm_functype *type)
{
    uint64_t h = functype_hash(type);
    pthread_mutex_lock(&store->lock);
    uint32_t id = UINT32_MAX;
    if (store->type_slot_count) {
        uint32_t mask = store->type_slot_count - 1;
        for (uint32_t s = (uint32_t)h & mask; store->type_slots[s]; s = (s + 1) & mask) {
            struct runtime_type_entry *e = &store->types[store->type_slots[s] - 1];
            if (e->hash == h && wasm_functype_equal(&e->type, type)) {
                id = store->type_slots[s] - 1;
                goto out;
            }
        }
    }
    /* Keep the hash at most half full. */
    if ((store->type_count + 1) * 2 > store->type_slot_count && !type_slots_grow(store))
        goto out;
    if (store->type_count == store->type_cap) {
        uint32_t cap = store->type_cap ? store->type_cap * 2 : 32;
        struct runtime_type_entry *types = realloc(store->types, cap * sizeof *types);
        if (!types)
            goto out;
        store->types = types;
        store->type_cap = cap;
    }
    size_t n = (size_t)type->param_count + type->result_count;
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        goto out;
    if (n)
        memcpy(copy, type->types, n);
    id = store->type_count++;
    store->types[id] = (struct runtime_type_entry){
        .type = {.param_count = type->param_count, .result_count = type->result_count, .types = copy},
        .hash = h,
    };
    uint32_t mask = store->type_slot_count - 1;
    uint32_t s = (uint32_t)h & mask;
    while (store->type_slots[s])
        s = (s + 1) & mask;
    store->type_slots[s] = id + 1;
out:
    pthread_mutex_unlock(&store->lock);
    return id;
}

/* The interned copy of type id; stable while the store lives (entries are
 * copied when the array grows, so callers must not keep it across a grow:
 * we hand out the copy's types pointer, which never moves). */
static const struct wasm_functype *store_type(struct runtime_store *store, uint32_t id,
                                              struct wasm_functype *out)
{
    pthread_mutex_lock(&store->lock);
    *out = store->types[id].type;
    pthread_mutex_unlock(&store->lock);
    return out;
}

static uint32_t type_cells(const uint8_t *types, uint32_t n)
{
    uint32_t cells = 0;
    for (uint32_t i = 0; i < n; i++)
        cells += wasm_valtype_cells(types[i]);
    return cells;
}

int runtime_host_invoke(struct runtime_exec *exec, struct runtime_instance *caller,
                        struct runtime_func *func, uint64_t *cells)
{
    return func->host_fn(exec, caller, cells, func->host_data);
}

struct runtime_func *runtime_host_func_create(struct runtime_store *store,
                                              const struct wasm_functype *type,
                                              runtime_host_fn fn, void *host_data,
                                              const char *name)
{
    uint32_t id = runtime_store_type_id(store, type);
    if (id == UINT32_MAX)
        return NULL;
    /* One block: the function, its own copy of the signature and its name. */
    size_t name_len = name ? strlen(name) + 1 : 0;
    struct runtime_func *f = calloc(1, sizeof *f + sizeof(struct wasm_functype) + name_len);
    if (!f)
        return NULL;
    struct wasm_functype *t = (struct wasm_functype *)(f + 1);
    struct wasm_functype interned;
    *t = *store_type(store, id, &interned);
    f->type = t;
    f->type_id = id;
    f->param_cells = type_cells(t->types, t->param_count);
    f->result_cells = type_cells(t->types + t->param_count, t->result_count);
    f->invoke = runtime_host_invoke;
    f->index = UINT32_MAX;
    f->host_fn = fn;
    f->host_data = host_data;
    if (name) {
        char *copy = (char *)(t + 1);
        memcpy(copy, name, name_len);
        f->name = copy;
    }
    pthread_mutex_lock(&store->lock);
    bool ok = runtime_ptrs_push(&store->funcs, f);
    pthread_mutex_unlock(&store->lock);
    if (!ok) {
        free(f);
        return NULL;
    }
    return f;
}

bool runtime_store_add_reservation(struct runtime_store *store, uintptr_t lo, uintptr_t hi)
{
    pthread_mutex_lock(&store->lock);
    struct runtime_reservation_chunk *c = atomic_load(&store->reservations), *last = NULL;
    while (c && atomic_load(&c->count) == RUNTIME_RESERVATION_CHUNK) {
        last = c;
        c = atomic_load(&c->next);
    }
    bool ok = true;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c) {
            ok = false;
            goto out;
        }
    }
    uint32_t n = atomic_load(&c->count);
    c->lo[n] = lo;
    c->hi[n] = hi;
    atomic_store_explicit(&c->count, n + 1, memory_order_release);
    if (n == 0) { /* a new chunk: publish it after its first entry */
        if (last)
            atomic_store_explicit(&last->next, c, memory_order_release);
        else if (atomic_load(&store->reservations) != c)
            atomic_store_explicit(&store->reservations, c, memory_order_release);
    }
out:
    pthread_mutex_unlock(&store->lock);
    return ok;
}

bool runtime_store_owns_address(struct runtime_store *store, uintptr_t addr)
{
    if (!store)
        return false;
    for (struct runtime_reservation_chunk *c =
             atomic_load_explicit(&store->reservations, memory_order_acquire);
         c; c = atomic_load_explicit(&c->next, memory_order_acquire)) {
        uint32_t n = atomic_load_explicit(&c->count, memory_order_acquire);
        for (uint32_t i = 0; i < n; i++)
            if (addr >= c->lo[i] && addr < c->hi[i])
                return true;
    }
    return false;
}
