/* table.c: tables of references (funcref / externref), and table.init over
 * element segments, shared by instantiation and the tiers. */
#include "runtime/runtime_internal.h"

#include <stdlib.h>

struct runtime_table *runtime_table_create(struct runtime_store *store,
                                           const struct wasm_tabletype *type,
                                           struct fl_error *err)
{
    const struct wasm_limits *l = &type->limits;
    if (l->min > WASM_MAX_TABLE_SIZE) {
        fl_error_set(err, FL_ERR_LIMIT, "table: initial size %llu exceeds the limit of %u",
                     (unsigned long long)l->min, WASM_MAX_TABLE_SIZE);
        return NULL;
    }
    struct runtime_table *t = calloc(1, sizeof *t);
    if (!t || !(t->elems = calloc(l->min ? l->min : 1, sizeof *t->elems))) {
        free(t);
        fl_error_set(err, FL_ERR_NOMEM, "table: out of memory for %llu entries",
                     (unsigned long long)l->min);
        return NULL;
    }
    t->elem_type = type->elem_type;
    t->size = (uint32_t)l->min;
    t->has_max = l->has_max;
    t->max = l->has_max ? (l->max > UINT32_MAX ? UINT32_MAX : (uint32_t)l->max) : UINT32_MAX;
    pthread_mutex_lock(&store->lock);
    bool ok = runtime_ptrs_push(&store->tables, t);
    pthread_mutex_unlock(&store->lock);
    if (!ok) {
        free(t->elems);
        free(t);
        fl_error_set(err, FL_ERR_NOMEM, "table: out of memory");
        return NULL;
    }
    return t;
}

int64_t runtime_table_grow(struct runtime_table *table, uint32_t delta, uintptr_t init)
{
    uint32_t old = table->size;
    if (delta == 0)
        return old;
    uint64_t n = (uint64_t)old + delta;
    if (n > table->max || n > WASM_MAX_TABLE_SIZE)
        return -1;
    uintptr_t *elems = realloc(table->elems, n * sizeof *elems);
    if (!elems)
        return -1;
    for (uint64_t i = old; i < n; i++)
        elems[i] = init;
    table->elems = elems;
    table->size = (uint32_t)n;
    return old;
}

int runtime_table_init(struct runtime_instance *instance, uint32_t table_index,
                       uint32_t elem_index, uint64_t dst, uint64_t src, uint64_t n)
{
    struct runtime_table *table = instance->tables[table_index];
    const struct wasm_elem *seg = &instance->module->elems[elem_index];
    uint64_t seg_len = instance->elem_dropped[elem_index] ? 0 : seg->item_count;
    if (src > seg_len || n > seg_len - src || dst > table->size || n > table->size - dst)
        return RUNTIME_TRAP_TABLE_OUT_OF_BOUNDS;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t cells[2];
        runtime_const_eval(instance, &seg->items[src + i], cells);
        table->elems[dst + i] = (uintptr_t)cells[0];
    }
    return RUNTIME_OK;
}
