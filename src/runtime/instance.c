/* instance.c: instantiation (2.0 semantics): check imports, create the
 * module's functions, tables, memories and globals in the store, apply active
 * element then data segments one by one (earlier writes stay if a later one
 * is out of bounds), drop them, then run the start function. */
#include "runtime/runtime_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void runtime_instance_free(struct runtime_instance_impl *impl)
{
    struct runtime_instance *in = &impl->pub;
    if (impl->tier_initialised && impl->tier->instance_fini)
        impl->tier->instance_fini(in);
    free(impl->defined_funcs);
    free(in->funcs);
    free(in->tables);
    free(in->memories);
    free(in->globals);
    free(in->elem_dropped);
    free(in->data_dropped);
    free(impl);
}

static bool limits_match(uint64_t min, bool has_max, uint64_t max, const struct wasm_limits *want)
{
    if (min < want->min)
        return false;
    return !want->has_max || (has_max && max <= want->max);
}

/* Checks that import i's extern fits what the module declares. */
static int check_import(struct runtime_store *store, const struct wasm_module *module, uint32_t i,
                        const struct runtime_extern *ext, struct fl_error *err)
{
    const struct wasm_import *imp = &module->imports[i];
    bool ok = ext->kind == imp->kind;
    if (ok) {
        switch (imp->kind) {
        case WASM_EXTERN_FUNC: {
            const struct runtime_func *f = ext->as.func;
            const struct wasm_functype *want = wasm_module_func_type(module, imp->index);
            ok = f && f->type_id == runtime_store_type_id(store, want);
            break;
        }
        case WASM_EXTERN_TABLE: {
            const struct runtime_table *t = ext->as.table;
            const struct wasm_tabletype *want = &module->tables[imp->index].type;
            ok = t && t->elem_type == want->elem_type &&
                 limits_match(t->size, t->has_max, t->max, &want->limits);
            break;
        }
        case WASM_EXTERN_MEMORY: {
            const struct runtime_memory *m = ext->as.memory;
            const struct wasm_limits *want = &module->memories[imp->index].limits;
            ok = m && m->shared == want->shared &&
                 limits_match(atomic_load(&m->size) / WASM_PAGE_SIZE, m->has_max, m->max_pages,
                              want);
            break;
        }
        case WASM_EXTERN_GLOBAL: {
            const struct runtime_global *g = ext->as.global;
            const struct wasm_globaltype *want = &module->globals[imp->index].type;
            ok = g && g->type == want->type && g->is_mutable == want->is_mutable;
            break;
        }
        default:
            ok = false;
        }
    }
    if (!ok)
        return fl_error_set(err, FL_ERR_UNLINKABLE, "incompatible import type for %s.%s",
                            imp->module_name, imp->name);
    return FL_OK;
}

static uint32_t cells_of(const uint8_t *types, uint32_t n)
{
    uint32_t c = 0;
    for (uint32_t i = 0; i < n; i++)
        c += wasm_valtype_cells(types[i]);
    return c;
}

/* Allocates the instance and its arrays and registers it with the store. */
static struct runtime_instance_impl *instance_alloc(struct runtime_store *store,
                                                   const struct wasm_module *module)
{
    struct runtime_instance_impl *impl = calloc(1, sizeof *impl);
    if (!impl)
        return NULL;
    struct runtime_instance *in = &impl->pub;
    in->store = store;
    in->module = module;
    uint32_t defined = module->func_count - module->import_func_count;
    in->funcs = calloc(module->func_count + 1, sizeof *in->funcs);
    in->tables = calloc(module->table_count + 1, sizeof *in->tables);
    in->memories = calloc(module->memory_count + 1, sizeof *in->memories);
    in->globals = calloc(module->global_count + 1, sizeof *in->globals);
    in->elem_dropped = calloc(module->elem_count + 1, 1);
    in->data_dropped = calloc(module->data_count + 1, 1);
    impl->defined_funcs = calloc(defined + 1, sizeof *impl->defined_funcs);
    pthread_mutex_lock(&store->lock);
    bool pushed = in->funcs && in->tables && in->memories && in->globals && in->elem_dropped &&
                  in->data_dropped && impl->defined_funcs &&
                  runtime_ptrs_push(&store->instances, impl);
    pthread_mutex_unlock(&store->lock);
    if (!pushed) {
        runtime_instance_free(impl);
        return NULL;
    }
    return impl;
}

/* Creates the module's own functions, tables, memories and globals. */
static int create_objects(struct runtime_instance_impl *impl, const struct runtime_tier *tier,
                          void *tier_module, struct fl_error *err)
{
    struct runtime_instance *in = &impl->pub;
    struct runtime_store *store = in->store;
    const struct wasm_module *m = in->module;
    for (uint32_t i = m->import_func_count; i < m->func_count; i++) {
        if (!tier)
            return fl_error_set(err, FL_ERR_ARG, "instantiate: module defines functions but no tier was given");
        struct runtime_func *f = &impl->defined_funcs[i - m->import_func_count];
        const struct wasm_functype *t = &m->types[m->funcs[i].type_index];
        f->type = t;
        f->type_id = runtime_store_type_id(store, t);
        if (f->type_id == UINT32_MAX)
            return fl_error_set(err, FL_ERR_NOMEM, "instantiate: out of memory");
        f->param_cells = cells_of(t->types, t->param_count);
        f->result_cells = cells_of(t->types + t->param_count, t->result_count);
        f->invoke = tier->invoke;
        f->instance = in;
        f->index = i;
        f->code = tier->func_code(tier_module, i);
        f->name = m->funcs[i].name;
        in->funcs[i] = f;
    }
    for (uint32_t i = m->import_table_count; i < m->table_count; i++) {
        in->tables[i] = runtime_table_create(store, &m->tables[i].type, err);
        if (!in->tables[i])
            return fl_error_prefix(err, "table %u", i);
    }
    for (uint32_t i = m->import_memory_count; i < m->memory_count; i++) {
        in->memories[i] = runtime_memory_create(store, &m->memories[i].limits, err);
        if (!in->memories[i])
            return fl_error_prefix(err, "memory %u", i);
    }
    /* Initialisers may read imported globals (and, with extended constant
     * expressions, earlier ones), so create them in order. */
    for (uint32_t i = m->import_global_count; i < m->global_count; i++) {
        uint64_t cells[2];
        runtime_const_eval(in, &m->globals[i].init, cells);
        in->globals[i] = runtime_global_create(store, &m->globals[i].type, cells);
        if (!in->globals[i])
            return fl_error_set(err, FL_ERR_NOMEM, "global %u: out of memory", i);
    }
    return FL_OK;
}

int runtime_memory_init(struct runtime_instance *instance, uint32_t memory_index,
                        uint32_t data_index, uint64_t dst, uint64_t src, uint64_t n)
{
    struct runtime_memory *mem = instance->memories[memory_index];
    const struct wasm_data *seg = &instance->module->datas[data_index];
    uint64_t seg_len = instance->data_dropped[data_index] ? 0 : seg->size;
    if (src > seg_len || n > seg_len - src)
        return RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS;
    uint8_t *p = runtime_memory_ptr(mem, dst, n);
    if (!p)
        return RUNTIME_TRAP_MEMORY_OUT_OF_BOUNDS;
    if (n)
        memcpy(p, seg->bytes + src, n);
    return RUNTIME_OK;
}

/* Applies active segments in order and drops active and declarative ones. */
static int apply_segments(struct runtime_instance *in, struct fl_error *err)
{
    const struct wasm_module *m = in->module;
    for (uint32_t i = 0; i < m->elem_count; i++) {
        const struct wasm_elem *seg = &m->elems[i];
        if (seg->mode == WASM_SEGMENT_ACTIVE) {
            uint64_t off[2];
            runtime_const_eval(in, &seg->offset, off);
            int trap = runtime_table_init(in, seg->table_index, i, (uint32_t)off[0], 0,
                                          seg->item_count);
            if (trap)
                return fl_error_set(err, FL_ERR_UNINSTANTIABLE, "%s (elem segment %u)",
                                    runtime_trap_message(trap), i);
        }
        if (seg->mode != WASM_SEGMENT_PASSIVE)
            in->elem_dropped[i] = 1;
    }
    for (uint32_t i = 0; i < m->data_count; i++) {
        const struct wasm_data *seg = &m->datas[i];
        if (seg->mode != WASM_SEGMENT_ACTIVE)
            continue;
        uint64_t off[2];
        runtime_const_eval(in, &seg->offset, off);
        int trap = runtime_memory_init(in, seg->memory_index, i, (uint32_t)off[0], 0, seg->size);
        if (trap)
            return fl_error_set(err, FL_ERR_UNINSTANTIABLE, "%s (data segment %u)",
                                runtime_trap_message(trap), i);
        in->data_dropped[i] = 1;
    }
    return FL_OK;
}

static int run_start(struct runtime_instance *in, struct runtime_exec *exec, struct fl_error *err)
{
    const struct wasm_module *m = in->module;
    struct runtime_exec local;
    struct runtime_exec *e = exec;
    if (!e) {
        int rc = runtime_exec_init(&local, in->store, 0, err);
        if (rc)
            return rc;
        e = &local;
    }
    uint64_t cells[1] = {0};
    int trap = runtime_call(e, in->funcs[m->start_func], cells);
    int rc = FL_OK;
    if (trap) {
        char name[64];
        wasm_module_func_name(m, m->start_func, name, sizeof name);
        if (trap == RUNTIME_TRAP_HOST && e->trap_msg[0])
            rc = fl_error_set(err, FL_ERR_TRAP, "%s (start function %s)", e->trap_msg, name);
        else
            rc = fl_error_set(err, FL_ERR_TRAP, "%s (start function %s)",
                              runtime_trap_message(trap), name);
    }
    if (!exec)
        runtime_exec_fini(&local);
    return rc;
}

int runtime_instantiate(struct runtime_store *store, const struct wasm_module *module,
                        const struct runtime_extern *imports,
                        const struct runtime_tier *tier, void *tier_module,
                        struct runtime_exec *exec, struct runtime_instance **out,
                        struct fl_error *err)
{
    *out = NULL;
    if (module->import_count && !imports)
        return fl_error_set(err, FL_ERR_UNLINKABLE, "instantiate: module has %u imports, none given",
                            module->import_count);
    for (uint32_t i = 0; i < module->import_count; i++) {
        int rc = check_import(store, module, i, &imports[i], err);
        if (rc)
            return rc;
    }
    struct runtime_instance_impl *impl = instance_alloc(store, module);
    if (!impl)
        return fl_error_set(err, FL_ERR_NOMEM, "instantiate: out of memory");
    struct runtime_instance *in = &impl->pub;
    in->tier_module = tier_module;
    impl->tier = tier;
    for (uint32_t i = 0; i < module->import_count; i++) {
        const struct wasm_import *imp = &module->imports[i];
        switch (imp->kind) {
        case WASM_EXTERN_FUNC: in->funcs[imp->index] = imports[i].as.func; break;
        case WASM_EXTERN_TABLE: in->tables[imp->index] = imports[i].as.table; break;
        case WASM_EXTERN_MEMORY: in->memories[imp->index] = imports[i].as.memory; break;
        case WASM_EXTERN_GLOBAL: in->globals[imp->index] = imports[i].as.global; break;
        }
    }
    int rc = create_objects(impl, tier, tier_module, err);
    if (rc)
        return rc;
    if (tier && tier->instance_init) {
        rc = tier->instance_init(in, err);
        if (rc)
            return rc;
        impl->tier_initialised = true;
    }
    rc = apply_segments(in, err);
    if (rc)
        return rc;
    if (module->start_func != WASM_NO_INDEX) {
        rc = run_start(in, exec, err);
        if (rc)
            return rc;
    }
    *out = in;
    return FL_OK;
}

bool runtime_instance_export(struct runtime_instance *instance, const char *name,
                             struct runtime_extern *out)
{
    return runtime_instance_export_n(instance, name, strlen(name), out);
}

bool runtime_instance_export_n(struct runtime_instance *instance, const char *name, size_t len,
                               struct runtime_extern *out)
{
    const struct wasm_module *m = instance->module;
    for (uint32_t i = 0; i < m->export_count; i++) {
        const struct wasm_export *e = &m->exports[i];
        if (e->name_len != len || memcmp(e->name, name, len) != 0)
            continue;
        out->kind = e->kind;
        switch (e->kind) {
        case WASM_EXTERN_FUNC: out->as.func = instance->funcs[e->index]; break;
        case WASM_EXTERN_TABLE: out->as.table = instance->tables[e->index]; break;
        case WASM_EXTERN_MEMORY: out->as.memory = instance->memories[e->index]; break;
        case WASM_EXTERN_GLOBAL: out->as.global = instance->globals[e->index]; break;
        default: return false;
        }
        return true;
    }
    return false;
}
